import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { floorModel, ownTimeAt } from '../../bench/sim/latency.ts'
import type { FloorPoint } from '../../bench/contracts/results.ts'

// A cell whose servers' own p50 is known at each rate: 300 µs at 1,000/s, 200 at 2,000/s, 150 at 4,000/s, 80 at 8,000/s.
const anchors = [
  { rate: 1000, p50Us: 300 },
  { rate: 2000, p50Us: 200 },
  { rate: 4000, p50Us: 150 },
  { rate: 8000, p50Us: 80 },
]

test("the servers' own time at a left-out rate is read off the cell's other rates, linear in the log of the rate", () => {
  // 2,000/s left out: halfway (in log rate) between 1,000/s (300 µs) and 4,000/s (150 µs).
  assert.equal(ownTimeAt(anchors, 2000, 2000), 225)
  // 4,000/s left out: halfway from 2,000/s (200 µs) to 8,000/s (80 µs), not the 150 measured there.
  assert.equal(ownTimeAt(anchors, 4000, 4000), 140)
  // 8,000/s left out: past the busiest other rate, its figure.
  assert.equal(ownTimeAt(anchors, 8000, 8000), 150)
  // Nothing left out: each measured rate gives its own figure; past the ends the nearest.
  assert.equal(ownTimeAt(anchors, 4000), 150)
  assert.equal(ownTimeAt(anchors, 500), 300)
  assert.equal(ownTimeAt([], 2000), null)
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
