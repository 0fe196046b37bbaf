import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRound } from '../../bench/check.ts'
import { cachedReadBound, cachedReadsPerGet, expectedOps, renewalWriteBound } from '../../bench/expected.ts'
import type { CellPlan } from '../../bench/contracts/plan.ts'
import type { RoundMeasurement } from '../../bench/contracts/results.ts'

const round = (over: Partial<RoundMeasurement>): RoundMeasurement => ({
  round: 2,
  slot: 1,
  requests: 1000,
  durationSeconds: 1,
  rps: 1000,
  latencyMs: { p50: 1, p90: 1, p99: 2, max: 3 },
  serverTimeUs: { p50: 10, p90: 20, p99: 30, max: 40, mean: 12 },
  cpuUsPerRequest: 20,
  storeOpsPerRequest: { reads: 1, writes: 0, deletes: 0 },
  redisCommandsPerRequest: null,
  storeCpuUsPerRequest: null,
  totalCpuUsPerRequest: 20,
  serverBusyShare: 0.98,
  clientBound: false,
  bytesPerRequest: { request: 100, response: 200 },
  statusCounts: { 200: 1000 },
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  status401Share: 0,
  rssBytes: 1,
  ...over,
})

const cell = (over: Partial<CellPlan> & Pick<CellPlan, 'strategy' | 'workload'>) => ({
  store: null,
  alg: null,
  engine: null,
  keyForm: null,
  verifyCache: null,
  revocation: null,
  accessTtlSeconds: null,
  refreshGraceSeconds: null,
  refreshJitterSeconds: null,
  storeRttMs: null,
  instances: 1,
  ...over,
})
const session = expectedOps(cell({ strategy: 'session', store: 'sqlite', workload: 'GET /me' }))

test('a clean round with the exact counts passes', () => {
  assert.equal(checkRound(round({}), session, 0), null)
})

test('a wrong store count, non-2xx answers and errors each make the round invalid', () => {
  assert.equal(
    checkRound(round({ storeOpsPerRequest: { reads: 1.001, writes: 0, deletes: 0 } }), session, 0),
    'round 2: store reads per request: counted 1.0010, expected 1',
  )
  assert.equal(checkRound(round({ statusCounts: { 200: 990, 503: 10 }, non2xx: 10 }), session, 0), 'round 2: non-2xx answers: 10 x 503')
  assert.equal(checkRound(round({ errors: 3, timeouts: 1 }), session, 0), 'round 2: 3 connection errors, 1 timeouts')
  assert.equal(
    checkRound(round({ redisCommandsPerRequest: { reads: 2, writes: 0, deletes: 0, total: 2 } }), session, 0),
    "round 2: the store's own count of reads per request (its statistics): 2.0000, expected 1",
  )
  // Every command type: a renewal the server counted must show as a SET in Redis, and nothing else may.
  assert.equal(
    checkRound(
      round({
        storeOpsPerRequest: { reads: 1, writes: 0.01, deletes: 0 },
        redisCommandsPerRequest: { reads: 1, writes: 0.01, deletes: 0, total: 1.01 },
      }),
      session,
      0,
      50,
    ),
    null,
  )
  assert.equal(
    checkRound(
      round({
        storeOpsPerRequest: { reads: 1, writes: 0.01, deletes: 0 },
        redisCommandsPerRequest: { reads: 1, writes: 0, deletes: 0.001, total: 1.001 },
      }),
      session,
      0,
      50,
    ),
    "round 2: the store's own count of writes per request (its statistics): 0.0000, expected 0.01; the store's own count of " +
      'deletes per request (its statistics): 0.0010, expected 0',
  )
})

test('session renewal writes are accepted up to the bound, not beyond', () => {
  assert.equal(checkRound(round({ storeOpsPerRequest: { reads: 1, writes: 0.05, deletes: 0 } }), session, 0, 50), null)
  assert.equal(
    checkRound(round({ storeOpsPerRequest: { reads: 1, writes: 0.051, deletes: 0 } }), session, 0, 50),
    'round 2: store writes: counted 51, more than the 50 session renewals the window allows',
  )
  const jwt = expectedOps(cell({ strategy: 'jwt', store: 'sqlite', revocation: 'none', workload: 'GET /me' }))
  assert.equal(
    checkRound(round({ storeOpsPerRequest: { reads: 0, writes: 0.001, deletes: 0 } }), jwt, 0, 50),
    'round 2: store writes per request: counted 0.0010, expected 0',
  )
  assert.equal(renewalWriteBound(1000, 2, 5), 2000)
  assert.equal(renewalWriteBound(1000, 1, 60), 2000)
})

