import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as hdr from 'hdr-histogram-js'
import { measureRound } from '../../bench/collect.ts'
import type { Driver } from '../../bench/drive/closed.ts'
import type { LoadResult } from '../../bench/drive/closed.ts'
import { describeEnvironment } from '../../bench/environment.ts'
import { expandPlan } from '../../bench/plan.ts'
import { reduceRun } from '../../bench/reduce.ts'
import { newHistogram } from '../../common/histogram.ts'
import type { StatsSnapshot } from '../../servers/metrics.ts'
import type { RoundMeasurement } from '../../bench/contracts/results.ts'
import type { RunEvent } from '../../bench/contracts/events.ts'
import { validateScenario } from '../../bench/contracts/scenario.ts'

function snapshot(requests: number, reads: number, cpuUs: number, timesUs: number[]): StatsSnapshot {
  const h = newHistogram()
  for (const t of timesUs) h.recordValue(t)
  return {
    requests,
    inFlight: 0,
    failed: 0,
    setCookies: 0,
    reads,
    writes: 0,
    deletes: 0,
    purges: 0,
    cpuUs,
    rssBytes: 1000 + requests,
    requestTimeUs: { count: h.totalCount, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 },
    requestTimeHistogram: hdr.encodeIntoCompressedBase64(h),
    sqlTrace: null,
  }
}

/** A server handle that answers scripted snapshots, in order, at each window edge (a read without reset, the harness waiting for quiet, sees the next one). */
function fakeServer(port: number, snapshots: StatsSnapshot[]) {
  return { url: `http://127.0.0.1:${port}`, stats: async (reset: boolean) => (reset ? snapshots.shift()! : snapshots[0]!) }
}

const load: LoadResult = {
  requests: 3000,
  durationSeconds: 1,
  rps: 3000,
  latencyMs: { p50: 1, p90: 1, p99: 2, max: 5 },
  statusCounts: { 200: 3000 },
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  responseBytes: 3000 * 150,
}

describe('one measured round over two instances', () => {
  test('counters, CPU and histograms are summed over every instance', async () => {
    const a = fakeServer(1001, [snapshot(100, 100, 5_000, []), snapshot(1100, 1100, 35_000, [10, 20])])
    const b = fakeServer(1002, [snapshot(50, 50, 2_000, []), snapshot(2050, 2050, 52_000, [30, 40, 50])])
    const windows: number[] = []
    const driver: Driver = async (urls, _requests, _c, seconds) => {
      assert.deepEqual(urls, ['http://127.0.0.1:1001', 'http://127.0.0.1:1002'])
      windows.push(seconds)
      return load
    }
    const requests = [{ method: 'GET' as const, path: '/me', headers: { cookie: 'sid=x' } }]
    const store = [3_000_000, 3_030_000]
    const r = await measureRound(
      {
        servers: [a, b],
        targets: [a.url, b.url],
        requests,
        counts: async () => null,
        storeCpuUs: async () => store.shift()!,
        serverCpuCount: 1,
      },
      { round: 2, slot: 3, warmup: false },
      { connections: 10, durationSeconds: 1, warmupSeconds: 1, rounds: 3, mode: 'closed', arrivals: 'constant', drivers: 1 },
      undefined,
      driver,
    )
    assert.deepEqual(windows, [1]) // not the cell's first window: no warm-up
    assert.deepEqual([r.round, r.slot], [2, 3])
    assert.equal(r.requests, 3000)
    assert.equal(r.cpuUsPerRequest, (30_000 + 50_000) / 3000)
    assert.deepEqual(r.storeOpsPerRequest, { reads: 1, writes: 0, deletes: 0 })
    assert.equal(r.serverTimeUs.max, 50)
    assert.equal(r.serverTimeUs.p50, 30)
    assert.equal(r.rssBytes, 3050)
    assert.equal(r.redisCommandsPerRequest, null)
    assert.equal(r.storeCpuUsPerRequest, 10)
    assert.equal(r.totalCpuUsPerRequest, (80_000 + 30_000) / 3000)
    // 80 ms of server CPU in a 1 s window on the servers' one CPU: far from saturated.
    assert.equal(r.serverBusyShare, 0.08)
    assert.equal(r.clientBound, true)
  })
})

