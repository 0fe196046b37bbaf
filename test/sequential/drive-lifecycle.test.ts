import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { runLifecycle, type LifecycleOptions } from '../../bench/drive/virtual-users.ts'
import { expectedLagMedianMs, expectedRefreshes, lifecycleWorkload, refreshIntervalSeconds } from '../../bench/refresh-arithmetic.ts'
import { ProcessGroup, startServer } from '../../bench/processes.ts'
import { startRedis, type PrivateRedis } from '../../bench/stores/redis-server.ts'
import { strategyRunners } from '../../bench/strategies/run/index.ts'
import { expandPlan } from '../../bench/plan.ts'
import type { CellPlan } from '../../bench/contracts/plan.ts'
import { validateScenario } from '../../bench/contracts/scenario.ts'

const group = new ProcessGroup()
after(() => group.stopAll())

type Kind = 'session' | 'jwt' | 'cookie'

/** A real server process and the lifecycle driver against it, with the given workload. */
async function live(kind: Kind, serverArgs: string[], over: Partial<LifecycleOptions>) {
  const server = await startServer(group, ['--strategy', kind, '--port', '0', '--users', '40', '--hash-cost', '4', ...serverArgs])
  try {
    return await runLifecycle({
      urls: [server.url],
      client: strategyRunners[kind].lifecycle!,
      path: '/me',
      users: 20,
      requestsPerUserPerSecond: 4,
      durationSeconds: 6,
      logoutsPerSecond: 4,
      refreshMarginSeconds: 0.5,
      refreshJitterSeconds: 0,
      concurrentRefreshShare: 0,
      synchronized: false,
      warmupSeconds: 2,
      probeIntervalMs: 30,
      drainSeconds: 4,
      seed: 7,
      ...over,
    })
  } finally {
    await server.stop()
  }
}

const cell = (over: Partial<CellPlan>): CellPlan => ({
  id: 'x',
  strategy: 'jwt',
  store: 'sqlite',
  alg: 'HS256',
  engine: 'fast-jwt',
  keyForm: null,
  verifyCache: null,
  revocation: 'none',
  accessTtlSeconds: 3,
  refreshGraceSeconds: 0,
  refreshJitterSeconds: 0,
  storeRttMs: 0,
  instances: 1,
  workload: 'lifecycle',
  ...over,
})

