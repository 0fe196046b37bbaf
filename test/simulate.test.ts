import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimulationInputError } from '../bench/contracts/errors.ts'
import { calibrate } from '../bench/sim/calibrate.ts'
import { checkOptions, DEFAULT_INSTANCES, DEFAULT_RTT_MS, runSimulation } from '../bench/sim/index.ts'
import type { Simulation } from '../bench/sim/simulation.ts'
import { crossover, fleetRow, DEFAULT_MODEL } from '../bench/sim/model.ts'
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { newHistogram } from '../common/histogram.ts'
import { fitTimeInServer, fleetP99, floorModel, roundsThatMeasured, type ValidationRow } from '../bench/sim/latency.ts'
import { renderSimulationHtml } from '../bench/sim/page.ts'
import { renderHtml } from '../bench/report/html.ts'
import { fixtureResults, lifecycleResults, openLoopResults, round, wakeResults } from './fixtures/results.ts'
import { summarizeRounds } from '../bench/summarize.ts'
import { expectedOps } from '../bench/expected.ts'
import { predictFaults, type FaultPrediction } from '../bench/sim/faults.ts'
import { recoveryOf } from '../bench/recovery.ts'
import type { TimelinePoint } from '../bench/contracts/results.ts'

const close = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} is not within ${rel * 100}% of ${expected}`)

test('calibration: service mean from the closed-loop CPU, shape from the low-load server time, Redis CPU per operation', () => {
  const { cells, skipped } = calibrate(openLoopResults())
  assert.deepEqual(skipped, [])
  const redis = cells.find((c) => c.cell === 'session-redis')!
  assert.equal(redis.serviceTimeUs.mean.toFixed(6), '50.000000')
  // Server time p50 100 µs of a mean of 120, scaled to a mean of 50.
  close(redis.serviceTimeUs.p50, (100 * 50) / 120, 0.01, 'p50')
  close(redis.serviceTimeUs.p99, (400 * 50) / 120, 0.02, 'p99')
  assert.equal(redis.storeCpuUsPerOp, 10)
  assert.equal(redis.storeOpsPerRequest, 1)
  assert.equal(redis.networkStore, true)
  assert.equal(redis.lowLoad!.rate, 1000)
  assert.equal(redis.bytesPerRequest, 280)
  const sqlite = cells.find((c) => c.cell === 'session-sqlite')!
  assert.equal(sqlite.networkStore, false)
  assert.equal(sqlite.storeCpuUsPerOp, null)
})

test('calibration on GET /profile: the users-table read (SQLite) is not a Redis operation', () => {
  for (const withRedisCounts of [true, false]) {
    const results = openLoopResults()
    const redis = results.cells.find((c) => c.id === 'session-redis')!
    // One Redis read and one users-table read per request, 10 µs of Redis CPU per request.
    const rounds = [1, 2, 3].map((n) =>
      round(n, 50, 20_000, 2, {
        storeCpuUsPerRequest: 10,
        redisCommandsPerRequest: withRedisCounts ? { reads: 1, writes: 0, deletes: 0, total: 1 } : null,
      }),
    )
    Object.assign(redis, {
      workload: 'GET /profile',
      rounds,
      summary: summarizeRounds(rounds),
      expected: { ops: expectedOps({ ...redis, workload: 'GET /profile' }), status401Share: 0 },
    })
    const c = calibrate(results).cells.find((x) => x.cell === 'session-redis')!
    assert.equal(c.storeOpsPerRequest, 1, `with Redis's own counts: ${withRedisCounts}`)
    assert.equal(c.storeCpuUsPerOp, 10)
    assert.equal(c.userTableReads, 1)
    assert.match(crossover(c).text, /\(its 1 users-table read per request, SQLite's, is outside the model\)/)
  }
})

