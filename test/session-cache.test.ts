import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { commandCounts } from '../bench/stores/run/redis.ts'
import { parseServerArgs } from '../servers/cli-config.ts'
import { createServer, DEFAULT_CONFIG, type Server, type ServerConfig } from '../servers/server.ts'
import { SessionCache } from '../servers/session-cache.ts'
import { login, manualClock, opsOf, sharedStoreUrl, testServer, uniquePrefix } from './helpers.ts'

const CACHE = { entries: 1000, ttlSeconds: 5 }
const TTL_MS = CACHE.ttlSeconds * 1000
const record = (id: string) => ({ id, userId: 1, username: 'user1', createdAt: 0, lastSeenAt: 0 })

describe('SessionCache', () => {
  test('an entry is served until the TTL after the read that filled it, however often it is hit', () => {
    const cache = new SessionCache(CACHE)
    cache.fill('a', record('a'), 1000, cache.generation)
    assert.equal(cache.get('a', 1000 + TTL_MS - 1)?.id, 'a')
    assert.equal(cache.get('a', 1000 + TTL_MS), null)
    // An expired entry is gone, not kept for the next reader.
    assert.equal(cache.size, 0)
  })

  test('least recently used goes first; a hit makes an entry the most recent', () => {
    const cache = new SessionCache({ entries: 2, ttlSeconds: 5 })
    cache.fill('a', record('a'), 0, cache.generation)
    cache.fill('b', record('b'), 0, cache.generation)
    assert.equal(cache.get('a', 1)?.id, 'a')
    cache.fill('c', record('c'), 0, cache.generation)
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => cache.get(id, 2)?.id ?? null),
      ['a', null, 'c'],
    )
  })

  test('a read under way across an eviction fills nothing', () => {
    const cache = new SessionCache(CACHE)
    const generation = cache.generation
    cache.evict('a')
    cache.fill('a', record('a'), 0, generation)
    assert.equal(cache.get('a', 0), null)
  })
})

describe('--session-cache', () => {
  const parse = (...argv: string[]) => parseServerArgs(['--strategy', 'session', ...argv], {})
  test('off by default; entries and TTL together; session only', () => {
    assert.equal(parse().sessionCache, null)
    assert.deepEqual(parse('--session-cache', '1000', '--session-cache-ttl', '5').sessionCache, CACHE)
    assert.throws(() => parse('--session-cache', '1000'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--session-cache N needs --session-cache-ttl S (seconds)',
    })
    assert.throws(() => parse('--session-cache-ttl', '5'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--session-cache-ttl needs --session-cache N (entries, at least 1)',
    })
    assert.throws(() => parse('--session-cache', '10', '--session-cache-ttl', '0'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--session-cache-ttl must be an integer from 1 to 86400; got "0"',
    })
    assert.throws(
      () =>
        parseServerArgs(
          [
            '--strategy',
            'session',
            '--session-library',
            'fastify-session',
            '--session-secret',
            'x'.repeat(32),
            '--session-cache',
            '10',
            '--session-cache-ttl',
            '5',
          ],
          {},
        ),
      {
        code: 'ERR_SERVER_CONFIG',
        message: '--session-cache applies to the reference session (--session-library authbench) only; got fastify-session',
      },
    )
    assert.throws(() => parseServerArgs(['--strategy', 'jwt', '--session-cache', '10', '--session-cache-ttl', '5'], {}), {
      code: 'ERR_SERVER_CONFIG',
      message: '--session-cache and --session-cache-ttl apply to --strategy session only',
    })
  })
})

/** Redis's own count of reads (GETs) while `run` runs. */
async function redisReads<T>(redis: Redis, run: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const before = await commandCounts(redis)
  const result = await run()
  const after = await commandCounts(redis)
  return { result, reads: after.reads - before.reads }
}

async function redisOf(t: TestContext): Promise<Redis> {
  const redis = new Redis((await sharedStoreUrl('redis'))!, { lazyConnect: true })
  await redis.connect()
  t.after(() => redis.quit())
  return redis
}

