import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Redis, ReplyError } from 'ioredis'
import { REDIS_COMMAND_TIMEOUT_MS, unavailableReply } from '../servers/stores/redis.ts'
import { startRedis, type PrivateRedis } from '../bench/stores/redis-server.ts'
import { startRedisCluster, type PrivateCluster } from '../bench/stores/redis-cluster-server.ts'
import { FRAMEWORKS } from '../servers/types.ts'
import { login, testServer, timedAgainstLoop, waitFor } from './helpers.ts'

/** A request's own work around its store call: a few ms on an idle machine. */
const WORK_MS = 100

describe('Redis faults fail closed with 503 and recover by themselves', () => {
  let redis: PrivateRedis
  after(() => redis?.stop())

  for (const strategy of ['session', 'jwt'] as const) {
    test(`${strategy}: paused (SIGSTOP), killed, restarted`, async (t) => {
      redis = await startRedis()
      const server = await testServer(t, {
        strategy,
        store: 'redis',
        storeUrl: redis.url,
        revocation: strategy === 'jwt' ? 'denylist' : 'none',
      })
      const cred = await login(server)
      const me = () => server.app.inject({ url: '/me', headers: cred.headers })
      assert.equal((await me()).statusCode, 200)

      redis.process.kill('SIGSTOP')
      // Failed closed by the command timeout, not held until Redis returns: the timeout, the
      // request's work, and however late this process's timers ran meanwhile (a loaded machine).
      const [paused, pausedMs, pausedLateMs] = await timedAgainstLoop(me)
      assert.equal(paused.statusCode, 503)
      assert.equal(paused.headers['retry-after'], '1')
      const pausedBound = REDIS_COMMAND_TIMEOUT_MS + WORK_MS + pausedLateMs
      assert.ok(pausedMs <= pausedBound, `answered in ${pausedMs} ms, bound ${pausedBound} ms`)
      redis.process.kill('SIGCONT')
      await waitFor('recovery after SIGCONT', async () => (await me()).statusCode === 200)

      redis.process.kill('SIGKILL')
      await new Promise((r) => redis.process.once('exit', r))
      // A closed connection answers at once (no offline queue); never later than the command timeout.
      const [down, downMs, downLateMs] = await timedAgainstLoop(me)
      assert.equal(down.statusCode, 503)
      const downBound = REDIS_COMMAND_TIMEOUT_MS + WORK_MS + downLateMs
      assert.ok(downMs <= downBound, `answered in ${downMs} ms, bound ${downBound} ms`)
      const loginDown = await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user1', password: 'pw-user1' } })
      assert.equal(loginDown.statusCode, 503)

      // A restarted, empty Redis: old credentials are unknown (401), new logins work again.
      redis = await startRedis({ port: redis.port })
      await waitFor('reconnection', async () => (await me()).statusCode !== 503)
      const fresh = await login(server)
      assert.equal((await server.app.inject({ url: '/me', headers: fresh.headers })).statusCode, 200)
      await redis.stop()
    })
  }
})

