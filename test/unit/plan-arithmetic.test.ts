import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ChoiceMeasured, DEFAULT_INPUTS, type PlanInputs, plan } from '../../bench/capacity/arithmetic.ts'
import { measuredChoices } from '../../bench/capacity/measured.ts'
import { atYourScaleSection } from '../../bench/report/at-your-scale.ts'
import { fixtureResults, lifecycleResults } from '../fixtures/results.ts'

const inputs: PlanInputs = {
  rate: 40_000,
  users: 2_000_000,
  requestsPerUserPerMinute: 1.2,
  instances: 4,
  storeRttMs: 0.5,
  accessTtlSeconds: 900,
}

function choice(over: Partial<ChoiceMeasured>): ChoiceMeasured {
  return {
    id: 'session-redis',
    label: 'a redis session',
    state: 'server',
    sharedStore: true,
    refreshes: false,
    denylist: false,
    sealedLifetimeSeconds: null,
    cpuUsPerRequest: { value: 80, interval: [75, 90], source: 'cpu' },
    storeCpuUsPerRequest: { value: 12.5, interval: [12, 13], source: 'store cpu' },
    storeReadsPerRequest: { value: 1, interval: null, source: 'reads' },
    storeWritesPerRequest: { value: 0, interval: null, source: 'writes' },
    renewalIntervalSeconds: 60,
    bytesPerRequest: { value: 300, interval: null, source: 'bytes' },
    refreshesChecked: null,
    revocationLagMeasured: null,
    latency: null,
    absent: {},
    ...over,
  }
}

const figuresOf = (c: ChoiceMeasured, i: PlanInputs = inputs) => plan([c], i).choices[0]!.figures

