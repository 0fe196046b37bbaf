import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { floorPoints } from '../../bench/workloads/floor.ts'
import { floorModel, outsideAt } from '../../bench/sim/latency.ts'
import type { FloorMeasurement } from '../../bench/contracts/results.ts'
import type { RunEvent } from '../../bench/contracts/events.ts'

const histogram = (value: number) => {
  const h = newHistogram()
  h.recordValueWithCount(value, 1000)
  return encodeIntoCompressedBase64(h)
}

const window = (round: number, rate: number, p99: number, cpu: number | null): RunEvent => {
  const m: FloorMeasurement = {
    round,
    rate,
    achievedRate: rate,
    latencyUs: { p50: p99, p90: p99, p99, p999: p99, max: p99 },
    sendLagUs: { p50: 2, p99: 10 * round, max: 100 },
    serverTimeUs: { p50: 20, p99: 20 },
    latencyHistogram: histogram(p99),
    held: round !== 3,
    cpuUsPerRequest: cpu,
  }
  return { type: 'floor-measured', round, measurement: m }
}

test('the driver floor per rate: medians over rounds, the histogram of the round whose p99 is the median', () => {
  const points = floorPoints([window(1, 1000, 3000, 50), window(2, 1000, 1000, 40), window(3, 1000, 2000, 60), window(1, 500, 900, null)])
  assert.deepEqual(
    points.map((p) => p.rate),
    [500, 1000],
  )
  const p = points[1]!
  assert.deepEqual(
    [p.latencyUs.p99, p.latencyUs.max, p.sendLagP99Us, p.cpuUsPerRequest, p.heldRounds, p.rounds],
    [2000, 3000, 20, 50, 2, 3],
  )
  // The typical round (p99 2,000 µs) is the one whose histogram is kept: its every value is 2,000.
  const model = floorModel(points.map((x) => ({ ...x, heldRounds: 3 })))!
  assert.equal(model.outside[1]![0], 2000 - 20)
  // A rate without its server's CPU read: none for the whole floor, so the model borrows no CPU shape.
  assert.equal(points[0]!.cpuUsPerRequest, null)
  assert.equal(model.cpuWake, null)
  // Outside the servers between two floor rates: up to p90 each rate's share by log distance, the tail pooled.
  const mid = outsideAt(model, Math.sqrt(500 * 1000))
  assert.deepEqual([mid[0], mid[Math.floor(0.89 * mid.length)]], [900 - 20, 2000 - 20])
})