test('calibration figures measured at light load are flagged: a nearly idle Redis, a lowest rate that is not low load', () => {
  const results = openLoopResults()
  // Redis 10 µs per request at 20,000 req/s: 20% busy, not light.
  const busy = calibrate(results).cells.find((x) => x.cell === 'session-redis')!
  close(busy.storeBusyShare!, 0.2, 1e-9, 'busy share')
  assert.doesNotMatch(crossover(busy).text, /light-load/)
  // The same Redis CPU per request at 2,000 req/s (servers at 500 µs per request): 2% busy.
  const redis = results.cells.find((c) => c.id === 'session-redis')!
  const slow = [1, 2, 3].map((n) => round(n, 500, 2000, 1, { storeCpuUsPerRequest: 10 }))
  Object.assign(redis, { rounds: slow, summary: summarizeRounds(slow) })
  const light = calibrate(results).cells.find((x) => x.cell === 'session-redis')!
  close(light.storeBusyShare!, 0.02, 1e-9, 'light busy share')
  assert.match(crossover(light).text, /Redis was 2% busy in the window its CPU per operation was measured in/)
  // 1,000/s at 500 µs per request is half an instance: no low-load calibration, and the notes say so.
  close(light.lowLoad!.load, 0.5, 1e-9, 'low-load point load')
  const sqlite = results.cells.find((c) => c.id === 'session-sqlite')!
  const heavy = [1, 2, 3].map((n) => round(n, 600, 1e6 / 600, 1))
  Object.assign(sqlite, { rounds: heavy, summary: summarizeRounds(heavy) })
  const notes = runSimulation(results).fleetNotes
  assert.ok(
    notes.some((n) => n.startsWith('session-sqlite: its lowest open-loop rate (1000/s) ran at 60% of an instance')),
    notes.join('\n'),
  )
  assert.equal(
    notes.some((n) => n.startsWith('session-redis: its lowest open-loop rate')),
    false,
  )
})

test('fleet rows: the bottleneck law over app, store and link, cores per 10k req/s, the crossover', () => {
  const { cells } = calibrate(openLoopResults())
  const redis = cells.find((c) => c.cell === 'session-redis')!
  const one = fleetRow(redis, 1, 0)
  close(one.maxRps, 20_000, 1e-9, 'one instance')
  assert.equal(one.bottleneck, 'app')
  close(one.coresPer10kRps, 1, 1e-9, 'cores')
  const eight = fleetRow(redis, 8, 0)
  close(eight.maxRps, 100_000, 1e-9, 'store-bound')
  assert.equal(eight.bottleneck, 'store')
  close(eight.coresPer10kRps, 0.9, 1e-9, 'cores')
  // Farther from the store: the same capacity, a longer p99 (the DES: one store call per request, 2 ms more).
  const far = fleetRow(redis, 8, 2)
  close(far.maxRps, 100_000, 1e-9, 'far')
  // A capacity bound only until the run's own validation says the cell's latency held.
  assert.equal(far.p99UsAtHalfLoad, null)
  const at = (rtt: number) => fleetP99(redis, 8, 50_000, rtt, null, 4)!
  close(at(2) - at(0), 2000, 0.01, 'p99 shift')
  const c = crossover(redis)
  assert.equal(c.storeBoundFromInstances, 6)
  close(c.storeMaxRps!, 100_000, 1e-9, 'store max')
  const jwt = cells.find((x) => x.cell === 'jwt-HS256-jose-sqlite')!
  assert.equal(fleetRow(jwt, 64, 2).bottleneck, 'app')
  close(fleetRow(jwt, 64, 2).maxRps, 640_000, 1e-9, 'jwt fleet')
  // 280 bytes per request over a 0.01 Gbit/s link: 224 µs each.
  const slow = fleetRow(jwt, 64, 0, { ...DEFAULT_MODEL, linkGbps: 0.01 })
  assert.equal(slow.bottleneck, 'network')
  close(slow.maxRps, 1e6 / 224, 1e-9, 'link-bound rate')
  assert.equal(crossover(jwt).storeBoundFromInstances, null)
})

