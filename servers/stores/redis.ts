import { Redis, ReplyError } from 'ioredis'
import { newCounters, type Counters } from '../counters.ts'
import { ConfigError, StoreUnavailableError } from '../errors.ts'
import type { ConsumeResult, SessionRecord, StateStore } from '../types.ts'

/** A command that has not answered by then fails the request closed (503) instead of hanging it. */
export const REDIS_COMMAND_TIMEOUT_MS = 500

/**
 * Deletes a family's tokens and leaves a string in place of its set until the set would have
 * expired: a rotation racing the revocation then fails (WRONGTYPE on its SADD) instead of
 * recording a token of a revoked family.
 */
const REVOKE_FAMILY = `
if redis.call('TYPE', KEYS[1]).ok == 'string' then return 0 end
local members = redis.call('SMEMBERS', KEYS[1])
for _, jti in ipairs(members) do redis.call('DEL', ARGV[1] .. 'rt:' .. jti) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 86400000 end
redis.call('SET', KEYS[1], 'revoked', 'PX', ttl)
return #members`

type RedisWithScripts = Redis & { revokeFamily(familyKey: string, prefix: string): Promise<number> }

/**
 * Replies by which Redis says it cannot serve now (out of memory, a read-only replica, busy with a
 * script, loading its data, unable to persist, no master): the store is unavailable, 503.
 */
const UNAVAILABLE_REPLIES = /^(OOM|READONLY|BUSY|LOADING|MISCONF|MASTERDOWN|NOREPLICAS|CLUSTERDOWN|TRYAGAIN)\b/

/** Connection errors, timeouts and the replies above mean "store unavailable"; any other reply error is a bug and stays one. */
function unavailable(err: unknown): never {
  // A transaction refused at queueing time carries the replies that made Redis discard it.
  const replies: unknown[] = [err, ...((err as { previousErrors?: unknown[] } | null)?.previousErrors ?? [])]
  if (err instanceof ReplyError && !replies.some((e) => e instanceof Error && UNAVAILABLE_REPLIES.test(e.message))) throw err
  throw new StoreUnavailableError(err instanceof ReplyError ? `Redis refused: ${(err as Error).message.split('\n')[0]}` : 'Redis is unavailable', { cause: err })
}

/** EXEC answers each command's own error in place; the first one fails the whole operation. */
async function exec(op: Promise<[Error | null, unknown][] | null>): Promise<void> {
  const results = await run(op)
  const failed = results?.find(([e]) => e !== null)?.[0]
  if (failed) unavailable(failed)
}

async function run<T>(op: Promise<T>): Promise<T> {
  try {
    return await op
  } catch (err) {
    return unavailable(err)
  }
}

/** What a Redis address must look like, for the server flag and the harness alike. */
export const REDIS_URL_PATTERN = /^rediss?:\/\/[^/]+/

export interface RedisStoreOptions {
  /** `redis://host:port`; required. */
  url: string | undefined
  counters?: Counters
  /** Prefix for every key, so tests can share one redis-server. Default: none. */
  keyPrefix?: string
}

export async function createRedisStore(options: RedisStoreOptions): Promise<StateStore & { client: Redis }> {
  if (!options.url) throw new ConfigError('--store redis needs --redis-url (or REDIS_URL)')
  const counters = options.counters ?? newCounters()
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * times, 500),
  }) as RedisWithScripts
  let lastError = ''
  client.on('error', (err: Error) => {
    // Logged once per outage; each request meanwhile answers 503 on its own.
    if (err.message !== lastError) process.stderr.write(`redis: ${err.message}\n`)
    lastError = err.message
  })
  client.on('ready', () => { lastError = '' })
  client.defineCommand('revokeFamily', { numberOfKeys: 1, lua: REVOKE_FAMILY })
  try {
    await client.connect()
  } catch (err) {
    client.disconnect()
    throw new StoreUnavailableError(`cannot connect to Redis at ${options.url}`, { cause: err })
  }

  const p = options.keyPrefix ?? ''
  const sessionKey = (id: string) => `${p}sess:${id}`
  const encode = (s: SessionRecord) => JSON.stringify([s.userId, s.username, s.createdAt, s.lastSeenAt])

  return {
    kind: 'redis',
    counters,
    client,
    async createSession(s, ttlMs) {
      counters.writes++
      await run(client.set(sessionKey(s.id), encode(s), 'PX', ttlMs))
    },
    async getSession(id) {
      counters.reads++
      const raw = await run(client.get(sessionKey(id)))
      if (raw === null) return null
      const [userId, username, createdAt, lastSeenAt] = JSON.parse(raw) as [number, string, number, number]
      return { id, userId, username, createdAt, lastSeenAt }
    },
    async touchSession(s, ttlMs) {
      counters.writes++
      await run(client.set(sessionKey(s.id), encode(s), 'PX', ttlMs, 'XX'))
    },
    async deleteSession(id) {
      counters.deletes++
      await run(client.del(sessionKey(id)))
    },
    async putRefresh(jti, family, expiresAt) {
      counters.writes++
      // One round trip. When the family was revoked its key is a string and SADD fails (WRONGTYPE):
      // the token's own key is then written but belongs to no family, and rotating it fails the same way.
      const results = await run(client.multi()
        .sadd(`${p}rtf:${family}`, jti)
        .set(`${p}rt:${jti}`, '0', 'PXAT', expiresAt)
        .pexpireat(`${p}rtf:${family}`, expiresAt)
        .exec())
      const [familyError = null, ...rest] = (results ?? []).map(([e]) => e)
      const failed = rest.find((e) => e !== null)
      if (failed) unavailable(failed)
      if (familyError instanceof ReplyError && (familyError as Error).message.startsWith('WRONGTYPE')) return false
      if (familyError) return unavailable(familyError)
      return true
    },
    async consumeRefresh(jti, now, graceMs): Promise<ConsumeResult> {
      counters.writes++
      // One atomic round trip: the previous value tells unused ('0'), used at a time (ms), or unknown (nil).
      const key = `${p}rt:${jti}`
      const previous = await run(client.call('SET', key, String(now), 'XX', 'KEEPTTL', 'GET') as Promise<string | null>)
      if (previous === null) return 'unknown'
      if (previous === '0') return 'ok'
      const usedAt = Number(previous)
      if (!(graceMs > 0 && now - usedAt <= graceMs)) return 'reused'
      // Within the grace window: put back the first use's time, so repeated presentations cannot slide the window.
      counters.writes++
      await run(client.call('SET', key, previous, 'XX', 'KEEPTTL'))
      return 'grace'
    },
    async revokeFamily(family) {
      counters.deletes++
      await run(client.revokeFamily(`${p}rtf:${family}`, p))
    },
    async deny(jti, expiresAt) {
      counters.writes++
      await run(client.set(`${p}deny:${jti}`, '1', 'PXAT', expiresAt))
    },
    async isDenied(jti) {
      counters.reads++
      return (await run(client.exists(`${p}deny:${jti}`))) === 1
    },
    // Every key carries its own TTL: Redis expires them itself.
    purgeExpired() {},
    async size() {
      const count = async (pattern: string) => {
        let n = 0
        let cursor = '0'
        do {
          const [next, keys] = await run(client.scan(cursor, 'MATCH', `${p}${pattern}`, 'COUNT', 1000))
          cursor = next
          n += keys.length
        } while (cursor !== '0')
        return n
      }
      return { sessions: await count('sess:*'), refreshTokens: await count('rt:*'), denied: await count('deny:*') }
    },
    async close() {
      client.disconnect()
    },
  }
}
