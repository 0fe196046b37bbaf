import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { floorModel, floorQueue, withoutQueue } from '../../bench/sim/latency.ts'
import type { FloorPoint } from '../../bench/contracts/results.ts'

const floorPoint = (rate: number, latencyUs: number, cpuUsPerRequest: number | null): FloorPoint => {
  const h = newHistogram()
  h.recordValueWithCount(latencyUs, 1000)
  return {
    rate,
    achievedRate: rate,
    latencyUs: { p50: latencyUs, p90: latencyUs, p99: latencyUs, max: latencyUs },
    serverTimeUs: { p50: 10, p99: 10 },
    cpuUsPerRequest,
    heldRounds: 3,
    rounds: 3,
    latencyHistogram: encodeIntoCompressedBase64(h),
  }
}

test('the time outside without a queue: the times that, with its waits added independently, read as measured', () => {
  // Outside 50 µs for every request; half of them wait 20 more: measured, half 50 and half 70. Taken out: 50 (its median, and
  // all but the ends of a sample: 98.8% of it within 1 µs).
  const measured = Float64Array.from({ length: 1000 }, (_, i) => (i < 500 ? 50 : 70))
  const waits = Float64Array.from({ length: 2000 }, (_, i) => (i < 1000 ? 0 : 20))
  const y = withoutQueue(measured, waits)
  assert.equal(y[500], 50)
  const near = y.filter((v) => Math.abs(v - 50) < 1).length / y.length
  assert.ok(near >= 0.95, `${near} of it within 1 µs of 50`)
  // No queue (a floor without its CPU read): the times as measured.
  assert.equal(withoutQueue(measured, null), measured)
})

test("the floor server's own queue: the DES replaying it at each floor rate on its own CPU per request", () => {
  // Evenly spaced: 100 µs apart at 10,000/s, 50 µs of core time a request (its busiest rate's): no request waits.
  const spaced = floorQueue([floorPoint(10_000, 80, 50)], { gapUs: [40], us: [0] }, 'constant')!
  assert.equal(spaced[0]!.length, 20_000)
  assert.equal(spaced[0]![spaced[0]!.length - 1], 0)
  // Poisson at 10,000/s on 50 µs: M/D/1 at 50% load, a mean wait of 0.5 x 50 / (2 x 0.5) = 25 µs (Pollaczek-Khinchine).
  const poisson = floorQueue([floorPoint(10_000, 80, 50)], { gapUs: [40], us: [0] }, 'poisson')![0]!
  const mean = poisson.reduce((a, b) => a + b, 0) / poisson.length
  assert.ok(Math.abs(mean - 25) < 2.5, `mean wait ${mean}`)
  // Without the floor's CPU there is nothing to replay, and the outside time is the floor's as measured.
  assert.equal(floorQueue([floorPoint(10_000, 80, null)], null, 'poisson'), null)
  const model = floorModel([floorPoint(1000, 80, null), floorPoint(10_000, 80, null)], 'poisson')!
  assert.equal(model.outside[1]![0], 80 - 10)
  // With it, the busy rate's outside time is the measured less its server's queue (70 µs measured at both rates, its p50 55
  // without the queue at 10,000/s), and what 1,000/s reads above that is its server's wake-up, taken out as before.
  const queued = floorModel([floorPoint(1000, 80, 50), floorPoint(10_000, 80, 50)], 'poisson')!
  const p50 = queued.outside.map((o) => o[o.length / 2]!)
  assert.ok(p50[1]! > 50 && p50[1]! < 60, `${p50[1]}`)
  assert.ok(Math.abs(queued.wakeUs[0]! - (70 - p50[1]!)) < 0.5, `${queued.wakeUs[0]}`)
  assert.ok(Math.abs(p50[0]! - p50[1]!) < 0.5, `${p50}`)
})
