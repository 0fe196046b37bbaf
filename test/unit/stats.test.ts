import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { median, medianCi95, medianIntervalCoverage, ratio, seededRandom, shuffled } from '../../bench/stats.ts'
import { repeatReason } from '../../bench/noise.ts'
import { summarizeRounds } from '../../bench/summarize.ts'
import type { RoundResult } from '../../bench/contracts/results.ts'

describe('statistics', () => {
  test('median of odd and even counts, unsorted input left alone', () => {
    const input = [5, 1, 3]
    assert.equal(median(input), 3)
    assert.deepEqual(input, [5, 1, 3])
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.ok(Number.isNaN(median([])))
  })

  test('order-statistic 95% interval of the median', () => {
    assert.deepEqual(medianCi95([3, 1, 2]), [1, 3])
    assert.deepEqual(medianCi95([6, 5, 4, 3, 2, 1]), [1, 6])
    assert.deepEqual(medianCi95([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), [2, 9])
    assert.deepEqual(medianCi95(Array.from({ length: 20 }, (_, i) => i + 1)), [6, 15])
  })

  test('ratio refuses division by zero and non-finite values', () => {
    assert.equal(ratio(3, 2), 1.5)
    assert.equal(ratio(1, 0), null)
    assert.equal(ratio(Number.NaN, 1), null)
  })

  test('summary: op counts weighted by requests, ratios as medians of per-round ratios', () => {
    const r = (round: number, requests: number, reads: number, cpu: number, ratioCpu: number): RoundResult => ({
      round,
      slot: 1,
      bracket: null,
      requests,
      durationSeconds: 1,
      rps: requests,
      latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 + round },
      serverTimeUs: { p50: 10, p90: 20, p99: 30, max: 40, mean: 12 },
      cpuUsPerRequest: cpu,
      storeCpuUsPerRequest: null,
      totalCpuUsPerRequest: cpu,
      serverBusyShare: round === 2 ? 0.5 : 0.95,
      clientBound: round === 2,
      storeOpsPerRequest: { reads, writes: 0, deletes: 0 },
      redisCommandsPerRequest: null,
      bytesPerRequest: { request: 100, response: 200 },
      statusCounts: { 200: requests },
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      status401Share: 0,
      rssBytes: 1000 * round,
      ratioToBaseline: { rps: 1, cpu: ratioCpu },
    })
    const s = summarizeRounds([r(1, 100, 1, 30, 2), r(2, 300, 2, 10, 3), r(3, 100, 1, 20, 4)])!
    assert.equal(s.storeOpsPerRequest.reads, (100 + 600 + 100) / 500)
    assert.deepEqual(s.cpuUsPerRequest, { median: 20, ci95: [10, 30], coverage: 0.75 })
    assert.equal(s.ratioToBaseline.cpu, 3)
    assert.equal(s.latencyMs.max, 7)
    assert.equal(s.rssBytes, 3000)
    assert.deepEqual([s.serverBusyShare, s.clientBoundRounds, s.storeCpuUsPerRequest], [0.95, 1, null])
    assert.equal(summarizeRounds([]), null)
  })
})

describe('seeded shuffle', () => {
  test('the same seed gives the same order; every item is kept', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    const a = seededRandom(7)
    const b = seededRandom(7)
    const orders = [shuffled(items, a), shuffled(items, a)]
    assert.deepEqual(orders, [shuffled(items, b), shuffled(items, b)])
    assert.notDeepEqual(orders[0], orders[1])
    assert.deepEqual([...orders[0]!].sort(), items)
    assert.notDeepEqual(shuffled(items, seededRandom(8)), orders[0])
  })
})

describe('interval coverage', () => {
  test('the range of n rounds covers the median with 1 - 2^(1-n); from 6 rounds on, at least 95%', () => {
    assert.equal(medianIntervalCoverage(1), 0)
    assert.equal(medianIntervalCoverage(3), 0.75)
    assert.equal(medianIntervalCoverage(5), 0.9375)
    for (const n of [6, 7, 9, 12, 20]) assert.ok(medianIntervalCoverage(n) >= 0.95, `n=${n}: ${medianIntervalCoverage(n)}`)
    // 6 rounds: the range again (k = 1), 1 - 2/64.
    assert.equal(medianIntervalCoverage(6), 1 - 2 / 64)
  })
})

describe('when a window is measured again', () => {
  test("only brackets that disagree: the rule never reads the cell's own figure, so it cannot pull a round toward the others", () => {
    assert.equal(repeatReason(0.2), 'its two baseline windows differ by 20%')
    assert.equal(repeatReason(0.15), null)
    assert.equal(repeatReason(0.05), null)
    // Its only input is the bracket: a reading far from the cell's other rounds is kept as measured.
    assert.equal(repeatReason.length, 1)
  })
})