describe('the reducer', () => {
  const scenario = validateScenario(
    {
      name: 'r',
      description: 'd',
      cells: [{ strategy: 'none' }, { strategy: 'session' }],
      workload: { route: 'GET /me' },
      load: { rounds: 3 },
    },
    'r.json',
  )
  const { cells: plans } = expandPlan(scenario, 'r.json')
  const m = (round: number, cpu: number, rps: number, slot = 0): RoundMeasurement => ({
    round,
    slot,
    requests: rps,
    durationSeconds: 1,
    rps,
    latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
    serverTimeUs: { p50: 1, p90: 1, p99: 1, max: 1, mean: 1 },
    cpuUsPerRequest: cpu,
    storeOpsPerRequest: { reads: 1, writes: 0, deletes: 0 },
    redisCommandsPerRequest: null,
    storeCpuUsPerRequest: null,
    totalCpuUsPerRequest: cpu,
    serverBusyShare: 0.95,
    clientBound: false,
    bytesPerRequest: { request: 100, response: 100 },
    statusCounts: { 200: rps },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    status401Share: 0,
    rssBytes: 1,
  })
  const record = (events: RunEvent[]) =>
    reduceRun({
      scenario,
      file: 'r.json',
      smoke: false,
      plans,
      baseline: 'none',
      events,
      environment: describeEnvironment(),
      startedAt: 'a',
      finishedAt: 'b',
      micro: null,
      seed: 42,
    })
  const measured = (cell: string, round: number, slot: number, cpu: number, problem: string | null = null): RunEvent => ({
    type: 'round-measured',
    cell,
    round,
    slot,
    measurement: m(round, cpu, 1000, slot),
    problem,
  })

  test('ratios come from the valid baseline windows around each window only; nothing is patched in', () => {
    const events: RunEvent[] = [
      measured('none', 1, 0, 20),
      measured('session-sqlite', 1, 1, 30),
      measured('none', 1, 2, 20),
      measured('none', 2, 0, 10, 'round 2: non-2xx answers: 5 x 503'),
      { type: 'cell-invalid', cell: 'none', round: 2, status: 'invalid', reason: 'round 2: non-2xx answers: 5 x 503' },
      measured('session-sqlite', 2, 1, 40),
      measured('session-sqlite', 3, 0, 36),
      { type: 'run-finished', interrupted: false },
    ]
    const before = JSON.stringify(events)
    const results = record(events)
    assert.equal(JSON.stringify(events), before)
    const [none, session] = results.cells
    assert.deepEqual([none!.status, none!.reason], ['invalid', 'round 2: non-2xx answers: 5 x 503'])
    assert.deepEqual(
      session!.rounds.map((r) => r.ratioToBaseline?.cpu ?? null),
      [1.5, null, null],
    )
    assert.equal(session!.summary!.ratioToBaseline.cpu, 1.5)
    assert.equal(session!.summary!.cpuUsPerRequest.median, 36)
    assert.equal(session!.status, 'ok')
    assert.deepEqual(
      none!.rounds.map((r) => r.ratioToBaseline?.cpu ?? null),
      [1, 1, null],
    )
    assert.deepEqual(results.noiseControl, {
      method: 'bracketed',
      seed: 42,
      bracketTolerance: 0.15,
      maxRepeats: 2,
      repeats: 0,
      bracketSpread: { median: 0, max: 0 },
      orders: [],
    })
  })

  test('a window measured again because its brackets disagreed: the last one counts, against its own brackets', () => {
    const results = record([
      { type: 'round-order', round: 1, order: ['session-sqlite'] },
      measured('none', 1, 0, 20),
      measured('session-sqlite', 1, 1, 50),
      measured('none', 1, 2, 30),
      { type: 'window-repeated', cell: 'session-sqlite', round: 1, slot: 1, spread: 0.4, reason: 'its two baseline windows differ by 40%' },
      measured('session-sqlite', 1, 3, 36),
      measured('none', 1, 4, 28),
      { type: 'run-finished', interrupted: false },
    ])
    const session = results.cells[1]!
    assert.equal(session.rounds.length, 1)
    assert.equal(session.rounds[0]!.ratioToBaseline!.cpu, 36 / 29)
    assert.deepEqual(session.rounds[0]!.bracket, { beforeCpuUs: 30, afterCpuUs: 28, spread: 2 / 29, repeats: 1 })
    // The window set aside is reported with its own bracket, not dropped.
    assert.deepEqual(session.rounds[0]!.repeatedWindows, [
      { slot: 1, cpuUsPerRequest: 50, rps: session.rounds[0]!.rps, ratioCpu: 2, bracketSpread: 0.4 },
    ])
    assert.equal(results.noiseControl.repeats, 1)
    assert.deepEqual(results.noiseControl.orders, [['session-sqlite']])
  })

  test('an interrupted run marks the cells it did not finish, with how far they got', () => {
    const results = record([
      { type: 'round-measured', cell: 'none', round: 1, slot: 0, measurement: m(1, 20, 1000), problem: null },
      { type: 'run-finished', interrupted: true },
    ])
    assert.equal(results.interrupted, true)
    assert.deepEqual(
      results.cells.map((c) => [c.status, c.reason]),
      [
        ['skipped', 'interrupted after 1 of 3 rounds'],
        ['skipped', 'interrupted after 0 of 3 rounds'],
      ],
    )
  })

  test("a cell's instruction count joins its summary; one not counted is null, with the reason in its note", () => {
    const count = {
      mean: 70_967,
      low: 70_500,
      high: 71_400,
      perBatch: [70_500, 71_000, 71_400],
      warmupRequests: 6000,
      batchRequests: 500,
      seconds: 80,
    }
    const results = reduceRun({
      scenario: { ...scenario, measure: { instructions: true } },
      file: 'r.json',
      smoke: false,
      plans,
      baseline: 'none',
      environment: describeEnvironment(),
      startedAt: 'a',
      finishedAt: 'b',
      micro: null,
      seed: 42,
      events: [
        ...[1, 2, 3].flatMap((round) => [
          measured('none', round, 0, 20),
          measured('session-sqlite', round, 1, 30),
          measured('none', round, 2, 20),
        ]),
        { type: 'instructions-counted', cell: 'none', count },
        { type: 'instructions-failed', cell: 'session-sqlite', reason: 'valgrind is not installed' },
        { type: 'run-finished', interrupted: false },
      ],
    })
    const [none, session] = results.cells
    assert.deepEqual(none!.summary!.instructionsPerRequest, count)
    assert.equal(session!.summary!.instructionsPerRequest, null)
    assert.equal(session!.note, 'instructions not counted: valgrind is not installed')
    // Not asked: the field stays out of the summary.
    assert.equal(
      'instructionsPerRequest' in record([measured('none', 1, 0, 20), { type: 'run-finished', interrupted: false }]).cells[0]!.summary!,
      false,
    )
  })
})