test('401s are accepted only where a per-process store makes them the expected finding', () => {
  const r = round({ statusCounts: { 200: 500, 401: 500 }, non2xx: 500, status401Share: 0.5 })
  assert.equal(checkRound(r, session, 0.5), null)
  assert.equal(checkRound(r, session, 0), 'round 2: non-2xx answers: 500 x 401')
})

test('expected operations per workload follow the contract (docs/contracts.md)', () => {
  assert.deepEqual(expectedOps(cell({ strategy: 'jwt', store: 'sqlite', revocation: 'none', workload: 'GET /me' })), {
    stateReads: 0,
    userReads: 0,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
  assert.deepEqual(expectedOps(cell({ strategy: 'jwt', store: 'sqlite', revocation: 'denylist', workload: 'GET /profile' })), {
    stateReads: 1,
    userReads: 1,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
  assert.deepEqual(expectedOps(cell({ strategy: 'none', workload: 'GET /profile' })), {
    stateReads: 0,
    userReads: 1,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
  assert.deepEqual(expectedOps(cell({ strategy: 'session', store: 'sqlite', workload: 'POST /login' })), {
    stateReads: 0,
    userReads: 1,
    writes: 1,
    deletes: 0,
    renewals: false,
  })
})

test('the cookie strategy reads no store to identify, and writes nothing at login', () => {
  assert.deepEqual(expectedOps(cell({ strategy: 'cookie', workload: 'GET /me' })), {
    stateReads: 0,
    userReads: 0,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
  assert.deepEqual(expectedOps(cell({ strategy: 'cookie', workload: 'GET /profile' })), {
    stateReads: 0,
    userReads: 1,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
  assert.deepEqual(expectedOps(cell({ strategy: 'cookie', workload: 'POST /login' })), {
    stateReads: 0,
    userReads: 1,
    writes: 0,
    deletes: 0,
    renewals: false,
  })
})

test('a session-cached cell: its state reads are held to the bound the cache implies, and the store must have seen exactly them', () => {
  const cache = { entries: 1000, ttlSeconds: 5 }
  const cached = expectedOps(cell({ strategy: 'session', store: 'redis', workload: 'GET /profile', sessionCache: cache }))
  assert.equal(cached.cachedReads, true)
  // 100 sessions on 2 instances over a 12 s window with a 5 s TTL: each entry filled at most 3 times.
  const bound = cachedReadBound(100, 2, 12, cache)
  assert.equal(bound, 600)
  // Fewer entries than sessions: entries are pushed out before their TTL, only one read a request bounds them.
  assert.equal(cachedReadBound(1001, 1, 12, cache), null)
  const reads = (state: number, redis: number | null) =>
    round({
      storeOpsPerRequest: { reads: 1 + state / 1000, writes: 0, deletes: 0 },
      redisCommandsPerRequest: redis === null ? null : { reads: redis / 1000, writes: 0, deletes: 0, total: redis / 1000 },
    })
  assert.equal(checkRound(reads(600, 600), cached, 0, 0, bound), null)
  assert.equal(
    checkRound(reads(601, 601), cached, 0, 0, bound),
    'round 2: store state reads: counted 601, outside the 0 to 600 the session cache allows',
  )
  assert.equal(
    checkRound(reads(200, 201), cached, 0, 0, bound),
    "round 2: the store's own count of reads per request (its statistics): 0.2010, expected 0.2",
  )
  // A lifecycle user keeping to one instance: one read per ceil(TTL x rate) GETs (5 s at 2/s: 1 in 10; 0.3/s: every GET).
  assert.deepEqual(
    [cachedReadsPerGet(5, 2), cachedReadsPerGet(5, 0.3), cachedReadsPerGet(5, 0.25), cachedReadsPerGet(2, 0.1)],
    [0.1, 0.5, 1 / 2, 1],
  )
  // With no bound, one read a request is the most.
  assert.equal(checkRound(reads(1000, 1000), cached, 0, 0, null), null)
})