describe('lifecycle arithmetic', () => {
  test('refresh interval: TTL - ceil(margin) with whole-second exp; about TTL - margin - jitter/2 - 1/2 with jitter; none without refreshes', () => {
    assert.equal(refreshIntervalSeconds(cell({ accessTtlSeconds: 8 }), { refreshMarginSeconds: 0.5 }), 7)
    assert.equal(refreshIntervalSeconds(cell({ accessTtlSeconds: 8 }), { refreshMarginSeconds: 1.5 }), 6)
    assert.equal(refreshIntervalSeconds(cell({ accessTtlSeconds: 8, refreshJitterSeconds: 2 }), { refreshMarginSeconds: 0.5 }), 6)
    assert.equal(refreshIntervalSeconds(cell({ strategy: 'cookie', accessTtlSeconds: 8 }), { refreshMarginSeconds: 0.5 }), null)
    assert.equal(refreshIntervalSeconds(cell({ strategy: 'session', accessTtlSeconds: null }), { refreshMarginSeconds: 0.5 }), null)
  })

  test('expected lag: 0 for sessions and denylists, margin + interval/2 for a JWT, idle less half a re-seal for a cookie', () => {
    const w = { refreshMarginSeconds: 0.5, requestsPerUserPerSecond: 2 }
    assert.equal(expectedLagMedianMs(cell({ strategy: 'session', accessTtlSeconds: null }), w), 0)
    assert.equal(expectedLagMedianMs(cell({ revocation: 'denylist', accessTtlSeconds: 8 }), w), 0)
    assert.equal(expectedLagMedianMs(cell({ accessTtlSeconds: 8 }), w), 4000)
    // Idle 8 s: re-sealed every 2 s (a quarter) at the first request after that (0.25 s later on average).
    assert.equal(expectedLagMedianMs(cell({ strategy: 'cookie', revocation: null, accessTtlSeconds: 8 }), w), 8000 - 2250 / 2)
  })

  test('expected refreshes: users x duration / interval, less what each logout cuts from the schedule', () => {
    const w = { users: 100, durationSeconds: 14, logoutsPerSecond: 2, refreshMarginSeconds: 0.5 }
    // D / I = 2 exactly: each logout removes I (2 + 0) / 2D = 1/2 refresh.
    assert.equal(expectedRefreshes(cell({ accessTtlSeconds: 8 }), w), (100 * 14) / 7 - 28 / 2)
    // D < I (10 s window, 15 s interval): a logout removes D / 2I = 1/3 refresh.
    assert.equal(expectedRefreshes(cell({ accessTtlSeconds: 16 }), { ...w, durationSeconds: 10 }), (100 * 10) / 15 - 20 / 3)
    assert.equal(expectedRefreshes(cell({ strategy: 'session', accessTtlSeconds: null }), w), null)
  })

  test('scenario: refused with the reason when a lifetime is shorter than the request interval, no credential, too many logouts, too much load', () => {
    const base = { name: 'l', description: 'd', load: { rounds: 1 } }
    const lifecycle = { route: 'lifecycle', users: 10, requestsPerUserPerSecond: 0.5, durationSeconds: 5, logoutsPerSecond: 1 }
    const plan =
      (cells: unknown[], workload: Record<string, unknown> = lifecycle) =>
      () =>
        expandPlan(validateScenario({ ...base, cells, workload }, 's.json'), 's.json')
    assert.throws(plan([{ strategy: 'jwt', accessTtlSeconds: 1 }]), (e: { issues: { path: string; message: string }[] }) =>
      e.issues.some((i) => i.path === 'cells[0].accessTtlSeconds' && /shorter than one user's request interval \(2 s\)/.test(i.message)),
    )
    assert.throws(
      plan([{ strategy: 'jwt', accessTtlSeconds: 3, refreshJitterSeconds: 2 }]),
      (e: { issues: { path: string; message: string }[] }) =>
        e.issues.some((i) => i.path === 'cells[0].accessTtlSeconds' && /leaves no time between refreshes/.test(i.message)),
    )
    assert.throws(plan([{ strategy: 'none' }]), (e: { issues: { path: string; message: string }[] }) =>
      e.issues.some((i) => i.path === 'cells[0].strategy' && /no credential to live with/.test(i.message)),
    )
    assert.throws(
      () => validateScenario({ ...base, cells: [{ strategy: 'session' }], workload: { ...lifecycle, logoutsPerSecond: 11 } }, 's.json'),
      (e: { issues: { path: string; message: string }[] }) =>
        e.issues.some((i) => i.path === 'workload.logoutsPerSecond' && /more logouts per second than users \(10\)/.test(i.message)),
    )
    assert.throws(
      () =>
        validateScenario(
          { ...base, cells: [{ strategy: 'session' }], workload: { ...lifecycle, users: 10_000, requestsPerUserPerSecond: 1 } },
          's.json',
        ),
      (e: { issues: { path: string; message: string }[] }) =>
        e.issues.some(
          (i) => i.path === 'workload.requestsPerUserPerSecond' && /10000\/s, more than the lifecycle driver can send/.test(i.message),
        ),
    )
    assert.throws(
      () => validateScenario({ ...base, cells: [{ strategy: 'session' }], workload: { route: 'lifecycle', users: 10 } }, 's.json'),
      (e: { issues: { path: string }[] }) =>
        ['workload.requestsPerUserPerSecond', 'workload.durationSeconds', 'workload.logoutsPerSecond'].every((p) =>
          e.issues.some((i) => i.path === p),
        ),
    )
    assert.throws(
      () => validateScenario({ ...base, cells: [{ strategy: 'session' }], workload: { route: 'GET /me', logoutsPerSecond: 1 } }, 's.json'),
      (e: { issues: { path: string; message: string }[] }) =>
        e.issues.some((i) => i.path === 'workload.logoutsPerSecond' && /lifecycle" only/.test(i.message)),
    )
    assert.throws(plan([{ strategy: 'jwt', refreshJitterSeconds: 1 }], { route: 'GET /me' }), (e: { issues: { path: string }[] }) =>
      e.issues.some((i) => i.path === 'cells[0].refreshJitterSeconds'),
    )
    const ok = expandPlan(
      validateScenario(
        {
          ...base,
          cells: [
            { strategy: 'jwt', accessTtlSeconds: [4, 8] },
            { strategy: 'cookie', accessTtlSeconds: 4 },
          ],
          workload: lifecycle,
        },
        's.json',
      ),
      's.json',
    )
    assert.deepEqual(
      ok.cells.map((c) => c.id),
      ['jwt-HS256-jose-sqlite-ttl4s', 'jwt-HS256-jose-sqlite-ttl8s', 'cookie-ttl4s'],
    )
    assert.deepEqual(
      lifecycleWorkload(validateScenario({ ...base, cells: [{ strategy: 'session' }], workload: lifecycle }, 's.json').workload).path,
      '/me',
    )
  })
})

// Four at a time: each is a server of its own and a light load (20 users, 4 requests a second each), mostly waiting on
// token lifetimes, so together they keep neither core busy.
describe('lifecycle driver on a real server', { concurrency: 4 }, () => {
  test('JWT, 3 s tokens: refreshes as the policy predicts, lag spread over the remaining lifetime, no GET refused', async () => {
    // 18 logouts among 40 users: each logs out at most once, so every lag sample sees a steady-state token.
    const res = await live('jwt', ['--engine', 'fast-jwt', '--access-ttl', '3'], { users: 40, logoutsPerSecond: 3 })
    const c = cell({ accessTtlSeconds: 3 })
    const w = { users: 40, durationSeconds: 6, logoutsPerSecond: 3, refreshMarginSeconds: 0.5, requestsPerUserPerSecond: 4 }
    const expected = expectedRefreshes(c, w)!
    // D / I = 3: a logout removes I (3 + 0) / 2D = 1/2 refresh.
    assert.equal(expected, (40 * 6) / 2 - 18 / 2)
    assert.ok(Math.abs(res.refreshes - expected) / expected <= 0.15, `${res.refreshes} refreshes against ${expected}`)
    assert.equal(res.logouts, 18)
    assert.equal(res.unexpected401, 0)
    assert.equal(res.refreshFailures.invalidGrant, 0)
    assert.equal(res.revocationLagMs.samples + res.revocationLagMs.censored, 18)
    assert.equal(res.revocationLagMs.censored, 0)
    // Remaining lifetime at logout is spread over [margin, margin + interval] = [0.5, 2.5] s: median 1.5 s.
    const predicted = expectedLagMedianMs(c, w)
    assert.equal(predicted, 1500)
    // The median of 18 samples spread over 2 s has a standard error of about 0.24 s.
    assert.ok(Math.abs(res.revocationLagMs.p50! - predicted) <= 600, `lag p50 ${res.revocationLagMs.p50} ms against ${predicted}`)
    assert.ok(res.revocationLagMs.max! <= 2500 + 2 * 30 + 100, `lag max ${res.revocationLagMs.max}`)
    assert.ok(res.requests >= 40 * 4 * 6 * 0.9, `${res.requests} GETs`)
    assert.equal(res.statusCounts['200'], res.completed)
    assert.equal(res.timeline.length, 60)
    assert.equal(
      res.timeline.reduce((n, b) => n + b.refreshes, 0),
      res.refreshes,
    )
  })

  test('sessions: a logged-out credential is refused at once (lag p99 under 50 ms)', async () => {
    const res = await live('session', [], { drainSeconds: 1 })
    assert.equal(res.logouts, 24)
    assert.equal(res.revocationLagMs.samples, 24)
    assert.ok(res.revocationLagMs.p99! < 50, `p99 ${res.revocationLagMs.p99} ms`)
    assert.equal(res.refreshes, 0)
    assert.equal(res.unexpected401, 0)
  })

  test('a sealed cookie with a 2 s idle timeout: kept alive by use, a stolen copy works until its idle deadline', async () => {
    const res = await live('cookie', ['--session-idle-ttl', '2'], {})
    assert.equal(res.unexpected401, 0)
    assert.equal(res.forcedLogins, 0)
    assert.equal(res.revocationLagMs.censored, 0)
    // Re-sealed every 0.5 s (a quarter of 2 s), at the next request (0.25 s apart): the copy lives 2 s less up to 0.75 s.
    assert.ok(res.revocationLagMs.p50! >= 1200 && res.revocationLagMs.p50! <= 2100, `lag p50 ${res.revocationLagMs.p50}`)
  })

  test('two tabs refreshing at once: the family revoked every time without a grace window, never with one', async () => {
    const without = await live('jwt', ['--engine', 'fast-jwt', '--access-ttl', '3'], {
      concurrentRefreshShare: 1,
      logoutsPerSecond: 0,
      durationSeconds: 4,
    })
    assert.ok(without.races.attempted >= 15, `${without.races.attempted} races`)
    assert.equal(without.races.familyRevoked, without.races.attempted)
    // Each revoked family's user logs in again, counted when that login falls in the window: a race
    // refused after the window ended logs in after it, outside the count.
    assert.ok(
      without.forcedLogins <= without.races.attempted && without.forcedLogins >= 0.85 * without.races.attempted,
      `${without.forcedLogins} forced logins, ${without.races.attempted} races`,
    )
    const withGrace = await live('jwt', ['--engine', 'fast-jwt', '--access-ttl', '3', '--refresh-grace', '2'], {
      concurrentRefreshShare: 1,
      logoutsPerSecond: 0,
      durationSeconds: 4,
    })
    assert.ok(withGrace.races.attempted >= 15, `${withGrace.races.attempted} races`)
    assert.equal(withGrace.races.familyRevoked, 0)
    assert.equal(withGrace.forcedLogins, 0)
    assert.equal(withGrace.refreshFailures.invalidGrant, 0)
  })
})

describe('lifecycle driver with the store down', () => {
  let redis: PrivateRedis
  after(() => redis?.stop())

  /** The lifecycle on a Redis-backed JWT server while Redis is paused (SIGSTOP) for 1.5 s in the middle of the window. */
  async function stalled(grace: number) {
    redis ??= await startRedis()
    const stall = setTimeout(() => {
      redis.process.kill('SIGSTOP')
      setTimeout(() => redis.process.kill('SIGCONT'), 1500)
    }, 3500)
    try {
      return await live(
        'jwt',
        ['--engine', 'fast-jwt', '--access-ttl', '3', '--store', 'redis', '--redis-url', redis.url, '--refresh-grace', String(grace)],
        { logoutsPerSecond: 0, durationSeconds: 5 },
      )
    } finally {
      clearTimeout(stall)
      redis.process.kill('SIGCONT')
    }
  }

  test('refreshes answered 503 are retried with back-off; a refusal is counted apart when it follows a 503', async () => {
    const res = await stalled(0)
    assert.ok(res.refreshFailures.unavailable > 0, `${res.refreshFailures.unavailable} refreshes answered 503`)
    // A rotation the server gave up on (command timeout) still ran when Redis resumed: the retry then
    // presents a used token. Every refusal here is such a retry, none a theft or a race.
    assert.equal(res.refreshFailures.invalidGrant, res.refreshFailures.invalidGrantAfterUnavailable)
    assert.equal(res.races.familyRevoked, 0)
    // Plain JWT GETs never touch the store: none was refused for the stall.
    assert.equal(res.status503, 0)
  })

  test('with a grace window longer than the stall, the retries are answered and nobody is logged out', async () => {
    const res = await stalled(5)
    assert.ok(res.refreshFailures.unavailable > 0, `${res.refreshFailures.unavailable} refreshes answered 503`)
    assert.equal(res.refreshFailures.invalidGrant, 0)
    assert.equal(res.forcedLogins, 0)
  })
})
