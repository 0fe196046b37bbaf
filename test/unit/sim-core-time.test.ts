import { test } from 'node:test'
import assert from 'node:assert/strict'
import { coreTimeAt, measuredUtilisation } from '../../bench/sim/latency.ts'
import type { OpenLoopPoint, OpenMeasurement } from '../../bench/contracts/results.ts'

// A cell whose CPU per request is known at each rate: 100 µs at 1,000/s, 80 at 2,000/s, 60 at 4,000/s, 40 in the closed loop at 16,000/s.
const anchors = [
  { rate: 1000, cpuUsPerRequest: 100, from: 'open' as const },
  { rate: 2000, cpuUsPerRequest: 80, from: 'open' as const },
  { rate: 4000, cpuUsPerRequest: 60, from: 'open' as const },
  { rate: 16_000, cpuUsPerRequest: 40, from: 'closed' as const },
]

test("the core time at a left-out rate is read off the cell's other rates, linear in the log of the rate", () => {
  // 2,000/s left out: halfway (in log rate) between 1,000/s (100 µs) and 4,000/s (60 µs).
  assert.equal(coreTimeAt(anchors, 2000, 2000), 80)
  // 4,000/s left out: a third of the way from 2,000/s (80 µs) to the closed loop's 16,000/s (40 µs).
  assert.ok(Math.abs(coreTimeAt(anchors, 4000, 4000)! - (80 - 40 / 3)) < 1e-9)
  // Nothing left out (the load curve): each measured rate gives its own figure; past the ends the nearest.
  assert.equal(coreTimeAt(anchors, 4000), 60)
  assert.equal(coreTimeAt(anchors, 500), 100)
  assert.equal(coreTimeAt(anchors, 32_000), 40)
  // The closed loop is taken at most as the lowest open-loop figure (two instances on one core thrash there).
  const thrash = anchors.map((a) => (a.from === 'closed' ? { ...a, cpuUsPerRequest: 90 } : a))
  assert.equal(coreTimeAt(thrash, 16_000, 4000), 80)
  assert.equal(coreTimeAt([], 2000), null)
})

const round = (o: Partial<OpenMeasurement>): OpenMeasurement =>
  ({ achievedRate: 10_000, cpuUsPerRequest: 60, storeCpuUsPerRequest: 10, driverCpuUsPerRequest: 30, ...o }) as OpenMeasurement
const point = (rounds: OpenMeasurement[]) => ({ rounds }) as OpenLoopPoint

test("a point's utilisation as measured: the servers' CPU over their cores, a same-host store's over the client's", () => {
  // 10,000/s x 60 µs on one server core: 0.6; Redis's 10 µs on one client core: 0.1 (the driver's 30 µs, its spin, not
  // counted); the median of three rounds.
  const p = point([round({}), round({ cpuUsPerRequest: 80 }), round({ cpuUsPerRequest: 40, driverCpuUsPerRequest: 50 })])
  assert.deepEqual(measuredUtilisation(p, { server: 1, client: 1 }, true), { servers: 0.6, client: 0.1 })
  // A store elsewhere is not on the client's cores; two server cores halve the servers' share.
  assert.deepEqual(measuredUtilisation(point([round({})]), { server: 2, client: 1 }, false), { servers: 0.3, client: null })
  // Unpinned, every process shares every core: (60 + 10) x 10,000 / 1e6 over 2.
  assert.deepEqual(measuredUtilisation(point([round({})]), { server: 2, client: null }, true), { servers: 0.35, client: null })
  // A store whose CPU was not measured: the client's share is not known.
  assert.equal(measuredUtilisation(point([round({ storeCpuUsPerRequest: null })]), { server: 1, client: 1 }, true).client, null)
})

test("a round's figures are left out by the point they were a round of, whatever rate that round achieved", () => {
  // Round 2 of the 2,000/s point ran at 2,600/s and read 90 µs; round 2 of the 4,000/s point ran at 5,200/s and read 50.
  const byRound = [
    { round: 2, point: 1000, rate: 1300, cpuUsPerRequest: 100, from: 'open' as const },
    { round: 2, point: 2000, rate: 2600, cpuUsPerRequest: 90, from: 'open' as const },
    { round: 2, point: 4000, rate: 5200, cpuUsPerRequest: 50, from: 'open' as const },
    { round: 2, point: null, rate: 20_800, cpuUsPerRequest: 40, from: 'closed' as const },
  ]
  // The 2,000/s point's round replayed at 2,600/s: its own 90 µs not used, halfway in log rate from 1,300/s (100) to 5,200/s (50).
  assert.equal(coreTimeAt(byRound, 2600, 2000), 75)
  // The 4,000/s point's round at 5,200/s: a third of the way from 2,600/s (90) to the closed loop's 20,800/s (40).
  assert.ok(Math.abs(coreTimeAt(byRound, 5200, 4000)! - (90 - 50 / 3)) < 1e-9)
  // Left out by rate alone, 2,000/s would have matched no round and the point's own 90 µs been read back.
  assert.equal(coreTimeAt(byRound, 2600), 90)
})