test("runSimulation: without the driver's floor no point is judged, and the fleet table states capacity bounds only", () => {
  const sim = runSimulation(openLoopResults())
  assert.equal(sim.calibration.length, 3)
  assert.deepEqual(sim.model.instances, DEFAULT_INSTANCES)
  assert.deepEqual(sim.model.storeRttMs, DEFAULT_RTT_MS)
  // Redis and JWT cells: 7 instance counts x 4 distances; SQLite sessions: 1 x 4.
  assert.equal(sim.fleet.length, 7 * 4 * 2 + 4)
  assert.equal(sim.fleetNotes.length, 1)
  assert.match(sim.fleetNotes[0]!, /^session-sqlite: only 1 instance modelled/)
  assert.equal(sim.floor, null)
  assert.equal(sim.validation.length, 5)
  assert.deepEqual(
    sim.validation.map((v) => v.within),
    [null, null, null, null, null],
  )
  assert.deepEqual(
    sim.validation.map((v) => v.notJudged),
    [
      "the calibration point (the servers' own time)",
      'no driver floor measured',
      "the calibration point (the servers' own time)",
      'no driver floor measured',
      "the calibration point (the servers' own time)",
    ],
  )
  assert.deepEqual(
    sim.validation.map((v) => [v.instances, v.arrivals]),
    Array(5).fill([1, 'constant']),
  )
  assert.equal(
    sim.fleet.every((r) => r.p99UsAtHalfLoad === null),
    true,
  )
  const low = sim.validation.find((v) => v.cell === 'session-redis' && v.rate === 1000)!
  assert.equal(low.calibration, true)
  // simulation.json's calibration carries no sampled points.
  assert.equal(Object.hasOwn(sim.calibration[0]!, 'ownPoints'), false)
  assert.equal(sim.curves.find((c) => c.cell === 'session-redis')!.points.length, 9)
  const page = renderSimulationHtml(sim, '')
  assert.match(page, /did not measure the driver's floor/)
  assert.match(page, /no latency is stated for it: no open-loop point of it was judged/)
})

test('the latency model on a hand-made run with a known answer: the wake-up by idle gap, the floor outside, the verdict and what it publishes', () => {
  // The cell's CPU per request is 60 µs at 1,000 and 4,000/s: at 2,000/s (left out, read off those two) a request's core
  // sleeps 500 - 60 - w µs, and a gap g costs 70 (g - 220) / 750: the wake-up settles at w = 70 x 220 / 820 = 18.78, so
  // every answer takes 100 + 18.78 + 50. At 4,000/s the core sleeps under 220 µs: no wake-up, 150. At 1,000/s (the
  // calibration point, its own 60 µs) w = 70 x 720 / 820 = 61.46.
  const sim = runSimulation(wakeResults({ p50At2000: 170, p50At4000: 152 }))
  assert.deepEqual(
    sim.floor!.map((f) => [f.rate, f.gapUs, f.wakeUs, f.outsideP50Us]),
    [
      [1000, 970, 70, 50],
      [4000, 220, 0, 50],
    ],
  )
  const [low, mid, high] = sim.validation as [ValidationRow, ValidationRow, ValidationRow]
  close(mid.predicted.p50Us, 100 + (70 * 220) / 820 + 50, 1e-4, 'p50 at 2,000/s')
  close(mid.predicted.meanWakeUs, (70 * 220) / 820, 1e-3, 'mean wake-up at 2,000/s')
  assert.equal(mid.coreTimeUs, 60)
  assert.equal(high.predicted.p50Us, 150)
  close(low.predicted.p50Us, 100 + (70 * 720) / 820 + 50, 1e-4, 'p50 at 1,000/s')
  assert.equal(low.calibration, true)
  assert.equal(low.within, null)
  // Every round measured the servers, and each point's other points read the floor's level within 2%: its outside time as it is.
  assert.deepEqual(
    sim.validation.map((v) => v.dropped),
    [[], [], []],
  )
  // Judged: 2,000 and 4,000/s (10% and 20% of the 20,000/s measured). The tail of the time outside the servers is read off the
  // other points: each measured 310 µs at its p99 where the floor's outside time is 50 µs at every quantile, so its tail scales
  // about fourfold and the 2,000/s point, left out, is predicted at the p99 its neighbours read.
  assert.deepEqual([mid.load, high.load], [0.1, 0.2])
  assert.deepEqual(
    [mid.within, high.within],
    [
      { p50: true, p99: true },
      { p50: true, p99: true },
    ],
  )
  close(mid.predicted.p99Us, 310, 0.05, 'p99 at 2,000/s')
  assert.ok(mid.outsideLevel.tail > 3 && mid.outsideLevel.tail < 5, `tail factor ${mid.outsideLevel.tail}`)
  assert.equal(mid.outsideLevel.body, 1)
  assert.deepEqual(sim.layers.byInstances, [
    { layer: '1 instance', instances: 1, arrivals: 'constant', judged: 2, p99Judged: 2, p50Within: 1, p99Within: 1, holds: true },
  ])
  // The layer holds, and the fleet table states the cell's latency.
  const row = sim.fleet.find((r) => r.instances === 4 && r.storeRttMs === 0)!
  assert.ok(row.p99UsAtHalfLoad !== null && row.p99UsAtHalfLoad >= 100 && row.p99UsAtHalfLoad < 400, `${row.p99UsAtHalfLoad}`)
  assert.match(renderSimulationHtml(sim, ''), /server-side p99 at half load [\d.]+ ms with the store 0 ms away/)
  // A p99 of 1,000 µs at 4,000/s is not what its neighbours read (predicted -73%), and pulls the 2,000/s point's tail with it
  // (+59%): the layer does not hold, and the fleet table states capacity bounds only.
  const missedTail = runSimulation(wakeResults({ p50At2000: 170, p50At4000: 152, p99At4000: 1000 }))
  assert.deepEqual(
    missedTail.validation.slice(1).map((v) => v.within),
    [
      { p50: true, p99: false },
      { p50: true, p99: false },
    ],
  )
  assert.equal(missedTail.layers.byInstances[0]!.holds, false)
  assert.equal(
    missedTail.fleet.every((r) => r.p99UsAtHalfLoad === null),
    true,
  )
  // Behind HAProxy the run is not the one the DES replays (its hop, its CPU): nothing is judged.
  const balanced = wakeResults({ p50At2000: 170, p50At4000: 152 })
  Object.assign(balanced.cells[0]!, { balancer: 'haproxy', balance: 'leastconn' })
  assert.deepEqual(
    runSimulation(balanced).validation.map((v) => v.within),
    [null, null, null],
  )
  assert.match(runSimulation(balanced).validation[1]!.notJudged!, /^the run went through HAProxy \(leastconn\)/)
  // A miss names what the point measured.
  const missed = wakeResults({ p50At2000: 400, p50At4000: 140 })
  missed.cells[0]!.openLoop![2]!.rounds.push({ ...missed.cells[0]!.openLoop![2]!.rounds[0]!, held: false })
  assert.equal(runSimulation(missed).validation[1]!.holds, false)
  // A point whose rounds the driver held in fewer than half is not judged: its sends stalled.
  missed.cells[0]!.openLoop![1]!.rounds[0]!.held = false
  assert.equal(
    runSimulation(missed).validation[1]!.notJudged,
    '1 of 1 rounds did not measure the servers at this point (round 1: the driver did not hold 2000/s)',
  )
  // Held in 1 of 2 rounds it is judged on the round held, which it names.
  const v = runSimulation(missed).validation[2]!
  assert.deepEqual([v.notJudged, v.dropped], [null, ['round 1: the driver did not hold 4000/s']])
})

test('a point is replayed round by round, each at the rate it achieved, and predicted as the median over its rounds', () => {
  // The 2,000/s point of the hand-made run above with a second round that achieved 4,000/s (its rounds ran at different rates,
  // as a point's share of each round's own capacity does), and a third its driver did not hold. Round 1 replays as before,
  // 100 + 18.78 + 50; round 2 at 4,000/s (no other point has a round 2: the cell's medians, 60 µs) sleeps under 220 µs: no
  // wake-up, 100 + 50. The point's p50 is the median of the two held rounds': the unheld one is left out, and named.
  const run = wakeResults({ p50At2000: 170, p50At4000: 152 })
  const mid = run.cells[0]!.openLoop![1]!
  mid.rounds.push({ ...mid.rounds[0]!, round: 2, achievedRate: 4000 }, { ...mid.rounds[0]!, round: 3, held: false })
  const row = runSimulation(run).validation[1]!
  const first = 100 + (70 * 220) / 820 + 50
  close(row.predicted.p50Us, (first + 150) / 2, 1e-4, 'median of 168.78 and 150')
  assert.deepEqual(row.dropped, ['round 3: the driver did not hold 2000/s'])
  // With round 3 held as well it is replayed at 2,000/s: the median of 168.78, 150 and 168.78.
  mid.rounds[2]!.held = true
  close(runSimulation(run).validation[1]!.predicted.p50Us, first, 1e-4, 'median of 168.78, 150 and 168.78')
  mid.rounds.pop()
  // The rounds are anchors at the rate each achieved, the point they were a round of named; a round not held is none.
  const [cal] = calibrate(run).cells.filter((c) => c.cell === run.cells[0]!.id)
  assert.deepEqual(
    cal!.byRound.coreTime.filter((a) => a.from === 'open').map((a) => [a.round, a.point, a.rate]),
    [
      [1, 1000, 1000],
      [1, 2000, 2000],
      [2, 2000, 4000],
      [1, 4000, 4000],
    ],
  )
})

test("the servers' own time at a point is read off the cell's other rates, the point left out, and scales the low-load times", () => {
  // Own time 100 µs at 1,000/s, 80 at 2,000/s, 50 at 4,000/s, every request alike. At 2,000/s (left out) it is read halfway in
  // log rate between 1,000/s and 4,000/s: 75 µs, not the 80 measured there; the floor server's own time is 30 µs at both floor
  // rates, so no cold start is taken out or added, and the core time and wake-up are those of the hand-made run above:
  // 75 + 18.78 + 50. At 4,000/s (left out) the nearest other rate's, 2,000/s: 80 µs, no wake-up, 80 + 50.
  const sim = runSimulation(wakeResults({ p50At2000: 144, p50At4000: 130, ownAt2000: 80, ownAt4000: 50 }))
  const [low, mid, high] = sim.validation as [ValidationRow, ValidationRow, ValidationRow]
  assert.deepEqual([low.ownP50Us, mid.ownP50Us, high.ownP50Us], [100, 75, 80])
  close(mid.predicted.p50Us, 75 + (70 * 220) / 820 + 50, 1e-4, 'p50 at 2,000/s')
  assert.equal(high.predicted.p50Us, 130)
  // The calibration point keeps its own times as measured.
  close(low.predicted.p50Us, 100 + (70 * 720) / 820 + 50, 1e-4, 'p50 at 1,000/s')
  // Were each point fed its own time it would read 80 and 50: the model's figures are not the point's.
  assert.notEqual(mid.ownP50Us, mid.measured.serverP50Us)
  assert.equal(high.measured.serverP50Us, 50)
})

test("the time outside the servers takes its level from the cell's other points: a floor run at another moment reads low", () => {
  // The hand-made run above, its points measured with 100 µs outside the servers where the floor read 50: 100 + 61.46 + 100 at
  // 1,000/s, 100 + 100 at 4,000/s. Their outside time scales the floor's twofold (to the 2% the search stops at), so the
  // 2,000/s point left out is predicted at 100 + 18.78 + 100, not at the floor's level (168.78).
  const sim = runSimulation(wakeResults({ p50At1000: 261, p50At2000: 219, p50At4000: 200 }))
  const mid = sim.validation[1]!
  close(mid.predicted.p50Us, 100 + (70 * 220) / 820 + 100, 0.03, 'p50 at 2,000/s')
  assert.equal(mid.within!.p50, true)
  // The 4,000/s point, left out in turn, reads the level off the other two: 100 + 100.
  close(sim.validation[2]!.predicted.p50Us, 200, 0.03, 'p50 at 4,000/s')
  // The body's level follows the rate: 1 at 1,000/s (212 µs measured, as the floor reads) and 4 at 4,000/s (100 + 4 x 50 µs
  // measured) read 2 at 2,000/s, halfway between in the log of the rate: 100 + 18.78 + 100.
  const rising = runSimulation(wakeResults({ p50At2000: 219, p50At4000: 300 })).validation[1]!
  close(rising.outsideLevel.body, 2, 0.03, 'body factor at 2,000/s')
  close(rising.predicted.p50Us, 100 + (70 * 220) / 820 + 100, 0.03, 'p50 at 2,000/s')
})

test("a round whose time outside the servers is over 4 times its point's calmest round's measured the host, and is left out", () => {
  const run = wakeResults({ p50At2000: 170, p50At4000: 152 })
  const mid = run.cells[0]!.openLoop![1]!
  const r1 = mid.rounds[0]!
  // Outside the servers (100 µs of own time) at the p50: 70, 300 (4.3x) and 250 (3.6x) µs.
  mid.rounds.push(
    { ...r1, round: 2, latencyUs: { ...r1.latencyUs, p50: 400 } },
    { ...r1, round: 3, latencyUs: { ...r1.latencyUs, p50: 350 } },
  )
  const kept = roundsThatMeasured(mid)
  assert.deepEqual(
    kept.point.rounds.map((r) => r.round),
    [1, 3],
  )
  assert.deepEqual(kept.dropped, [{ round: 2, why: "round 2: 0.30 ms outside the servers at its p50, 4.3x its calmest round's 0.07 ms" }])
  // The point's figures are the medians over the rounds kept: (170 + 350) / 2.
  assert.equal(kept.point.latencyUs.p50, 260)
  const sim = runSimulation(run)
  const row = sim.validation[1]!
  assert.deepEqual([row.measured.p50Us, row.dropped], [260, [kept.dropped[0]!.why]])
  assert.match(renderSimulationHtml(sim, ''), /\(judged without round 2: 0\.30 ms outside the servers at its p50, 4\.3x/)
  // Two of three left out: not judged.
  mid.rounds[2]!.latencyUs = { ...r1.latencyUs, p50: 500 }
  assert.match(runSimulation(run).validation[1]!.notJudged!, /^2 of 3 rounds did not measure the servers at this point \(round 2: /)
  // Every round alike: the point as it was.
  const same = wakeResults({ p50At2000: 170, p50At4000: 152 }).cells[0]!.openLoop![1]!
  assert.equal(roundsThatMeasured(same).point, same)
  // A round that ran the one server core at 80% (400 µs of CPU a request at 2,000/s) is not one the point is judged at.
  const busy = wakeResults({ p50At2000: 170, p50At4000: 152 })
  const at2000 = busy.cells[0]!.openLoop![1]!
  at2000.rounds.push({ ...at2000.rounds[0]!, round: 2 }, { ...at2000.rounds[0]!, round: 3, cpuUsPerRequest: 400 })
  assert.deepEqual(runSimulation(busy).validation[1]!.dropped, ['round 3: measured utilisation 80%, over 70%'])
})

test("a cell that awaits its store has its own time fitted so the DES's whole time in the server is the measured one", () => {
  // The hand-made run with Redis, Poisson arrivals, and the servers' own time spread evenly over 100-1,000 µs at every rate (p50
  // 550, p90 910, p99 991: mostly awaiting the store). At 10,000/s a request holds the one core for 60 µs: most of them find it
  // busy, and that wait is inside the measured own time (it resumes after its store call behind the requests its loop took up
  // meanwhile).
  const run = wakeResults({ p50At2000: 170, p50At4000: 152 })
  run.cells[0]!.store = 'redis'
  run.scenario.load.arrivals = 'poisson'
  const spread = newHistogram()
  for (let us = 100; us <= 1000; us++) spread.recordValueWithCount(us, 10)
  const encoded = encodeIntoCompressedBase64(spread)
  const own = { p50: 550, p90: 910, p99: 991, max: 1000, mean: 550 }
  for (const p of run.cells[0]!.openLoop!) for (const r of p.rounds) Object.assign(r, { serverTimeUs: own, serverTimeHistogram: encoded })
  const c = calibrate(run).cells[0]!
  assert.equal(c.networkStore, true)
  const inputs = { arrivals: 'poisson' as const, cores: 1, floor: floorModel(run.driverFloor, 'poisson'), storeHostCores: 2 }
  const target = { p50: 550, p90: 910, p99: 991 }
  const fit = fitTimeInServer(c, 10_000, inputs, {}, c.own!.busyCpuUs, target, 60)
  close(fit.inner.p50, target.p50, 0.02, 'time in the server at p50')
  close(fit.inner.p90, target.p90, 0.02, 'time in the server at p90')
  // The own time the DES samples is shorter by the waits the measured one held: its p50 by about a tenth.
  assert.ok(fit.to.p50 < 0.95 * target.p50, `own p50 sampled ${fit.to.p50}`)
  // A p99 can fall no lower than the p90: where the waits' tail outgrows the own time's, the fit stops there, above the measured.
  assert.equal(fit.to.p99, fit.to.p90)
  assert.ok(fit.inner.p99 > 1.02 * target.p99, `time in the server at p99 ${fit.inner.p99}`)
})

test("judged against utilisation as measured: a point over 70% of the servers' or the client's cores is not judged", () => {
  const run = wakeResults({ p50At2000: 170, p50At4000: 160 })
  const [, mid, high] = run.cells[0]!.openLoop!
  // 4,000/s at 200 µs of server CPU a request on the one server core: 80% busy, though 20% of the closed loop's rate.
  high!.cpuUsPerRequest = high!.rounds[0]!.cpuUsPerRequest = 200
  // 2,000/s with the driver at 400 µs a request on the one client core: its spin, not a queue; the point is judged.
  mid!.rounds[0]!.driverCpuUsPerRequest = 400
  const judged = runSimulation(run).validation[1]!
  assert.deepEqual([judged.utilisation.client, judged.notJudged], [null, null])
  // A Redis on the client's core at 400 µs of its CPU a request: 80%.
  run.cells[0]!.store = 'redis'
  mid!.rounds[0]!.storeCpuUsPerRequest = 400
  const v = runSimulation(run).validation
  assert.deepEqual(
    v.map((r) => [r.load, r.utilisation.servers, r.utilisation.client]),
    [
      [0.05, 0.06, null],
      [0.1, 0.12, 0.8],
      [0.2, 0.8, null],
    ],
  )
  assert.deepEqual(
    v.map((r) => r.notJudged),
    [
      "the calibration point (the servers' own time)",
      "measured utilisation 80% (the client's cores), over 70%",
      "measured utilisation 80% (the servers' cores), over 70%",
    ],
  )
  assert.deepEqual(
    v.map((r) => r.within),
    [null, null, null],
  )
})

test("a p99 a stall dominates is not judged: the driver's send lag at least half the measured p99", () => {
  const run = wakeResults({ p50At2000: 170, p50At4000: 160 })
  // 2,000/s: a send lag p99 of 200 µs against a measured p99 of 310 µs (the floor recorded no lag).
  run.cells[0]!.openLoop![1]!.rounds[0]!.sendLagUs.p99 = 200
  const sim = runSimulation(run)
  const mid = sim.validation[1]!
  assert.deepEqual(mid.within, { p50: true, p99: null })
  assert.equal(mid.holds, true)
  assert.equal(mid.stall, "the driver's send lag p99 0.2 ms is 65% of the measured p99")
  // The layer's p99 share is over the one point whose tail no stall dominated (4,000/s, within): one is not enough to hold.
  assert.deepEqual(
    sim.layers.byInstances.map((l) => [l.judged, l.p99Judged, l.p50Within, l.p99Within, l.holds]),
    [[2, 1, 1, 1, false]],
  )
})

test('a closed-loop run is refused with the scenario to run; options out of range are named', () => {
  assert.throws(
    () => runSimulation(fixtureResults()),
    (err: Error) =>
      err instanceof SimulationInputError &&
      /"fixture" ran closed loop only/.test(err.message) &&
      /scenarios\/latency\.ts/.test(err.message),
  )
  const ok = { instances: [1, 2], storeRttMs: [0], linkGbps: 10, storeHostCores: 4 }
  assert.throws(() => checkOptions({ ...ok, instances: [0, 2] }), /--instances must be whole numbers from 1 to 1024; got 0,2/)
  assert.throws(() => checkOptions({ ...ok, instances: [1.5] }), /--instances/)
  assert.throws(() => checkOptions({ ...ok, storeRttMs: [-1] }), /--store-rtt-ms must be numbers from 0 to 1000; got -1/)
  assert.throws(() => checkOptions({ ...ok, linkGbps: 0 }), /--link-gbps/)
  assert.throws(() => checkOptions({ ...ok, storeHostCores: 0 }), /--store-cores must be whole numbers from 1 to 1024; got 0/)
  assert.doesNotThrow(() => checkOptions(ok))
})

test('the report links the fleet model and states its verdict on itself', () => {
  const results = openLoopResults()
  const sim: Simulation = runSimulation(results)
  const html = renderHtml({ ...results, scenario: { ...results.scenario, simulate: true } }, '', undefined, sim)
  assert.match(html, /<a href="simulation.html">its page<\/a>/)
  assert.match(html, /no open-loop point to check its latency layer against: the fleet table states capacity bounds only/)
  const known = runSimulation(wakeResults({ p50At2000: 170, p50At4000: 152, p99At4000: 1000 }))
  const page = renderHtml({ ...results, scenario: { ...results.scenario, simulate: true } }, '', undefined, known)
  const verdict =
    '1 instance (constant arrivals): p50 within ±25% at 100% of 2 points judged (target 80%), p99 within ±50% at 0% of the 2 ' +
    'whose tail no stall dominated (target 60%): does not hold. Where it does not hold, the fleet table states capacity bounds only'
  assert.ok(page.includes(verdict), verdict)
  const missing = renderHtml({ ...results, scenario: { ...results.scenario, simulate: true } }, '', undefined, null)
  assert.match(missing, /asked for the fleet model/)
  assert.doesNotMatch(renderHtml(results, '', undefined, null), /Fleet model/)
})

test('npm run simulate: writes simulation.json and its page; exit 2 for a closed-loop run and a bad option', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-sim-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'bench/simulate-cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 })
  writeFileSync(join(dir, 'results.json'), JSON.stringify(openLoopResults()))
  const ok = run(dir, '--instances', '1,4', '--store-rtt-ms', '0,1')
  assert.equal(ok.status, 0, ok.stderr)
  const sim = JSON.parse(readFileSync(join(dir, 'simulation.json'), 'utf8')) as Simulation
  assert.equal(sim.fleet.length, 2 * 2 * 2 + 2)
  assert.deepEqual(Object.keys(sim.fleet[0]!).slice(0, 7), [
    'cell',
    'instances',
    'storeRttMs',
    'maxRps',
    'bottleneck',
    'p99UsAtHalfLoad',
    'coresPer10kRps',
  ])
  assert.ok(existsSync(join(dir, 'simulation.html')))
  const bad = run(dir, '--instances', '1,x')
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--instances must be whole numbers from 1 to 1024; got 1,NaN/)
  const closedDir = mkdtempSync(join(tmpdir(), 'authbench-sim-closed-'))
  t.after(() => rmSync(closedDir, { recursive: true, force: true }))
  writeFileSync(join(closedDir, 'results.json'), JSON.stringify(fixtureResults()))
  const closed = run(closedDir)
  assert.equal(closed.status, 2)
  assert.match(closed.stderr, /ran closed loop only.*Run scenarios\/latency\.ts/)
  assert.equal(existsSync(join(closedDir, 'simulation.json')), false)
  const none = run(join(dir, 'nothing-here'))
  assert.equal(none.status, 2)
  assert.match(none.stderr, /cannot read results/)
})

test('fault timelines: a pause by the DES (fail closed after the command timeout), a restart by the arithmetic of lost state', () => {
  const results = lifecycleResults()
  const faults = [
    { atSeconds: 3, action: 'pause-store' as const, durationSeconds: 1 },
    { atSeconds: 8, action: 'restart-store' as const },
  ]
  results.scenario = { ...results.scenario, workload: { ...results.scenario.workload, durationSeconds: 14, logoutsPerSecond: 0 }, faults }
  // 200 users at 2 GETs/s: 40 GETs per 100 ms; the session's GETs failed 3.0-3.4 s (503) and 8.0-8.4 s (401).
  const timeline: TimelinePoint[] = Array.from({ length: 140 }, (_, i) => {
    const t = i * 100
    const failed = (t >= 3000 && t < 3500) || (t >= 8000 && t < 8500)
    return {
      tMs: t,
      requests: 40,
      ok: failed ? 0 : 40,
      status401: failed && t >= 8000 ? 40 : 0,
      status502: 0,
      status503: failed && t < 8000 ? 40 : 0,
      status5xx: 0,
      errors: 0,
      latencyUsP50: 1000,
      latencyUsP99: 3000,
      logins: 0,
      forcedLogins: 0,
    }
  })
  const session = results.cells.find((c) => c.id === 'session-sqlite')!
  Object.assign(session, { id: 'session-redis', store: 'redis', timeline, recovery: recoveryOf(timeline, faults, 200) })
  const sim = predictFaults(results, calibrate(results).cells)
  assert.deepEqual(
    sim.map((f) => `${f.cell} ${f.action}`),
    ['session-redis pause-store', 'session-redis restart-store'],
  )
  const [pause, restart] = sim as [FaultPrediction, FaultPrediction]
  assert.equal(pause.measured.failedGets, 200)
  // GETs due in the pause's first 500 ms time out: 400/s x 0.5 s, and a few queued behind them.
  assert.ok(pause.predicted.failedGets >= 180 && pause.predicted.failedGets <= 220, `${pause.predicted.failedGets} failed GETs`)
  assert.equal(pause.predicted.firstErrorMs, 3000)
  assert.equal(pause.predicted.lastErrorMs, 3400)
  assert.equal(pause.predicted.forcedLogins, 0)
  // Every user's session was in the store: 200 log in again within one GET interval (0.5 s).
  assert.equal(restart.predicted.forcedLogins, 200)
  assert.equal(restart.predicted.loginStormPeakPerSecond, 400)
  assert.equal(restart.predicted.lastErrorMs, 8500)
  assert.equal(restart.measured.failedGets, 200)
  assert.match(restart.agreement, /^failed GETs \+0%, forced logins/)
  // Redis's CPU per operation was not measured (no round carries it): no fleet for that cell, and the note says why.
  const whole = runSimulation(results)
  assert.equal(
    whole.fleet.some((r) => r.cell === 'session-redis'),
    false,
  )
  assert.ok(
    whole.fleetNotes.some((n) => n.startsWith("session-redis: no fleet modelled: the run did not measure its redis's CPU per operation")),
  )
  assert.equal(whole.crossovers.find((c) => c.cell === 'session-redis')!.storeMaxRps, null)
})

test("a store with a process per connection (PostgreSQL): its capacity is its host's cores over its CPU per operation", () => {
  const { cells } = calibrate(openLoopResults())
  // The Redis cell's figures (20,000 req/s an instance, 10 µs of store CPU per request), on PostgreSQL.
  const postgres = { ...cells.find((c) => c.cell === 'session-redis')!, store: 'postgres' as const }
  // Four store cores serve 400,000 req/s: eight instances (160,000) are app-bound.
  const eight = fleetRow(postgres, 8, 0)
  assert.equal(eight.bottleneck, 'app')
  close(eight.maxRps, 160_000, 1e-9, 'app-bound')
  close(eight.coresPer10kRps, ((8 + 4) * 10_000) / 160_000, 1e-9, "cores, the store host's four counted")
  // On a one-core store host the same eight instances are store-bound at 100,000, as one Redis.
  const oneCore = fleetRow(postgres, 8, 0, { ...DEFAULT_MODEL, storeHostCores: 1 })
  assert.equal(oneCore.bottleneck, 'store')
  close(oneCore.maxRps, 100_000, 1e-9, 'store-bound')
  close(crossover(postgres).storeMaxRps!, 400_000, 1e-9, 'store max')
})
