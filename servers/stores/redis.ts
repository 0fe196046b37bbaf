import { Cluster, Redis, ReplyError } from 'ioredis'
import { newCounters, type Counters } from '../counters.ts'
import { ConfigError, StoreUnavailableError } from '../../common/errors.ts'
import type { ConsumeResult, SessionRecord, StateStore, StoreAddress } from '../types.ts'

/** A command that has not answered by then fails the request closed (503) instead of hanging it. */
export const REDIS_COMMAND_TIMEOUT_MS = 500

/**
 * Deletes a family's tokens (every key declared: KEYS[1] the family's set, the rest its tokens,
 * all on the family's hash slot) and leaves a string in place of the set until the set would have
 * expired: a rotation racing the revocation then fails (WRONGTYPE on its SADD) instead of
 * recording a token of a revoked family. A token recorded between the SMEMBERS that listed the
 * keys and this script is not deleted, but its next rotation meets the string and fails the same way.
 */
const REVOKE_FAMILY = `
if redis.call('TYPE', KEYS[1]).ok == 'string' then return 0 end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 86400000 end
redis.call('SET', KEYS[1], 'revoked', 'PX', ttl)
return #KEYS - 1`

type Client = (Redis | Cluster) & { revokeFamily(numberOfKeys: number, ...keys: string[]): Promise<number> }

/** `host:port,host:port`: the seed nodes of a Redis Cluster (any of its masters; the client finds the rest). */
export const REDIS_CLUSTER_ADDRESS: StoreAddress = {
  flag: 'redis-cluster-url',
  env: 'REDIS_CLUSTER_URL',
  pattern: /^[^,:\s]+:[0-9]{1,5}(,[^,:\s]+:[0-9]{1,5})*$/,
  looksLike: 'host:port,host:port',
}

export function clusterNodes(url: string): { host: string; port: number }[] {
  return url.split(',').map((hp) => {
    const i = hp.lastIndexOf(':')
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
  })
}

/**
 * Replies by which Redis says it cannot serve now (out of memory, a read-only replica, busy with a
 * script, loading its data, unable to persist, no master), and cluster redirections the client
 * could not follow (a MULTI sent to another master while the slot's own is unreachable comes back
 * EXECABORT with MOVED for each queued command): the store is unavailable, 503.
 */
const UNAVAILABLE_REPLIES = /^(OOM|READONLY|BUSY|LOADING|MISCONF|MASTERDOWN|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|MOVED|ASK)\b/

/** Whether a reply error says "the store cannot serve now"; a transaction refused at queueing time carries the replies that made Redis discard it. */
export function unavailableReply(err: unknown): boolean {
  const replies: unknown[] = [err, ...((err as { previousErrors?: unknown[] } | null)?.previousErrors ?? [])]
  return replies.some((e) => e instanceof Error && UNAVAILABLE_REPLIES.test(e.message))
}

/** Connection errors, timeouts and the replies above mean "store unavailable"; any other reply error is a bug and stays one. */
function unavailable(err: unknown): never {
  if (err instanceof ReplyError && !unavailableReply(err)) throw err
  throw new StoreUnavailableError(
    err instanceof ReplyError ? `Redis refused: ${(err as Error).message.split('\n')[0]}` : 'Redis is unavailable',
    { cause: err },
  )
}

async function run<T>(op: Promise<T>): Promise<T> {
  try {
    return await op
  } catch (err) {
    return unavailable(err)
  }
}

/** Where a standalone Redis is. */
export const REDIS_ADDRESS: StoreAddress = {
  flag: 'redis-url',
  env: 'REDIS_URL',
  pattern: /^rediss?:\/\/[^/]+/,
  looksLike: 'redis://host:port',
}

export interface RedisStoreOptions {
  /** `redis://host:port`; required unless `cluster` is given. */
  url?: string | undefined
  /** `host:port,...` seed nodes of a Redis Cluster: the store then runs on a Cluster client. */
  cluster?: string | undefined
  counters?: Counters
  /** Prefix for every key, so tests can share one redis-server. Default: none. */
  keyPrefix?: string
  /** A command not answered by then fails (the server's `--store-timeout-ms`). Default REDIS_COMMAND_TIMEOUT_MS. */
  timeoutMs?: number | undefined
}