describe('a Redis Cluster with a master killed fails closed with 503 and recovers when it returns', () => {
  let cluster: PrivateCluster
  after(() => cluster?.stop())

  for (const strategy of ['session', 'jwt'] as const) {
    test(`${strategy} on redis-cluster: 30 credentials, one master killed (503, never 500), then revived`, async (t) => {
      cluster = await startRedisCluster()
      const server = await testServer(t, {
        strategy,
        store: 'redis-cluster',
        storeUrl: cluster.url,
        revocation: strategy === 'jwt' ? 'denylist' : 'none',
      })
      const creds = await Promise.all(Array.from({ length: 30 }, (_, i) => login(server, `user${(i % 10) + 1}`)))
      const all = () => Promise.all(creds.map((c) => server.app.inject({ url: '/me', headers: c.headers }).then((r) => r.statusCode)))
      assert.deepEqual(new Set(await all()), new Set([200]))

      await cluster.kill(0)
      const [statuses, ms, lateMs] = await timedAgainstLoop(all)
      assert.ok(
        statuses.every((s) => s === 200 || s === 503),
        statuses.join(),
      )
      // 30 keys over three masters' slots: some live on the dead one ((2/3)^30 odds otherwise).
      assert.ok(statuses.includes(503), statuses.join())
      // The slowest path a key on the dead master takes: the command timeout, four redirections'
      // retry delays (100 ms each), a slots refresh (1 s): 1.9 s, rounded up to 3 s for the
      // 30 requests' own work; plus however late this process's timers ran meanwhile.
      assert.ok(ms <= 3000 + lateMs, `answered in ${ms} ms, timers ${lateMs.toFixed(0)} ms late`)
      const refused = await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user1', password: 'pw-user1' } })
      assert.ok(refused.statusCode === 503 || refused.statusCode === 200 || refused.statusCode === 204, String(refused.statusCode))

      // Back with its cluster config but empty: what lived on it is gone (401), the rest answers, nothing else.
      await cluster.revive(0)
      await waitFor('recovery once the master is back', async () => (await all()).every((s) => s === 200 || s === 401), 10_000)
      const fresh = await login(server)
      assert.equal((await server.app.inject({ url: '/me', headers: fresh.headers })).statusCode, 200)
      await cluster.stop()
    })
  }
})

test('a transaction a cluster discarded for redirections the client could not follow is "unavailable"; a bug stays a bug', () => {
  const execabort = (...previous: string[]) =>
    Object.assign(new ReplyError('EXECABORT Transaction discarded because of previous errors.'), {
      previousErrors: previous.map((m) => new ReplyError(m)),
    })
  // Seen with a master killed: the MULTI went to another master, which redirects every queued command to the dead one.
  assert.equal(unavailableReply(execabort('MOVED 2471 127.0.0.1:40799', 'MOVED 2471 127.0.0.1:40799')), true)
  assert.equal(unavailableReply(execabort('CLUSTERDOWN Hash slot not served')), true)
  assert.equal(unavailableReply(new ReplyError('ASK 3999 127.0.0.1:6381')), true)
  assert.equal(unavailableReply(execabort("ERR wrong number of arguments for 'set' command")), false)
  assert.equal(unavailableReply(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')), false)
})

describe('Redis refusing to serve (out of memory, read-only replica) answers 503, never 500', () => {
  let redis: PrivateRedis
  let primary: PrivateRedis
  after(async () => {
    await redis?.stop()
    await primary?.stop()
  })

  for (const framework of FRAMEWORKS)
    for (const strategy of ['session', 'jwt'] as const) {
      test(`${strategy} on ${framework}: OOM on writes (maxmemory 1), READONLY on a replica, then back to normal`, {
        timeout: 30_000,
      }, async (t) => {
        redis = await startRedis()
        const admin = new Redis(redis.url)
        t.after(() => admin.disconnect())
        const server = await testServer(t, {
          strategy,
          framework,
          store: 'redis',
          storeUrl: redis.url,
          revocation: strategy === 'jwt' ? 'denylist' : 'none',
        })
        const cred = await login(server)
        const loginRes = () => server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user2', password: 'pw-user2' } })

        await admin.config('SET', 'maxmemory', '1')
        const oom = await loginRes()
        assert.deepEqual([oom.statusCode, oom.headers['retry-after'], oom.json()], [503, '1', { error: 'store_unavailable' }])
        // Reads still work while writes are refused.
        assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
        if (strategy === 'jwt') {
          const refresh = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: cred.refreshToken } })
          assert.equal(refresh.statusCode, 503)
        }
        await admin.config('SET', 'maxmemory', '0')
        assert.ok([200, 204].includes((await loginRes()).statusCode))

        primary = await startRedis()
        await admin.replicaof('127.0.0.1', String(primary.port))
        const readonly = await loginRes()
        assert.deepEqual([readonly.statusCode, readonly.headers['retry-after']], [503, '1'])
        await admin.replicaof('NO', 'ONE')
        assert.ok([200, 204].includes((await loginRes()).statusCode))
        await primary.stop()
        await redis.stop()
      })
    }
})
