import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildCharts } from '../../bench/report/workloads/index.ts'
import { computeFindings } from '../../bench/report/findings.ts'
import { fromLines } from '../../bench/report/verdict.ts'
import { renderHtml } from '../../bench/report/html.ts'
import { summarizeRounds } from '../../bench/summarize.ts'
import { fixtureResults } from '../fixtures/results.ts'
import type { ResultsFile } from '../../bench/contracts/results.ts'

/**
 * Every fixed sentence on the page earns its place: rendered from runs that differ exactly where a
 * caption or a note could go wrong, each page says what is true of its run and nothing that is not.
 */
const text = (r: ResultsFile) =>
  renderHtml(r, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
/** The first screen: everything up to the first section after the answer. */
const firstScreen = (r: ResultsFile) => {
  const html = renderHtml(r, '')
  return html
    .slice(html.indexOf('<section class="answer"'), html.indexOf('</section>'))
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&#39;/g, "'")
}

function withRedis(present: boolean): ResultsFile {
  const r = fixtureResults()
  const redis = r.cells.find((c) => c.id === 'session-redis')!
  if (!present) return r
  const sqlite = r.cells.find((c) => c.id === 'session-sqlite')!
  Object.assign(redis, structuredClone(sqlite), { id: 'session-redis', store: 'redis' })
  for (const round of redis.rounds) {
    round.storeCpuUsPerRequest = 12
    round.totalCpuUsPerRequest = round.cpuUsPerRequest + 12
  }
  redis.summary = summarizeRounds(redis.rounds)
  r.environment.redisServer = '7.0.15'
  return r
}

function micro(r: ResultsFile, quick: boolean): ResultsFile {
  const task = (id: string, cpuUs: number) => ({
    id,
    name: id,
    group: 'jwt-verify' as const,
    status: 'ok' as const,
    reason: null,
    opsPerSecond: 1e6 / cpuUs,
    meanUs: cpuUs,
    p99Us: cpuUs * 2,
    cpuUs,
    samples: 100,
  })
  r.micro = {
    environment: r.environment,
    quick,
    startedAt: r.startedAt,
    tasks: [task('parse:bearer', 0.5), task('verify:HS256:jose', 10), task('parse:cookie', 0.4), task('store-read:sqlite', 5)],
  }
  return r
}

describe('the report says what is true of its run', () => {
  test(
    'Redis skipped: the first screen says the shared-store configuration was not measured, and how to measure it; no Redis ' +
      'CPU is said to be stacked',
    () => {
      const r = withRedis(false)
      const first = firstScreen(r)
      assert.match(first, /Not measured in this run/)
      assert.match(
        first,
        /a session store in another process, reached over a socket .*every session measured kept its store in the server's own process/,
      )
      assert.match(first, /npm run setup \(installs redis-server\), then npm run bench/)
      assert.match(first, /session-redis\): skipped: redis-server is not on PATH/)
      const page = text(r)
      assert.doesNotMatch(page, /Redis's own CPU from INFO cpu|Purple on top/)
      assert.match(page, /no store process ran/)
      assert.doesNotMatch(page, /folklore|contrary to|as the folklore says/i)
    },
  )

  test('Redis present: its CPU is counted with the session\'s and stacked in the chart; the shared-store line leaves "not measured"', () => {
    const r = withRedis(true)
    const found = computeFindings(r)
    assert.equal(
      found.notMeasured.some((m) => /another process, reached over a socket/.test(m.what)),
      false,
    )
    const vsRedis = found.findings.find((f) => f.id === 'cpu-jwt-HS256-jose-sqlite-vs-session-redis')!
    assert.deepEqual(vsRedis.scope, { store: 'same-host', storeRttMs: 0, instances: 1, route: 'GET /me', loop: 'closed' })
    // Per round (72/20)/((30+12)/20) = 1.71...: the store process's CPU is on the session's side.
    assert.equal(Math.round(vsRedis.ratio! * 100) / 100, 1.71)
    assert.match(
      vsRedis.sentence,
      /a redis session \(store in another process on this machine, over a socket\), the store process's CPU counted/,
    )
    const page = text(r)
    assert.match(page, /Store CPU: the store process's own CPU over the same window \(Redis: INFO cpu/)
    assert.match(buildCharts(r).find((c) => c.id === 'cpu')!.caption, /Purple on top/)
  })

  test('the methodology states what this run did: its spread computed, its pinning and its repeats as they were', () => {
    const r = fixtureResults()
    const page = text(r)
    // The baseline's windows: 30,000, 28,000 and 29,000 requests/s at 20, 22 and 21 µs.
    assert.match(page, /its requests\/s ranged 1\.07x lowest to highest while its CPU per request ranged 1\.10x, the less steady/)
    assert.doesNotMatch(page, /the steadier figures/)
    // Only SQLite and memory sessions ran (the Redis cell was skipped): nothing is said to be pinned beside the load generator.
    assert.match(page, /load generator pinned to CPU 0, servers to CPU 1/)
    assert.doesNotMatch(page, /Redis (pinned|not installed)/)
    r.cells.find((c) => c.id === 'session-redis')!.status = 'ok'
    r.environment.redisServer = '7.0.15'
    assert.match(text(r), /Redis 7\.0\.15 installed; load generator and Redis pinned to CPU 0/)
    assert.match(page, /one more baseline window after it were measured again \(its new bracket is the earlier after-window/)
    assert.doesNotMatch(page, /fresh bracket|reads high/)
  })

  test('pinned and unpinned: the cores are said to be shared only when they were', () => {
    const pinned = text(fixtureResults())
    assert.match(pinned, /the load generator ran on CPU 0 and the servers on CPU 1/)
    assert.doesNotMatch(pinned, /shared every CPU/)
    const r = fixtureResults()
    r.environment.cpuAffinity = null
    const unpinned = text(r)
    assert.match(unpinned, /the load generator and the servers shared every CPU/)
    assert.match(unpinned, /processes not pinned to CPUs/)
    // The machine as counted: logical CPUs, not sockets.
    assert.match(unpinned, /2 logical CPUs \(Test CPU\)/)
    assert.doesNotMatch(unpinned, /2 × Test CPU/)
  })

  test('quick and full micro-benchmarks: quick mode is said; a negative remainder is not explained away', () => {
    assert.match(text(micro(fixtureResults(), true)), /quick mode: a short time budget per task/)
    const full = text(micro(fixtureResults(), false))
    assert.doesNotMatch(full, /quick mode/)
    assert.doesNotMatch(full, /thread pool\)\.|overlaps on the thread pool/)
    assert.match(full, /Unexplained by the primitives \(more than 50% of the overhead and more than 5 µs/)
    // The JWT cell: baseline 21 µs + overhead 52 µs is 73 µs against its measured 72 µs: said, not written as an identity.
    assert.match(full, /differs from its measured median by more than 0\.5 µs for jwt-HS256-jose-sqlite \(73\.0 vs 72\.0 µs\)/)
    // Its remainder, 41.5 µs, is a finding only while the overhead's low end (48 µs) less its primitives (10.5 µs) stays above 5 µs.
    assert.match(full, /even at the low end of the overhead's interval\): jwt-HS256-jose-sqlite spends 41\.5 µs per request/)
    const wide = micro(fixtureResults(), false)
    wide.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.summary!.overheadUs!.ci95 = [14, 54]
    assert.doesNotMatch(text(wide), /Unexplained by the primitives/)
  })

  test('one instance and several: "several instances" is not measured only where no cell had more than one', () => {
    const several = computeFindings(fixtureResults())
    assert.equal(
      several.notMeasured.some((m) => /several server instances/.test(m.what)),
      false,
    )
    const r = fixtureResults()
    r.cells = r.cells.filter((c) => c.instances === 1)
    const one = computeFindings(r)
    assert.deepEqual(
      one.notMeasured.find((m) => /several server instances/.test(m.what)),
      {
        what: 'several server instances sharing one store',
        why: 'every cell ran one instance',
        command: 'npm run bench -- scenarios/scaling.ts',
      },
    )
    assert.equal(
      one.answer.some((a) => a.question === 'instances'),
      false,
    )
  })

  test("a client-bound window is counted as a window, of all the cell's windows", () => {
    const r = fixtureResults()
    const base = r.cells[0]!
    base.rounds[1]!.clientBound = true
    base.rounds[1]!.serverBusyShare = 0.7
    base.summary = summarizeRounds(base.rounds)
    const page = text(r)
    assert.match(page, /\(1 of 3 windows client-bound\)/)
    assert.doesNotMatch(page, /1 round client-bound/)
  })

  test("the interval's coverage is given per cell, by its own number of windows", () => {
    const r = fixtureResults()
    const base = r.cells[0]!
    base.rounds = [...base.rounds, ...base.rounds.map((x) => ({ ...x, slot: 2 })), ...base.rounds.map((x) => ({ ...x, slot: 4 }))]
    base.summary = summarizeRounds(base.rounds)
    const caption = buildCharts(r).find((c) => c.id === 'rps')!.caption
    assert.match(caption, /3 windows, coverage 75\.0%: session-sqlite, jwt-HS256-jose-sqlite/)
    assert.match(caption, /1 window \(no interval\): session-memory-x2/)
    assert.match(caption, /9 windows, coverage 99\.6%: none \(the baseline: every bracketing window\)/)
    assert.match(buildCharts(r).find((c) => c.id === 'ratios')!.caption, /mean of the two baseline windows around it/)
  })
})

describe('the stores a run used are stated with their settings', () => {
  test('a PostgreSQL the harness started: every setting and why; one the user runs: no settings claimed', () => {
    const r = fixtureResults()
    r.environment.stores = [
      {
        kind: 'postgres',
        description: 'started a private PostgreSQL on postgres://postgres@127.0.0.1:5555/postgres',
        settings: {
          fsync: { value: 'off', why: 'no flush to disk' },
          synchronous_commit: { value: 'off', why: 'a commit does not wait for its WAL flush' },
        },
      },
      { kind: 'redis', description: 'using Redis at redis://10.0.0.9:6379', settings: null },
    ]
    // A PostgreSQL session whose GET windows wrote nothing: durability did not enter their cost; one that wrote: it did.
    const pg = structuredClone(r.cells.find((c) => c.id === 'session-sqlite')!)
    Object.assign(pg, { id: 'session-postgres', store: 'postgres' })
    r.cells.push(pg)
    const page = text(r)
    const settings =
      'Store postgres: started a private PostgreSQL on postgres://postgres@127.0.0.1:5555/postgres; settings: fsync=off (no flush to disk), ' +
      "synchronous_commit=off (a commit does not wait for its WAL flush). A production server keeps durability on; this run's windows " +
      'wrote nothing to this store, so these settings did not enter their cost.'
    assert.ok(page.includes(settings), settings)
    pg.rounds[2]!.storeOpsPerRequest.writes = 0.25
    assert.match(
      text(r),
      /this run's windows wrote to this store \(up to 0\.250 writes per request in a window\), so what those writes cost/,
    )
    assert.match(page, /Store redis: using Redis at redis:\/\/10\.0\.0\.9:6379/)
    assert.doesNotMatch(page, /Store redis: using Redis at redis:\/\/10\.0\.0\.9:6379; settings/)
  })
})

describe('a fact names the cells it is about', () => {
  test('by their whole ids: a cell is not named by a longer id that starts with it', () => {
    const r = fixtureResults()
    const twin = structuredClone(r.cells.find((c) => c.id === 'session-sqlite')!)
    r.cells.push({ ...twin, id: 'session-sqlite-rtt1ms', storeRttMs: 1 })
    const [near, far] = fromLines(
      r,
      'distance',
      [
        { text: 'session-sqlite: its p50 grew by nothing.', figures: 'twin of session-sqlite-rtt1ms' },
        { text: 'session-sqlite-rtt1ms: its p50 grew by 1.1 ms.', figures: '' },
      ],
      'open',
    )
    assert.deepEqual(near!.cells, ['session-sqlite', 'session-sqlite-rtt1ms'])
    assert.deepEqual(far!.cells, ['session-sqlite-rtt1ms'])
  })
})
