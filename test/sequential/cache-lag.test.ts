// The revocation lag an instance's cache adds, measured by the lifecycle driver: two real server processes on one
// Redis behind HAProxy round robin (each user's GETs reach both instances, so both caches hold its session), a
// logout through the balancer, and a thief presenting the copy to each instance directly until each refuses it.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { runLifecycle } from '../../bench/drive/virtual-users.ts'
import type { EveryInstanceLag } from '../../bench/contracts/results.ts'
import { haproxyInstalled, startHaproxy } from '../../bench/fleet/haproxy.ts'
import { ProcessGroup, startServer } from '../../bench/processes.ts'
import { startRedis, type PrivateRedis } from '../../bench/stores/redis-server.ts'
import { strategyRunners } from '../../bench/strategies/run/index.ts'

const group = new ProcessGroup()
let redis: PrivateRedis | null = null
before(async () => {
  redis = await startRedis()
})
after(async () => {
  await group.stopAll()
  await redis?.stop()
})

const TTL_S = 2
const PROBE_MS = 20
/**
 * Above the TTL: an entry is stamped when the read that filled it started, before the logout, so the lag cannot exceed
 * the TTL but by the probing: a probe every PROBE_MS, timed from its send, late by the driver's own scheduling (up to
 * 72 ms measured on this machine's two shared cores, below). The longest lags of four runs were 20 to 148 ms under the TTL.
 */
const ABOVE_MS = PROBE_MS + 200
/**
 * Below the TTL, a bound on chance, not on the cache: an entry's age at a logout is anywhere from 0 to the TTL, so the
 * longest lag of a run is the TTL less the youngest entry's age at a logout. With each instance seeing a user's GET every
 * 0.5 s and 24 logouts, the youngest is under 0.5 s old but for odds of about 0.3%.
 */
const BELOW_MS = 500
/**
 * At once: every instance refused the copy the first time, the probes sent as the logout was answered. Their send times
 * are late only by the driver's own scheduling: under 10 ms on an idle machine, up to 72 ms measured on this one's two
 * shared cores; 200 ms allowed.
 */
const AT_ONCE_MS = 200

async function everyInstanceLag(kind: 'session' | 'jwt', serverArgs: string[]): Promise<EveryInstanceLag> {
  const shared = ['--store', 'redis', '--redis-url', redis!.url, '--users', '40', '--hash-cost', '4', '--port', '0', ...serverArgs]
  const servers = await Promise.all([0, 1].map(() => startServer(group, ['--strategy', kind, ...shared])))
  const balancer = await startHaproxy(group, {
    backends: servers.map((s) => s.url),
    balance: 'roundrobin',
    stickyCookie: null,
    cpus: null,
  })
  try {
    const result = await runLifecycle({
      urls: [balancer.url],
      instanceUrls: servers.map((s) => s.url),
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
      probeIntervalMs: PROBE_MS,
      drainSeconds: TTL_S + 2,
      seed: 3,
    })
    assert.equal(result.errors, 0)
    return result.everyInstanceLagMs!
  } finally {
    await balancer.stop()
    await Promise.all(servers.map((s) => s.stop()))
  }
}

describe('the lag on every instance', { skip: haproxyInstalled() ? false : 'haproxy is not on PATH' }, () => {
  test(`a ${TTL_S} s session cache: a copy works on the instance that cached it until the TTL`, async (t) => {
    const lag = await everyInstanceLag('session', ['--session-cache', '1000', '--session-cache-ttl', String(TTL_S)])
    t.diagnostic(`p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms over ${lag.samples}, ${lag.refusedAtFirst} at once`)
    assert.equal(lag.instances, 2)
    assert.equal(lag.censored, 0)
    assert.ok(lag.samples >= 20, `${lag.samples} samples`)
    assert.ok(lag.max! <= TTL_S * 1000 + ABOVE_MS, `max ${lag.max} ms`)
    assert.ok(lag.max! >= TTL_S * 1000 - BELOW_MS, `max ${lag.max} ms`)
    assert.ok(lag.refusedAtFirst < lag.samples, `${lag.refusedAtFirst} of ${lag.samples} refused at once`)
    // The median is an entry's remaining time: well inside (0, TTL), not at either end.
    assert.ok(lag.p50! > 0 && lag.p50! < TTL_S * 1000, `p50 ${lag.p50} ms`)
  })

  test('the same session without the cache: 401 on every instance at once', async (t) => {
    const lag = await everyInstanceLag('session', [])
    t.diagnostic(`p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms over ${lag.samples}, ${lag.refusedAtFirst} at once`)
    assert.equal(lag.censored, 0)
    assert.ok(lag.samples >= 20, `${lag.samples} samples`)
    assert.equal(lag.refusedAtFirst, lag.samples)
    assert.ok(lag.max! <= AT_ONCE_MS, `max ${lag.max} ms`)
  })

  test("fast-jwt's verify cache with a denylist: 401 on every instance at once (the denylist is read after the cache)", async (t) => {
    const lag = await everyInstanceLag('jwt', [
      '--engine',
      'fast-jwt',
      '--verify-cache',
      '1000',
      '--revocation',
      'denylist',
      '--access-ttl',
      '30',
      '--jwt-secret',
      randomBytes(32).toString('hex'),
    ])
    t.diagnostic(`p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms over ${lag.samples}, ${lag.refusedAtFirst} at once`)
    assert.equal(lag.censored, 0)
    assert.ok(lag.samples >= 20, `${lag.samples} samples`)
    assert.equal(lag.refusedAtFirst, lag.samples)
    assert.ok(lag.max! <= AT_ONCE_MS, `max ${lag.max} ms`)
  })
})