describe('session cache on GET /me', () => {
  const USERS = 5
  const EACH = 4
  for (const sessionCache of [null, CACHE]) {
    test(`${USERS} users, ${EACH} GETs each, cache ${sessionCache ? 'on' : 'off'}: the servers' and Redis's own read counts`, async (t) => {
      const redis = await redisOf(t)
      const server = await testServer(t, { strategy: 'session', store: 'redis', sessionCache })
      const creds = await Promise.all(Array.from({ length: USERS }, (_, i) => login(server, `user${i + 1}`)))
      const { result, reads } = await redisReads(redis, () =>
        opsOf(server, async () => {
          const statuses: number[] = []
          for (let k = 0; k < EACH; k++)
            for (const c of creds) statuses.push((await server.app.inject({ url: '/me', headers: c.headers })).statusCode)
          return statuses
        }),
      )
      assert.deepEqual(result.result, Array(USERS * EACH).fill(200))
      // Cached: the first GET of each user reads and fills, the other three find it: reads = users, not users x GETs.
      const want = sessionCache ? USERS : USERS * EACH
      assert.deepEqual([result.reads, result.writes, result.deletes], [want, 0, 0])
      assert.equal(reads, want)
    })
  }

  test('an entry is read again once its TTL has passed (injected clock)', async (t) => {
    const clock = manualClock()
    const server = await testServer(t, { strategy: 'session', store: 'sqlite', sessionCache: CACHE }, { clock })
    const cred = await login(server)
    const me = async () => {
      const r = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
      return [r.result.statusCode, r.reads]
    }
    assert.deepEqual(await me(), [200, 1])
    clock.advance(TTL_MS - 1)
    assert.deepEqual(await me(), [200, 0])
    clock.advance(1)
    assert.deepEqual(await me(), [200, 1])
    assert.deepEqual(await me(), [200, 0])
  })

  test('logout on the same instance is immediate: 401 at once, the entry evicted', async (t) => {
    const server = await testServer(t, { strategy: 'session', store: 'redis', sessionCache: CACHE })
    const cred = await login(server)
    for (let i = 0; i < 3; i++) assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
    assert.equal((await server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers })).statusCode, 204)
    const after = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
    assert.deepEqual([after.result.statusCode, after.reads], [401, 1])
  })
})

describe('two instances on one store', () => {
  /** Two servers sharing one Redis key space and one clock, as a cell's instances share their store. */
  async function pair(t: TestContext, sessionCache: ServerConfig['sessionCache'], clock: () => number): Promise<[Server, Server]> {
    const config: ServerConfig = {
      ...DEFAULT_CONFIG,
      strategy: 'session',
      store: 'redis',
      storeUrl: await sharedStoreUrl('redis'),
      users: 10,
      hashCost: 4,
      sessionCache,
    }
    const prefix = uniquePrefix()
    const servers = [
      await createServer(config, { clock, redisKeyPrefix: prefix }),
      await createServer(config, { clock, redisKeyPrefix: prefix }),
    ]
    t.after(() => Promise.all(servers.map((s) => s.close())))
    return servers as [Server, Server]
  }

  for (const sessionCache of [null, CACHE]) {
    test(`a logout on one instance, cache ${sessionCache ? 'on: the other serves its entry until the TTL' : 'off: 401 on both at once'}`, async (t) => {
      const clock = manualClock()
      const [a, b] = await pair(t, sessionCache, clock)
      const cred = await login(a)
      const me = async (s: Server) => (await s.app.inject({ url: '/me', headers: cred.headers })).statusCode
      assert.deepEqual([await me(a), await me(b)], [200, 200])
      assert.equal((await a.app.inject({ method: 'POST', url: '/logout', headers: cred.headers })).statusCode, 204)
      assert.deepEqual([await me(a), await me(b)], [401, sessionCache ? 200 : 401])
      clock.advance(TTL_MS - 1)
      assert.deepEqual([await me(a), await me(b)], [401, sessionCache ? 200 : 401])
      clock.advance(1)
      assert.deepEqual([await me(a), await me(b)], [401, 401])
    })
  }
})
