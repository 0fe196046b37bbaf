import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { floorModel, ownShapeAt, reshape, shapeOf } from '../../bench/sim/latency.ts'
import { quantileOf } from '../../bench/sim/queueing.ts'
import type { FloorPoint } from '../../bench/contracts/results.ts'

// A cell whose servers' own time is known at each rate: p50 300 µs at 1,000/s, 200 at 2,000/s, 150 at 4,000/s, 80 at 8,000/s;
// its p90 three times its p50 and its p99 2,000 µs at every rate (a tail the host sets) but 1,000 at 8,000/s.
const anchors = [
  { rate: 1000, p50Us: 300, p90Us: 900, p99Us: 2000 },
  { rate: 2000, p50Us: 200, p90Us: 600, p99Us: 2000 },
  { rate: 4000, p50Us: 150, p90Us: 450, p99Us: 2000 },
  { rate: 8000, p50Us: 80, p90Us: 240, p99Us: 1000 },
]

test("the servers' own time at a left-out rate is read off the cell's other rates, quantile by quantile, linear in the log of the rate", () => {
  // 2,000/s left out: halfway (in log rate) between 1,000/s (300 µs) and 4,000/s (150 µs).
  assert.deepEqual(ownShapeAt(anchors, 2000, 2000), { p50: 225, p90: 675, p99: 2000 })
  // 4,000/s left out: halfway from 2,000/s (200 µs) to 8,000/s (80 µs), not the 150 measured there.
  assert.deepEqual(ownShapeAt(anchors, 4000, 4000), { p50: 140, p90: 420, p99: 1500 })
  // 8,000/s left out: past the busiest other rate, its figures.
  assert.deepEqual(ownShapeAt(anchors, 8000, 8000), { p50: 150, p90: 450, p99: 2000 })
  // Nothing left out: each measured rate gives its own figures; past the ends the nearest.
  assert.deepEqual(ownShapeAt(anchors, 4000), { p50: 150, p90: 450, p99: 2000 })
  assert.deepEqual(ownShapeAt(anchors, 500), { p50: 300, p90: 900, p99: 2000 })
  assert.equal(ownShapeAt([], 2000), null)
  // A p90 read under its p50 (rates whose tails crossed) is raised to it.
  const crossed = [
    { rate: 1000, p50Us: 100, p90Us: 110, p99Us: 120 },
    { rate: 4000, p50Us: 300, p90Us: 50, p99Us: 60 },
  ]
  assert.deepEqual(ownShapeAt(crossed, 4000), { p50: 300, p90: 300, p99: 300 })
})

test('a distribution reshaped to a p50, p90 and p99 has them, and keeps its order', () => {
  // 10,000 points 1..10,000 µs: p50 5,000, p90 9,000, p99 9,900 (to the spacing).
  const x = Float64Array.from({ length: 10_000 }, (_, i) => i + 1)
  const from = shapeOf(x)
  assert.deepEqual(from, { p50: quantileOf(x, 0.5), p90: quantileOf(x, 0.9), p99: quantileOf(x, 0.99) })
  // The body halved, the tail kept: p50 2,500, p90 4,500, p99 9,900.
  const y = reshape(x, from, { p50: from.p50 / 2, p90: from.p90 / 2, p99: from.p99 })
  const to = shapeOf(y)
  assert.ok(Math.abs(to.p50 - from.p50 / 2) <= 1, `p50 ${to.p50}`)
  assert.ok(Math.abs(to.p90 - from.p90 / 2) <= 1, `p90 ${to.p90}`)
  assert.ok(Math.abs(to.p99 - from.p99) <= 5, `p99 ${to.p99}`)
  // Below the p50 every point is halved; the largest keeps the p99's factor (1).
  assert.equal(y[0], 0.5)
  assert.equal(y[y.length - 1], 10_000)
  for (let i = 1; i < y.length; i++) assert.ok(y[i]! >= y[i - 1]!)
})

const floorPoint = (rate: number, histogramUs: number, p50Us: number): FloorPoint => {
  const h = newHistogram()
  h.recordValueWithCount(histogramUs, 1000)
  return {
    rate,
    achievedRate: rate,
    latencyUs: { p50: p50Us, p90: histogramUs, p99: histogramUs, max: histogramUs },
    serverTimeUs: { p50: 20, p99: 20 },
    heldRounds: 3,
    rounds: 3,
    latencyHistogram: encodeIntoCompressedBase64(h),
  }
}

test("the floor's outside time has the p50 of the median over rounds, not the kept round's", () => {
  // At 1,000/s the kept round (the one whose p99 is the median) read 180 µs at its p50, the median over rounds 150: outside the
  // server (20 µs) that is 130, 60 above the busiest rate's 70, the wake-up (it would read 90 from the kept round's p50); what
  // is left outside is 70 at both rates.
  const model = floorModel([floorPoint(1000, 180, 150), floorPoint(4000, 90, 90)])!
  assert.deepEqual(model.wakeUs, [60, 0])
  assert.deepEqual([model.outside[0]![0], model.outside[1]![0]], [70, 70])
})