describe('the planner arithmetic', () => {
  test('server and store cores are rate x CPU µs per request / 1e6, the interval scaled at both ends', () => {
    const f = figuresOf(choice({}))
    assert.equal(f.serverCores.value, (40_000 * 80) / 1e6)
    assert.deepEqual(f.serverCores.interval, [(40_000 * 75) / 1e6, (40_000 * 90) / 1e6])
    assert.equal(f.storeCores.value, 0.5)
    assert.deepEqual(f.storeCores.interval, [0.48, 0.52])
    assert.equal(f.storeReadsPerSecond.value, 40_000)
    assert.equal(f.bytesPerSecond.value, 12_000_000)
  })

  test('renewal writes: one per user per 60 s, at most one per request', () => {
    // 1.2 a minute is 1.2 requests per 60 s interval: one write in 1.2 requests.
    assert.equal(figuresOf(choice({})).storeWritesPerSecond.value, 40_000 / 1.2)
    // 6 a minute: 6 per interval, one write in 6.
    assert.equal(
      figuresOf(choice({}), { ...inputs, requestsPerUserPerMinute: 6 }).storeWritesPerSecond.value,
      40_000 * (1 / ((6 / 60) * 60)),
    )
    // Rarer than once an interval: every request renews.
    assert.equal(figuresOf(choice({}), { ...inputs, requestsPerUserPerMinute: 0.5 }).storeWritesPerSecond.value, 40_000)
    assert.equal(figuresOf(choice({ renewalIntervalSeconds: null })).storeWritesPerSecond.value, 0)
  })

  test('revocation lag: 0 for sessions and denylists, up to the access TTL for a plain JWT, a sealed cookie to its deadlines', () => {
    assert.equal(figuresOf(choice({})).revocationLagSeconds.value, 0)
    const jwt = { state: 'client' as const, refreshes: true, renewalIntervalSeconds: null }
    assert.equal(figuresOf(choice({ ...jwt, denylist: true })).revocationLagSeconds.value, 0)
    const plain = figuresOf(choice(jwt), { ...inputs, accessTtlSeconds: 300 }).revocationLagSeconds
    assert.equal(plain.value, 300)
    assert.deepEqual(plain.interval, [0, 300])
    const cookie = figuresOf(choice({ state: 'client', sealedLifetimeSeconds: { idle: 1800, absolute: 43_200 } })).revocationLagSeconds
    assert.deepEqual([cookie.value, cookie.interval], [1800, [1800, 43_200]])
  })

  test('refreshes: users / access TTL, once per call when rarer; absent without a lifecycle run', () => {
    const jwt = { state: 'client' as const, refreshes: true, renewalIntervalSeconds: null }
    const checked = { value: 1, interval: null, source: 'lifecycle' }
    assert.equal(figuresOf(choice({ ...jwt, refreshesChecked: checked })).refreshesPerSecond.value, 2_000_000 / 900)
    const rare = { ...inputs, requestsPerUserPerMinute: 0.01 }
    assert.equal(figuresOf(choice({ ...jwt, refreshesChecked: checked }), rare).refreshesPerSecond.value, (2_000_000 * 0.01) / 60)
    const none = figuresOf(choice(jwt)).refreshesPerSecond
    assert.equal(none.value, null)
    assert.match(none.value === null ? none.absent : '', /no lifecycle run/)
  })

  test("a refreshing JWT's store writes: its GETs' plus 2 per refresh (consume, record the next), where a lifecycle run checked the rate", () => {
    const jwt = { state: 'client' as const, refreshes: true, renewalIntervalSeconds: null }
    const checked = { value: 1, interval: null, source: 'lifecycle' }
    const writes = figuresOf(choice({ ...jwt, refreshesChecked: checked })).storeWritesPerSecond
    assert.equal(writes.value, (2_000_000 / 900) * 2)
    assert.match(writes.value === null ? '' : writes.source, /refreshes\/s x 2 \(a refresh consumes its token and records the next/)
    // Unchecked, the GETs' writes alone, and the figure says what it leaves out.
    const unchecked = figuresOf(choice(jwt)).storeWritesPerSecond
    assert.equal(unchecked.value, 0)
    assert.match(unchecked.value === null ? '' : unchecked.source, /GETs only: each refresh adds 2 writes/)
  })

  test('latency only at the validated instance count and under the judged load, interpolated on the curve', () => {
    const latency = {
      instances: 4,
      storeRttMs: 0.5,
      capacityRps: 10_000,
      judgedCapacity: 0.7,
      points: [
        { load: 0.1, p50Us: 1000, p99Us: 3000 },
        { load: 0.2, p50Us: 2000, p99Us: 5000 },
      ],
      source: 'sim',
    }
    // 1,500/s is 15% of the 4 instances' capacity, halfway between the points.
    const f = figuresOf(choice({ latency }), { ...inputs, rate: 1500 })
    assert.equal(f.p50Ms.value, 1.5)
    assert.equal(f.p99Ms.value, 4)
    const other = figuresOf(choice({ latency }), { ...inputs, rate: 1500, instances: 8 }).p99Ms
    assert.equal(other.value, null)
    assert.match(other.value === null ? other.absent : '', /^not validated: .* 4 instance/)
    const far = figuresOf(choice({ latency }), { ...inputs, rate: 1500, storeRttMs: 2 }).p50Ms
    assert.match(far.value === null ? far.absent : '', /store 0.5 ms away, not 2 ms/)
    const busy = figuresOf(choice({ latency }), { ...inputs, rate: 8000 }).p50Ms
    assert.match(busy.value === null ? busy.absent : '', /80% .* over the 70% judged/)
  })

  test('break-even points with the inputs they assume', () => {
    const p = plan([choice({})], inputs)
    const by = Object.fromEntries(p.breakEven.map((b) => [b.kind, b]))
    // Writes 1 / (q x 60) = 0.1 x 1 read: q = 1/6 per second, 10 per minute.
    assert.equal(by['renewal-share']!.value, 10)
    assert.equal(by['refresh-equals-reads']!.value, 2_000_000 / 40_000)
    assert.equal(by['store-core-saturates']!.value, 80_000)
    assert.equal(by['store-bounds-fleet']!.value, 6.4)
    assert.deepEqual(by['store-bounds-fleet']!.assumes, { cpuUsPerRequest: 80, storeCpuUsPerRequest: 12.5, storeCores: 1 })
  })

  test('a rate that users x calls does not give is noted; the defaults agree with themselves', () => {
    assert.equal(plan([], { ...inputs, rate: 100 }).notes.length, 1)
    assert.equal(plan([], DEFAULT_INPUTS).notes.length, 0)
  })

  test('runs combine: a lifecycle cell joins the closed-loop choice it differs from only in lifetimes; a framework is a choice of its own', () => {
    const closed = fixtureResults()
    const sqlite = closed.cells.find((c) => c.id === 'session-sqlite')!
    closed.cells.push({ ...sqlite, id: 'session-sqlite-express', framework: 'express' })
    const choices = measuredChoices([
      { dir: 'a', results: closed, simulation: null },
      { dir: 'b', results: lifecycleResults(), simulation: null },
    ])
    const session = choices.filter((c) => c.id.startsWith('session-sqlite'))
    assert.deepEqual(
      session.map((c) => [c.id, c.label]),
      [
        ['session-sqlite', 'a sqlite session'],
        ['session-sqlite-express', 'a sqlite session on Express'],
      ],
    )
    // The lifecycle run's session-sqlite measured its revocation lag; the closed run its CPU.
    assert.match(session[0]!.revocationLagMeasured?.source ?? '', /^b\/results\.json session-sqlite lifecycle/)
    assert.match(session[0]!.cpuUsPerRequest?.source ?? '', /^a\/results\.json session-sqlite summary/)
    assert.equal(session[0]!.renewalIntervalSeconds, 60)
  })

  test("a login run's windows are a login's cost, not a request's: its choices' per-request figures are absent, saying why", () => {
    const login = fixtureResults()
    login.scenario.workload.route = 'POST /login'
    for (const c of login.cells) c.workload = 'POST /login'
    const [first] = measuredChoices([{ dir: 'l', results: login, simulation: null }])
    assert.equal(first!.cpuUsPerRequest, null)
    assert.match(first!.absent.serverCores ?? '', /^no GET \/me or GET \/profile window measured it .*a POST \/login run measures logins/)
    assert.match(atYourScaleSection(login, null), /This run's figures per request \(none here: its POST \/login windows/)
    assert.match(atYourScaleSection(fixtureResults(), null), /This run's figures per GET \/me request, times/)
  })
})