const nodeOptions = (commandTimeout: number) => ({
  connectTimeout: Math.max(1000, commandTimeout),
  commandTimeout,
  maxRetriesPerRequest: 0,
  retryStrategy: (times: number) => Math.min(50 * times, 500),
})

function connectClient(options: RedisStoreOptions): { client: Client; where: string } {
  const node = nodeOptions(options.timeoutMs ?? REDIS_COMMAND_TIMEOUT_MS)
  if (options.cluster) {
    const { flag, pattern, looksLike } = REDIS_CLUSTER_ADDRESS
    if (!pattern.test(options.cluster)) throw new ConfigError(`--${flag} must look like ${looksLike}; got "${options.cluster}"`)
    const client = new Cluster(clusterNodes(options.cluster), {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      // A master that stops answering: the client asks the others for the slots again, a bounded number of times.
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      maxRedirections: 4,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      slotsRefreshTimeout: 1000,
      redisOptions: node,
    }) as Client
    return { client, where: `the Redis Cluster at ${options.cluster}` }
  }
  if (!options.url) throw new ConfigError('a Redis store needs a url or a cluster')
  return {
    client: new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, ...node }) as Client,
    where: `Redis at ${options.url}`,
  }
}

/** How long a server's start waits for a cluster that answers slowly: its own bound, not a request's store timeout. */
const CLUSTER_STARTUP_MS = 5000

/**
 * Resolves once the cluster reports `cluster_state:ok`. A check that times out (a busy machine: each command has only the
 * store timeout) is asked again until CLUSTER_STARTUP_MS; a cluster that answers "not ok", or fails otherwise, fails the start.
 */
async function clusterReady(client: Cluster): Promise<void> {
  const deadline = Date.now() + CLUSTER_STARTUP_MS
  for (;;) {
    try {
      if (!/cluster_state:ok/.test((await client.cluster('INFO')) as string)) throw new Error('cluster_state is not ok')
      return
    } catch (err) {
      if ((err as Error).message !== 'Command timed out' || Date.now() >= deadline) throw err
    }
  }
}

