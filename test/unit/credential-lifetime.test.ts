import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildCharts } from '../../bench/report/workloads/index.ts'
import { renderHtml } from '../../bench/report/html.ts'
import { breakEvenTtl, breakEvens, fitInverse, lifecycleFindings, lifecycleLines } from '../../bench/report/credential-lifetime.ts'
import { summaryTable } from '../../bench/report/workloads/index.ts'
import { lifecycleResults } from '../fixtures/results.ts'

describe('the lifecycle report', () => {
  test('fitting a + b / TTL recovers a known curve; the break-even lifetime is b / (S - a), none when the lines never meet', () => {
    const fit = fitInverse([4, 8, 16].map((x) => ({ x, y: 30 + 480 / x })))!
    assert.ok(Math.abs(fit.a - 30) < 1e-9 && Math.abs(fit.b - 480) < 1e-9, JSON.stringify(fit))
    assert.ok(Math.abs(breakEvenTtl(fit, 450)! - 480 / 420) < 1e-9)
    assert.equal(breakEvenTtl(fit, 20), null)
    assert.equal(fitInverse([{ x: 4, y: 1 }]), null)
  })

  test('lines group cells that differ only in lifetime; sessions are flat', () => {
    const lines = lifecycleLines(lifecycleResults())
    assert.deepEqual(
      lines.map((l) => [l.key, l.flat, l.cells.map((c) => c.accessTtlSeconds)]),
      [
        ['session-sqlite', true, [null]],
        ['jwt-HS256-fast-jwt-sqlite', false, [4, 8, 16]],
        ['cookie', false, [8]],
      ],
    )
  })

  test('findings: break-even from the figures, lags against their prediction, races', () => {
    const r = lifecycleResults()
    const be = breakEvens(r)
    assert.equal(be.length, 1)
    const breakEven =
      'once its access token lives longer than 1.1 s (below the shortest lifetime measured (4 s), by the fitted curve), ' +
      'that is beyond about 2.3 requests per token lifetime'
    assert.ok(be[0]!.text.includes(breakEven), be[0]!.text)
    const texts = lifecycleFindings(r).map((f) => f.text)
    assert.ok(
      texts.includes(
        'session-sqlite: a logged-out credential was refused at once: revocation lag p50 0.02 ms, p99 0.05 ms over 100 logouts (under 50 ms).',
      ),
      texts.join('\n'),
    )
    assert.ok(
      texts.some((t) =>
        t.startsWith(
          'jwt-HS256-fast-jwt-sqlite-ttl8s: a logged-out credential kept working for 4.00 s at the median (p99 7.92 s) with a 8 ' +
            's lifetime: 0.0% above the 4.00 s its remaining lifetime predicts, 0.0% above TTL/2.',
        ),
      ),
      texts.join('\n'),
    )
    assert.ok(
      texts.some((t) => t.startsWith('cookie-ttl8s: a logged-out credential kept working for 7.00 s at the median')),
      texts.join('\n'),
    )
    assert.ok(
      texts.includes(
        'jwt-HS256-fast-jwt-sqlite-ttl4s: of 20 refreshes sent by two tabs at once, 20 (100.0%) ended with the family revoked ' +
          'and the user logged out: reuse detection without a grace window reads a race as theft.',
      ),
      texts.join('\n'),
    )
  })

  test('the lag on every instance is set beside the configured TTL of the cache that causes it, from the figures', () => {
    const r = lifecycleResults()
    const session = r.cells.find((c) => c.id === 'session-sqlite')!
    const lag = (p50: number, max: number, refusedAtFirst: number) => ({
      p50,
      p99: max,
      max,
      samples: 24,
      refusedAtFirst,
      censored: 0,
      instances: 2,
      probeIntervalMs: 20,
    })
    const cached = structuredClone(session)
    Object.assign(cached, {
      id: 'session-redis-scache1000-t2s-x2',
      store: 'redis',
      instances: 2,
      sessionCache: { entries: 1000, ttlSeconds: 2 },
    })
    cached.lifecycle!.everyInstanceLagMs = lag(800, 1900, 4)
    const jwt = structuredClone(session)
    Object.assign(jwt, {
      id: 'jwt-ES256-fast-jwt-cache1000-redis-denylist-x2',
      strategy: 'jwt',
      alg: 'ES256',
      engine: 'fast-jwt',
      verifyCache: 1000,
      revocation: 'denylist',
      instances: 2,
    })
    jwt.lifecycle!.everyInstanceLagMs = lag(0.2, 3, 24)
    r.cells = [cached, jwt]
    const texts = lifecycleFindings(r).map((f) => f.text)
    assert.ok(
      texts.includes(
        'session-redis-scache1000-t2s-x2, with a 1000-entry session cache: a logged-out copy was refused by every one of its 2 ' +
          'instances after 0.80 s at the median (p99 1.90 s, max 1.90 s), against its configured 2 s TTL: the longest lag is 95.0% ' +
          "of the TTL and the median 40.0% (an entry's age at the logout is anywhere from 0 to the TTL, so its remaining time " +
          'averages half of it; an entry is served until its TTL from the read that filled it; a logout evicts on its own instance only).',
      ),
      texts.join('\n'),
    )
    assert.ok(
      texts.includes(
        'jwt-ES256-fast-jwt-cache1000-redis-denylist-x2, with a 1000-entry verify cache: 24 of 24 logged-out copies were ' +
          'refused by every one of its 2 instances the first time (max 3.00 ms after the logout): the cache added no lag (the ' +
          'denylist is read after the cached verify).',
      ),
      texts.join('\n'),
    )
  })

  test('charts: store operations, writes and lag against the lifetime; the page carries the section, the table and no closed-loop parts', () => {
    const r = lifecycleResults()
    const charts = buildCharts(r)
    assert.deepEqual(
      charts.map((c) => c.id),
      ['lifecycle-store-ops', 'lifecycle-store-writes', 'lifecycle-lag'],
    )
    const ops = charts[0]!.config.data.datasets as { label: string; data: { x: number; y: number }[] }[]
    assert.deepEqual(ops.find((d) => d.label.startsWith('session-sqlite'))!.data, [
      { x: 4, y: 450 },
      { x: 16, y: 450 },
    ])
    assert.deepEqual(ops.find((d) => d.label === 'jwt-HS256-fast-jwt-sqlite')!.data, [
      { x: 4, y: 150 },
      { x: 8, y: 90 },
      { x: 16, y: 60 },
    ])
    const html = renderHtml(r, '/* chart.js */', charts)
    assert.match(html, /<h2>Token lifecycle<\/h2>/)
    assert.match(html, /Time is compressed\./)
    assert.match(html, /<td>jwt-HS256-fast-jwt-sqlite-ttl4s<\/td>/)
    assert.doesNotMatch(html, /Where the CPU goes/)
    const text = summaryTable(r)
    assert.match(text, /lag p50\/p99 ms \(expected p50\)/)
    assert.match(text, /jwt-HS256-fast-jwt-sqlite-ttl4s .* 20\/20 /)
  })
})
