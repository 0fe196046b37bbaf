import { Redis } from 'ioredis'
import { createRedisStore, REDIS_ADDRESS } from '../../../servers/stores/redis.ts'
import { stopChild, type ProcessGroup } from '../../processes.ts'
import type { MicroTask } from '../../contracts/results.ts'
import type { ExternalCounts, MicroSessions, StoreFaults, StoreProvisioner } from './provisioner.ts'
import { spawnRedisServer, startRedis, type PrivateRedis } from '../redis-server.ts'

/** Redis's own port, on a host of its own in a namespace topology. */
const REDIS_PORT = 6379

/**
 * How the Redis store's operations show in Redis's own command counts: each read is one GET or
 * EXISTS, each write one SET (a refresh token's MULTI adds SADD and PEXPIREAT around its SET),
 * each delete one DEL or one family-revoking script. A library session's adapter (connect-redis)
 * reads with GET, saves with SET and touches with EXPIRE, a write. INFO is the harness's own and is left out.
 */
const KIND: Record<string, 'reads' | 'writes' | 'deletes'> = {
  get: 'reads',
  exists: 'reads',
  set: 'writes',
  expire: 'writes',
  del: 'deletes',
  evalsha: 'deletes',
  eval: 'deletes',
}

/** Redis's own command counts since its start (INFO commandstats). */
export async function commandCounts(client: Redis): Promise<ExternalCounts> {
  const info = await client.info('commandstats')
  const counts = { reads: 0, writes: 0, deletes: 0, total: 0 }
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (m[1] === 'info') continue
    const calls = Number(m[2])
    counts.total += calls
    const kind = KIND[m[1]!]
    if (kind) counts[kind] += calls
  }
  return counts
}

/** Redis's own CPU time since its start, µs (INFO cpu: used_cpu_user + used_cpu_sys, every thread). */
export async function redisCpuUs(client: Redis): Promise<number> {
  const info = await client.info('cpu')
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6)
}

/** The user's Redis when a URL is given, else a private redis-server on a free port; `stop` stops only what was started. */
async function privateOrGivenRedis(
  url: string | null,
  cpus: string | null,
  group: ProcessGroup,
): Promise<{ url: string; started: boolean; faults: StoreFaults | null; stop(): Promise<void> }> {
  if (url) return { url, started: false, faults: null, stop: async () => {} }
  let redis: PrivateRedis | null = await startRedis({ cpus })
  group.track(redis.process)
  const port = redis.port
  let paused = false
  const start = async () => {
    redis = await startRedis({ port, cpus })
    group.track(redis.process)
  }
  const faults: StoreFaults = {
    async pause() {
      redis?.process.kill('SIGSTOP')
      paused = true
    },
    async resume() {
      redis?.process.kill('SIGCONT')
      paused = false
    },
    async kill() {
      const r = redis
      redis = null
      paused = false
      if (r) {
        r.process.kill('SIGCONT')
        r.process.kill('SIGKILL')
        await r.stop()
      }
    },
    async restart() {
      await faults.kill()
      await start()
    },
    async ensureUp() {
      if (paused) await faults.resume()
      if (!redis) await start()
    },
    async flush() {
      const c = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 1 })
      c.on('error', () => {})
      try {
        await c.connect()
        await c.flushall()
      } finally {
        c.disconnect()
      }
    },
  }
  return {
    url: redis.url,
    started: true,
    faults,
    stop: async () => {
      const r = redis
      redis = null
      if (r) {
        r.process.kill('SIGCONT')
        await r.stop()
      }
    },
  }
}

/** Redis: the store's own reads over loopback, one in flight and pipelined. */
async function redisTasks(url: string, { ids, record, pick }: MicroSessions, closers: (() => unknown)[]): Promise<MicroTask[]> {
  const count = ids.length
  const redis = await createRedisStore({ url, keyPrefix: `micro:${process.pid}:` })
  closers.push(() => redis.close())
  // Written through the store itself, 1000 in flight at a time (one connection pipelines them).
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, count - i) }, (_, k) => redis.createSession(record(i + k), 3_600_000)))
  }
  closers.push(() => {
    const c = new Redis(url)
    return c
      .eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `micro:${process.pid}:*`)
      .finally(() => c.disconnect())
  })
  const PIPE = 16
  return [
    {
      id: 'store-read:redis-single',
      name: 'session read, Redis over loopback, one in flight (wall time)',
      group: 'store',
      batch: 1,
      fn: () => redis.getSession(pick()),
    },
    {
      id: 'store-read:redis',
      name: `session read, Redis over loopback, ${PIPE} pipelined (per read)`,
      group: 'store',
      batch: PIPE,
      fn: () => Promise.all(Array.from({ length: PIPE }, () => redis.getSession(pick()))),
    },
  ]
}

/**
 * Redis: the user's (`--redis-url`) or a private redis-server on a free loopback port, pinned
 * with the load generator so it does not steal the servers' CPU.
 */
export const redisProvisioner: StoreProvisioner = {
  kind: 'redis',
  address: {
    option: REDIS_ADDRESS,
    means: 'use this Redis instead of starting a private redis-server',
    startPrivate: (group) => privateOrGivenRedis(null, null, group),
  },
  micro: {
    listed: [
      ['store-read:redis-single', 'session read, Redis, one in flight'],
      ['store-read:redis', 'session read, Redis, pipelined'],
    ],
    notInstalled: 'no Redis: install redis-server or pass --redis-url',
    tasks: (url, sessions, closers) => redisTasks(url!, sessions, closers),
  },
  async onHost(hosts, { cpus, group }) {
    const host = hosts[0]!
    const redis = group.track(await spawnRedisServer(REDIS_PORT, cpus, [], host))
    return {
      url: `redis://${host.address}:${REDIS_PORT}`,
      description: `started redis-server on host ${host.name} (${host.address})`,
      stop: () => stopChild(redis),
    }
  },
  async provision({ cpus, group, urls }) {
    const redis = await privateOrGivenRedis(urls.redis ?? null, cpus, group)
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    // While a fault has Redis down the harness's own connection fails and reconnects; its counts are not read then.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      await redis.stop()
      throw err
    }
    return {
      description: redis.started ? `started a private redis-server on ${redis.url}` : `using Redis at ${redis.url}`,
      serverArgs: [`--${REDIS_ADDRESS.flag}`, redis.url],
      counts: () => commandCounts(client),
      cpuUs: () => redisCpuUs(client),
      faults: redis.faults,
      async stop() {
        client.disconnect()
        await redis.stop()
      },
    }
  },
}
