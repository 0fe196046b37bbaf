// Several open-loop drivers' results merged: counts summed, histograms added exactly, held only
// where every driver held.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as hdr from 'hdr-histogram-js'
import { mergeOpenResults, type OpenLoopResult } from '../../bench/drive/open.ts'
import { newHistogram } from '../../common/histogram.ts'

function run(valueUs: number, count: number, held: boolean): OpenLoopResult {
  const h = newHistogram()
  h.recordValueWithCount(valueUs, count)
  const enc = hdr.encodeIntoCompressedBase64(h)
  const empty = hdr.encodeIntoCompressedBase64(newHistogram())
  return {
    intendedRate: 100,
    achievedRate: held ? 100 : 50,
    durationSeconds: 1,
    requests: count,
    completed: count,
    non2xx: 0,
    errors: held ? 0 : 2,
    errorsBy: held ? {} : { timeout: 2 },
    statusCounts: { 200: count },
    latencyUs: { p50: valueUs, p90: valueUs, p99: valueUs, p999: valueUs, max: valueUs },
    serviceTimeUs: { p50: valueUs, p90: valueUs, p99: valueUs, max: valueUs },
    sendLagUs: { p50: 0, p99: 0, max: 0 },
    schedulerLagUs: { p50: 0, p99: 0, max: 0 },
    connectionWaitUs: { p50: 0, p99: 0, max: 0 },
    eventLoopDelayUs: { p50: 1, p99: 2, max: 3 },
    connectionsUsed: 5,
    retried: 0,
    held,
    reason: held ? null : 'sent 50 of 100',
    note: null,
    interrupted: false,
    histograms: { latency: enc, service: enc, lag: empty, schedulerLag: empty, connectionWait: empty },
  }
}

test("two drivers' open-loop runs merge into one: 100 requests at 1 ms and 300 at 2 ms give p25 1 ms, p50 2 ms", () => {
  const m = mergeOpenResults([run(1000, 100, true), run(2000, 300, true)])
  assert.equal(m.requests, 400)
  assert.equal(m.completed, 400)
  assert.equal(m.intendedRate, 200)
  assert.deepEqual(m.statusCounts, { 200: 400 })
  assert.equal(m.connectionsUsed, 10)
  assert.equal(m.latencyUs.p50, 2000)
  assert.equal(m.latencyUs.max, 2000)
  assert.equal(hdr.decodeFromCompressedBase64(m.histograms.latency).getValueAtPercentile(25), 1000)
  assert.equal(m.held, true)
  assert.equal(m.reason, null)
})

test('a driver that did not hold its share: the merged window is not held, and says which driver and why', () => {
  const m = mergeOpenResults([run(1000, 100, true), run(1000, 100, false)])
  assert.equal(m.held, false)
  assert.equal(m.reason, 'driver 2: sent 50 of 100')
  assert.deepEqual(m.errorsBy, { timeout: 2 })
  assert.equal(m.achievedRate, 150)
})