describe('renewal bursts', () => {
  test('a window holding session renewals says so in the cell note', () => {
    const scenario = validateScenario(
      { name: 'r', description: 'd', cells: [{ strategy: 'session' }], workload: { route: 'GET /me' }, load: { rounds: 2 } },
      'r.json',
    )
    const { cells: plans } = expandPlan(scenario, 'r.json')
    const m = (round: number, writes: number): RoundMeasurement => ({
      round,
      slot: 0,
      requests: 10_000,
      durationSeconds: 1,
      rps: 10_000,
      latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
      serverTimeUs: { p50: 1, p90: 1, p99: 1, max: 1, mean: 1 },
      cpuUsPerRequest: 30,
      storeOpsPerRequest: { reads: 1, writes, deletes: 0 },
      redisCommandsPerRequest: null,
      storeCpuUsPerRequest: null,
      totalCpuUsPerRequest: 30,
      serverBusyShare: 0.95,
      clientBound: false,
      bytesPerRequest: { request: 100, response: 100 },
      statusCounts: { 200: 10_000 },
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      status401Share: 0,
      rssBytes: 1,
    })
    const results = reduceRun({
      scenario,
      file: 'r.json',
      smoke: false,
      plans,
      baseline: 'session-sqlite',
      environment: describeEnvironment(),
      startedAt: 'a',
      finishedAt: 'b',
      micro: null,
      seed: 1,
      events: [
        { type: 'round-measured', cell: 'session-sqlite', round: 1, slot: 0, measurement: m(1, 0), problem: null },
        { type: 'round-measured', cell: 'session-sqlite', round: 2, slot: 0, measurement: m(2, 0.1), problem: null },
        { type: 'run-finished', interrupted: false },
      ],
    })
    assert.match(results.cells[0]!.note!, /^session renewals: 1000 writes in round 2 \(sessions logged in together/)
  })
})