// Longer than 80 lines on purpose: one closure over the connection and its statements, returning the store's methods, each a few lines.
export async function createRedisStore(options: RedisStoreOptions): Promise<StateStore & { client: Redis | Cluster }> {
  const counters = options.counters ?? newCounters()
  const { client, where } = connectClient(options)
  const clustered = client instanceof Cluster
  let lastError = ''
  client.on('error', (err: Error) => {
    // Logged once per outage; each request meanwhile answers 503 on its own.
    if (err.message !== lastError) process.stderr.write(`redis: ${err.message}\n`)
    lastError = err.message
  })
  client.on('ready', () => {
    lastError = ''
  })
  client.defineCommand('revokeFamily', { lua: REVOKE_FAMILY })
  try {
    await client.connect()
    if (clustered) await clusterReady(client as Cluster)
  } catch (err) {
    client.disconnect()
    throw new StoreUnavailableError(`cannot connect to ${where}: ${(err as Error).message}`, { cause: err })
  }

  const p = options.keyPrefix ?? ''
  const sessionKey = (id: string) => `${p}sess:${id}`
  const encode = (s: SessionRecord) => JSON.stringify([s.userId, s.username, s.createdAt, s.lastSeenAt])

  // A token family's keys share a hash tag, so every multi-key operation on them stays on one slot.
  const familyKey = (family: string) => `${p}rtf:{${family}}`
  const tokenKey = (family: string, jti: string) => `${p}rt:{${family}}:${jti}`

  return {
    kind: clustered ? 'redis-cluster' : 'redis',
    counters,
    client,
    async createSession(s, ttlMs) {
      counters.sessions.writes++
      await run(client.set(sessionKey(s.id), encode(s), 'PX', ttlMs))
    },
    async getSession(id) {
      counters.sessions.reads++
      const raw = await run(client.get(sessionKey(id)))
      if (raw === null) return null
      const [userId, username, createdAt, lastSeenAt] = JSON.parse(raw) as [number, string, number, number]
      return { id, userId, username, createdAt, lastSeenAt }
    },
    async touchSession(s, ttlMs) {
      counters.sessions.writes++
      await run(client.set(sessionKey(s.id), encode(s), 'PX', ttlMs, 'XX'))
    },
    async deleteSession(id) {
      counters.sessions.deletes++
      await run(client.del(sessionKey(id)))
    },
    async putRefresh(jti, family, expiresAt) {
      counters.refresh_tokens.writes++
      // One round trip. When the family was revoked its key is a string and SADD fails (WRONGTYPE):
      // the token's own key is then written but belongs to no family, and rotating it fails the same way.
      const results = await run(
        client
          .multi()
          .sadd(familyKey(family), jti)
          .set(tokenKey(family, jti), '0', 'PXAT', expiresAt)
          .pexpireat(familyKey(family), expiresAt)
          .exec(),
      )
      const [familyError = null, ...rest] = (results ?? []).map(([e]) => e)
      const failed = rest.find((e) => e !== null)
      if (failed) unavailable(failed)
      if (familyError instanceof ReplyError && (familyError as Error).message.startsWith('WRONGTYPE')) return false
      if (familyError) return unavailable(familyError)
      return true
    },
    async consumeRefresh(jti, family, now, graceMs): Promise<ConsumeResult> {
      counters.refresh_tokens.writes++
      // One atomic round trip: the previous value tells unused ('0'), used at a time (ms), or unknown (nil).
      const key = tokenKey(family, jti)
      const previous = await run(client.call('SET', key, String(now), 'XX', 'KEEPTTL', 'GET') as Promise<string | null>)
      if (previous === null) return 'unknown'
      if (previous === '0') return 'ok'
      const usedAt = Number(previous)
      if (!(graceMs > 0 && now - usedAt <= graceMs)) return 'reused'
      // Within the grace window: put back the first use's time, so repeated presentations cannot slide the window.
      counters.refresh_tokens.writes++
      await run(client.call('SET', key, previous, 'XX', 'KEEPTTL'))
      return 'grace'
    },
    async revokeFamily(family) {
      counters.refresh_tokens.deletes++
      // The script must declare every key it touches: list the family's tokens first.
      const key = familyKey(family)
      // An already revoked family is a string: nothing to list (the script then leaves it alone).
      const members = await run(
        client.smembers(key).catch((err: unknown) => {
          if (err instanceof ReplyError && (err as Error).message.startsWith('WRONGTYPE')) return [] as string[]
          throw err
        }),
      )
      const keys = [key, ...members.map((jti) => tokenKey(family, jti))]
      await run(client.revokeFamily(keys.length, ...keys))
    },
    async deny(jti, expiresAt) {
      counters.denylist.writes++
      await run(client.set(`${p}deny:${jti}`, '1', 'PXAT', expiresAt))
    },
    async isDenied(jti) {
      counters.denylist.reads++
      return (await run(client.exists(`${p}deny:${jti}`))) === 1
    },
    // Every key carries its own TTL: Redis expires them itself.
    purgeExpired() {},
    async size() {
      const nodes = clustered ? (client as Cluster).nodes('master') : [client as Redis]
      const count = async (pattern: string) => {
        let n = 0
        for (const node of nodes) {
          let cursor = '0'
          do {
            const [next, keys] = await run(node.scan(cursor, 'MATCH', `${p}${pattern}`, 'COUNT', 1000))
            cursor = next
            n += keys.length
          } while (cursor !== '0')
        }
        return n
      }
      return { sessions: await count('sess:*'), refreshTokens: await count('rt:*'), denied: await count('deny:*') }
    },
    async close() {
      client.disconnect()
    },
  }
}
