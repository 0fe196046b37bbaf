import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  bottleneck,
  md1,
  mg1MeanWait,
  mm1,
  moments,
  pointsFromQuantiles,
  quantileOf,
  quantileOf as quantile,
  quantileWithWaits,
  scaledTo,
  waitCdf,
} from '../../bench/sim/queueing.ts'
import { simulate } from '../../bench/sim/des.ts'

const close = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} is not within ${rel * 100}% of ${expected}`)

test('M/M/1 formulas: known values (λ = 0.8, μ = 1)', () => {
  close(mm1.meanSojourn(0.8, 1), 5, 1e-12, 'W')
  close(mm1.meanWait(0.8, 1), 4, 1e-12, 'Wq')
  close(mm1.sojournQuantile(0.8, 1, 0.99), 5 * Math.log(100), 1e-12, 'p99')
  // Pollaczek-Khinchine with exponential moments (E[S²] = 2/μ²) is M/M/1's mean wait.
  close(mg1MeanWait(0.8, { mean: 1, m2: 2 }), 4, 1e-12, 'P-K, exponential')
  assert.equal(mg1MeanWait(1, { mean: 1, m2: 2 }), Infinity)
})

test("M/D/1 formulas: the mean wait is half of M/M/1's, and Erlang's waiting-time distribution", () => {
  close(md1.meanWait(0.5, 1), 0.5, 1e-12, 'Wq at ρ 0.5')
  close(mg1MeanWait(0.5, { mean: 1, m2: 1 }), 0.5, 1e-12, 'P-K, fixed')
  // P(W = 0) = 1 - ρ; P(W <= d) = (1 - ρ) e^{ρ}.
  close(md1.waitCdf(0.5, 1, 0), 0.5, 1e-12, 'P(W = 0)')
  close(md1.waitCdf(0.5, 1, 1), 0.5 * Math.exp(0.5), 1e-12, 'P(W <= d)')
  // The distribution's mean, integrated numerically, is the formula's.
  let mean = 0
  for (let t = 0; t < 30; t += 0.001) mean += (1 - md1.waitCdf(0.5, 1, t + 0.0005)) * 0.001
  close(mean, 0.5, 0.002, "mean of Erlang's distribution")
})

test("the model's wait: exact for M/M/1 (atom 1 - ρ, exponential tail), two queues combine", () => {
  const w = { rho: 0.8, meanWait: 4 }
  close(waitCdf([w], 0), 0.2, 1e-12, 'P(W = 0)')
  // M/M/1 waiting time: P(W > t) = ρ e^{-(μ-λ)t}.
  close(1 - waitCdf([w], 10), 0.8 * Math.exp(-0.2 * 10), 1e-12, 'tail')
  // Sojourn = service (exponential, mean 1) + wait: quantile of the sum against the exact exponential(μ - λ).
  const service = Float64Array.from({ length: 4000 }, (_, i) => -Math.log(1 - (i + 0.5) / 4000))
  close(quantileWithWaits(service, [w], 0.99), mm1.sojournQuantile(0.8, 1, 0.99), 0.01, 'M/M/1 p99 sojourn')
  close(quantileWithWaits(service, [w], 0.5), mm1.sojournQuantile(0.8, 1, 0.5), 0.01, 'M/M/1 p50 sojourn')
  // Two idle queues add nothing; a saturated one makes every quantile infinite.
  assert.equal(
    waitCdf(
      [
        { rho: 0, meanWait: 0 },
        { rho: 0, meanWait: 0 },
      ],
      0,
    ),
    1,
  )
  assert.equal(quantileWithWaits(service, [{ rho: 1, meanWait: Infinity }], 0.5), Infinity)
  // Equal rates: the sum of two exponential tails is Erlang-2.
  const a = { rho: 1, meanWait: 1 }
  close(
    waitCdf(
      [
        { rho: 0.999999999, meanWait: 1 },
        { rho: 0.999999999, meanWait: 1 },
      ],
      2,
    ),
    1 - Math.exp(-2) * 3,
    1e-6,
    'Erlang-2',
  )
  assert.equal(waitCdf([a], -1), 0)
})

test("two queues' waits of different rates: the closed form against a numerical convolution", () => {
  const a = { rho: 0.6, meanWait: 3 }
  const b = { rho: 0.3, meanWait: 0.5 }
  // P(A + B <= t) = P(A = 0) P(B <= t) + ∫ density of A's tail at x times P(B <= t - x) dx.
  const ra = a.rho / a.meanWait
  const cdfB = (x: number) => (x < 0 ? 0 : waitCdf([b], x))
  for (const t of [0, 0.5, 2, 6, 15]) {
    let integral = 0
    const dx = 1e-4
    for (let x = dx / 2; x < t; x += dx) integral += a.rho * ra * Math.exp(-ra * x) * cdfB(t - x) * dx
    close(waitCdf([a, b], t), (1 - a.rho) * cdfB(t) + integral, 1e-5, `P(W <= ${t})`)
  }
})

test('points from measured quantiles keep the quantiles and the mean', () => {
  const q = { p50: 100, p90: 200, p99: 800, max: 3000, mean: 150 }
  const p = pointsFromQuantiles(q, 1000)
  close(quantileOf(p, 0.5), 100, 0.01, 'p50')
  close(quantileOf(p, 0.9), 200, 0.01, 'p90')
  close(quantileOf(p, 0.99), 800, 0.02, 'p99')
  close(moments(p).mean, 150, 0.001, 'mean')
  // Quantiles out of order (medians over rounds taken one by one): still sorted points.
  const odd = pointsFromQuantiles({ p50: 10, p90: 30, p99: 50, max: 40 }, 100)
  assert.deepEqual(
    [...odd],
    [...odd].sort((a, b) => a - b),
  )
  assert.ok(odd[99]! > 48 && odd[99]! <= 50, String(odd[99]))
  const s = scaledTo(p, 30)
  close(moments(s).mean, 30, 1e-9, 'scaled mean')
  close(moments(s).scv, moments(p).scv, 1e-9, 'scaled shape')
})

test('bottleneck law: the station with the least capacity sets the maximum rate', () => {
  const b = bottleneck([
    { name: 'app', servers: 4, demandUs: 50 },
    { name: 'store', servers: 1, demandUs: 20 },
    { name: 'network', servers: 1, demandUs: 0.5 },
  ])
  assert.equal(b.at.name, 'store')
  assert.equal(b.maxRps, 50_000)
  assert.equal(
    bottleneck([
      { name: 'app', servers: 1, demandUs: 50 },
      { name: 'store', servers: 1, demandUs: 0 },
    ]).maxRps,
    20_000,
  )
})

test('the DES agrees with M/M/1: mean and p99 sojourn at ρ 0.8, 10^6 requests', () => {
  // λ = 0.8 per µs-unit is 800,000/s with a mean service of 1 µs.
  const r = simulate({
    seed: 7,
    instances: 1,
    rate: 800_000,
    durationUs: 1_250_000,
    arrivals: 'poisson',
    appUs: { kind: 'exp', mean: 1 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
  })
  assert.ok(r.requests > 990_000 && r.requests < 1_010_000, `${r.requests} requests`)
  const mean = r.responseUs.reduce((s, x) => s + x, 0) / r.responseUs.length
  close(mean, mm1.meanSojourn(0.8, 1), 0.03, 'mean sojourn')
  close(quantile(r.responseUs, 0.99), mm1.sojournQuantile(0.8, 1, 0.99), 0.03, 'p99 sojourn')
  close(r.meanAppWaitUs, mm1.meanWait(0.8, 1), 0.04, 'mean wait')
  close(r.appBusyShare, 0.8, 0.01, 'busy share')
  assert.equal(r.failed, 0)
  // Seeded: the same seed gives the same run.
  const again = simulate({
    seed: 7,
    instances: 1,
    rate: 800_000,
    durationUs: 1_000,
    arrivals: 'poisson',
    appUs: { kind: 'exp', mean: 1 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
  })
  const twice = simulate({
    seed: 7,
    instances: 1,
    rate: 800_000,
    durationUs: 1_000,
    arrivals: 'poisson',
    appUs: { kind: 'exp', mean: 1 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
  })
  assert.deepEqual([...again.responseUs], [...twice.responseUs])
})

test("the DES agrees with M/D/1 at the store: mean wait and Erlang's distribution at ρ 0.5", () => {
  // Requests pass a near-instant app tier (8 instances) and make one store call of fixed 2 µs at 250,000/s.
  const r = simulate({
    seed: 3,
    instances: 8,
    rate: 250_000,
    durationUs: 2_000_000,
    arrivals: 'poisson',
    appUs: { kind: 'det', value: 0.001 },
    storeOps: 1,
    storeUs: { kind: 'det', value: 2 },
    storeRttUs: 0,
  })
  close(r.meanStoreWaitUs, md1.meanWait(0.25, 2), 0.03, 'store mean wait')
  close(r.storeBusyShare, 0.5, 0.01, 'store busy share')
  // Response = app 0.001 + wait + 2: P(response <= 2.001 + t) = P(W <= t).
  const share = (t: number) => {
    let k = 0
    for (const x of r.responseUs) if (x <= 2.001 + t + 1e-9) k++
    return k / r.responseUs.length
  }
  for (const t of [0, 1, 2, 4]) close(share(t), md1.waitCdf(0.25, 2, t), 0.01, `P(W <= ${t})`)
})

test("the DES: round robin over instances, the store's round trip, and a pause with fail-closed timeouts", () => {
  // Fixed service 10 µs, constant arrivals every 5 µs over two instances: each sees one every 10 µs, nobody waits.
  const rr = simulate({
    seed: 1,
    instances: 2,
    rate: 200_000,
    durationUs: 10_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 10 },
    storeOps: 2,
    storeUs: { kind: 'det', value: 1 },
    storeRttUs: 100,
  })
  assert.equal(rr.meanAppWaitUs, 0)
  // 10 µs of app, then two store calls of 100 µs round trip plus 1 µs each.
  assert.equal(quantile(rr.responseUs, 0.5), 212)
  assert.equal(quantile(rr.responseUs, 1), 212)
  // The store paused from 1 s to 2 s, 500 ms timeout: requests arriving in [1, 1.5) s fail, those in
  // [1.5, 2) s wait for it; the first 6 of those also time out: their calls queue behind the 500
  // abandoned ones (10 µs each) still in the store's input, so call k is answered 5 + 0.01k ms late.
  const p = simulate({
    seed: 1,
    instances: 1,
    rate: 1000,
    durationUs: 3_000_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 20 },
    storeOps: 1,
    storeUs: { kind: 'det', value: 10 },
    storeRttUs: 0,
    storePauses: [{ fromUs: 1_000_000, toUs: 2_000_000 }],
    timeoutUs: 500_000,
  })
  assert.equal(p.failed, 506)
  const failedBuckets = p.timeline.filter((b) => b.failed > 0).map((b) => b.tUs / 1000)
  assert.deepEqual(failedBuckets, [1000, 1100, 1200, 1300, 1400, 1500])
  // The 1,000 calls queued behind the pause, and the 11 that arrive while they are served, take
  // 10.11 ms after it (a drain of 10 ms / (1 - ρ), ρ = 0.01).
  assert.equal(p.backlogDrainedAtUs, 2_010_110)
  assert.ok(quantile(p.responseUs, 1) >= 480_000 && quantile(p.responseUs, 1) <= 500_030, `max ${quantile(p.responseUs, 1)}`)
})

test('the DES: a burst (a storm at one moment) queues behind itself', () => {
  const r = simulate({
    seed: 1,
    instances: 1,
    rate: 0,
    durationUs: 1_000_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
    bursts: [{ atUs: 0, count: 100, spreadUs: 0, storeOps: 0, appUs: { kind: 'det', value: 10 } }],
  })
  assert.equal(r.requests, 100)
  assert.equal(quantile(r.responseUs, 1), 1000)
  assert.equal(quantile(r.responseUs, 0.01), 10)
})

test('the DES: a wake-up for a request that finds its core asleep, at the gap it slept (known answers)', () => {
  const wake = { gapUs: [0, 500], us: [0, 100] }
  // 1,000/s, 10 µs each: every request after the first finds its core asleep for 990 µs, past the
  // table's end: it pays 100 µs, and answers in 110.
  const slow = simulate({
    seed: 1,
    instances: 1,
    rate: 1000,
    durationUs: 1_000_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
    wake,
  })
  assert.equal(quantile(slow.responseUs, 0.5), 110)
  close(slow.meanWakeUs, (100 * 999) / 1000, 1e-9, 'mean wake-up')
  assert.equal(slow.idleShare, 1)
  // 20,000/s: a gap g costs g / 5; after a wake-up w and 10 µs of work the core sleeps 50 - 10 - w,
  // so w = (40 - w) / 5 settles at 6.67 and every answer at 16.67 µs.
  const fast = simulate({
    seed: 1,
    instances: 1,
    rate: 20_000,
    durationUs: 1_000_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
    wake,
  })
  close(quantile(fast.responseUs, 0.5), 10 + 20 / 3, 1e-6, 'p50 at 20,000/s')
  // What lies outside the servers is added to every answer.
  const outside = simulate({
    seed: 1,
    instances: 1,
    rate: 1000,
    durationUs: 1_000_000,
    arrivals: 'constant',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
    wake,
    outsideUs: { kind: 'det', value: 50 },
  })
  assert.equal(quantile(outside.responseUs, 0.5), 160)
})

test('the DES: two instances on one core are one M/D/1 queue; on a core each, round robin halves their waits and more', () => {
  // Poisson at 50,000/s, 10 µs each: ρ 0.5 on the one core.
  const shared = simulate({
    seed: 5,
    instances: 2,
    rate: 50_000,
    durationUs: 20_000_000,
    arrivals: 'poisson',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
    coreOf: [0, 0],
  })
  close(shared.meanAppWaitUs, md1.meanWait(0.05, 10), 0.03, 'shared core: M/D/1 mean wait')
  close(shared.appBusyShare, 0.5, 0.01, 'the core half busy')
  // A core each: each sees every other arrival (Erlang-2 gaps) at ρ 0.25, which waits less than M/D/1 at 0.25.
  const apart = simulate({
    seed: 5,
    instances: 2,
    rate: 50_000,
    durationUs: 20_000_000,
    arrivals: 'poisson',
    appUs: { kind: 'det', value: 10 },
    storeOps: 0,
    storeUs: null,
    storeRttUs: 0,
  })
  assert.ok(apart.meanAppWaitUs < md1.meanWait(0.025, 10), `${apart.meanAppWaitUs} µs`)
  assert.throws(
    () =>
      simulate({
        seed: 1,
        instances: 2,
        rate: 1,
        durationUs: 1,
        arrivals: 'constant',
        appUs: { kind: 'det', value: 1 },
        storeOps: 0,
        storeUs: null,
        storeRttUs: 0,
        coreOf: [0],
      }),
    /coreOf names 1 cores for 2 instances/,
  )
})

test('the DES: store calls inside the sampled app time add only their wait and the round trip asked; a cluster spreads them', () => {
  const base = {
    seed: 2,
    instances: 1,
    rate: 1000,
    durationUs: 1_000_000,
    arrivals: 'constant' as const,
    appUs: { kind: 'det' as const, value: 60 },
    storeOps: 2,
    storeUs: { kind: 'det' as const, value: 10 },
    storeInApp: true,
  }
  assert.equal(quantile(simulate({ ...base, storeRttUs: 0 }).responseUs, 1), 60)
  assert.equal(quantile(simulate({ ...base, storeRttUs: 500 }).responseUs, 1), 1060)
  // 0.5 calls per request: half the requests make one.
  const half = simulate({ ...base, storeOps: 0.5, storeRttUs: 500, durationUs: 10_000_000 })
  close(quantile(half.responseUs, 0.25), 60, 1e-9, 'no call')
  close(quantile(half.responseUs, 0.75), 560, 1e-9, 'one call')
  // Three masters at 300,000 calls/s of 5 µs: each at ρ 0.5, M/D/1 (a random master per call splits Poisson into Poisson).
  const cluster = simulate({
    seed: 4,
    instances: 64,
    rate: 300_000,
    durationUs: 4_000_000,
    arrivals: 'poisson',
    appUs: { kind: 'det', value: 0.001 },
    storeOps: 1,
    storeUs: { kind: 'det', value: 5 },
    storeRttUs: 0,
    storeServers: 3,
  })
  close(cluster.meanStoreWaitUs, md1.meanWait(0.1, 5), 0.03, 'each master: M/D/1 mean wait')
  close(cluster.storeBusyShare, 0.5, 0.01, 'masters half busy')
})
