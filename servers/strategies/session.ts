import { newSessionId, readCookie, SESSION_COOKIE, SESSION_ID_PATTERN } from '../credentials.ts'
import { SessionCache } from '../session-cache.ts'
import type { SessionRecord } from '../types.ts'
import type { StrategyFactory } from './factory.ts'

/** Idle-timeout renewal writes at most this often per session, so steady GET traffic does no writes. */
export const TOUCH_INTERVAL_MS = 60_000

/**
 * How often an active session's idle deadline is moved: once a minute, or every quarter of the
 * idle timeout when that is shorter (an idle timeout under a minute would otherwise end an active
 * session; short timeouts are how lifecycle runs compress time).
 */
export const renewalIntervalMs = (idleMs: number): number => Math.min(TOUCH_INTERVAL_MS, idleMs / 4)

const COOKIE_ATTRIBUTES = 'HttpOnly; Secure; SameSite=Lax; Path=/'

/**
 * Opaque server-side sessions: a random id in a cookie, the state in the store; with `sessionCache`, an
 * in-process LRU in front of the store (a hit reads nothing; a logout evicts on this instance only).
 */
export const createSessionStrategy: StrategyFactory = async ({ store, clock, settings }, config) => {
  const idleMs = settings.sessionIdleTtlSeconds * 1000
  const absoluteMs = settings.sessionAbsoluteTtlSeconds * 1000
  const renewEveryMs = renewalIntervalMs(idleMs)
  const ttlFrom = (s: SessionRecord, now: number) => Math.min(idleMs, s.createdAt + absoluteMs - now)

  // Concurrent requests can all read a session before its renewal lands (Redis is asynchronous):
  // remembering this process's recent renewals keeps it to one write per session per interval.
  const renewedAt = new Map<string, number>()
  const shouldRenew = (id: string, now: number): boolean => {
    const last = renewedAt.get(id)
    if (last !== undefined && now - last < renewEveryMs) return false
    if (renewedAt.size >= 100_000) for (const [k, t] of renewedAt) if (now - t >= renewEveryMs) renewedAt.delete(k)
    renewedAt.set(id, now)
    return true
  }

  const cache = config.sessionCache ? new SessionCache(config.sessionCache) : null
  // Evicted before and after the delete: a read of this instance under way across the delete fills nothing.
  const drop = async (id: string): Promise<void> => {
    cache?.evict(id)
    await store.deleteSession(id)
    cache?.evict(id)
  }

  const presentedId = (cookieHeader: string | undefined): string | null => {
    const id = readCookie(cookieHeader, SESSION_COOKIE)
    // Forged or injection-shaped ids never reach the store.
    return id !== null && SESSION_ID_PATTERN.test(id) ? id : null
  }

  return {
    kind: 'session',
    async login(user, req, reply) {
      // Never adopt a presented id (session fixation): drop it and issue a fresh one.
      const old = presentedId(req.headers.cookie)
      if (old) await drop(old)
      const now = clock()
      const session = { id: newSessionId(), userId: user.id, username: user.username, createdAt: now, lastSeenAt: now }
      await store.createSession(session, ttlFrom(session, now))
      reply.header('set-cookie', `${SESSION_COOKIE}=${session.id}; ${COOKIE_ATTRIBUTES}`)
      return undefined
    },
    async identify(req) {
      const id = presentedId(req.headers.cookie)
      if (id === null) return null
      // Without a cache, the one store read as before (no clock read, no promise of its own).
      const readAt = cache ? clock() : 0
      let session = cache ? cache.get(id, readAt) : null
      if (session === null) {
        const generation = cache ? cache.generation : 0
        session = await store.getSession(id)
        if (session === null) return null
        cache?.fill(id, session, readAt, generation)
      }
      const now = clock()
      if (now - session.lastSeenAt >= idleMs || now - session.createdAt >= absoluteMs) {
        await drop(id)
        return null
      }
      if (now - session.lastSeenAt >= renewEveryMs && shouldRenew(id, now)) {
        session.lastSeenAt = now
        await store.touchSession(session, ttlFrom(session, now))
      }
      return { id: session.userId, username: session.username }
    },
    async logout(req, reply) {
      const id = presentedId(req.headers.cookie)
      if (id === null) return false
      if ((await store.getSession(id)) === null) {
        cache?.evict(id)
        return false
      }
      // Evicted on this instance only: another instance's entry serves the session until its TTL (the lag measured).
      await drop(id)
      reply.header('set-cookie', `${SESSION_COOKIE}=; Max-Age=0; ${COOKIE_ATTRIBUTES}`)
      return true
    },
    presented: (req) => readCookie(req.headers.cookie, SESSION_COOKIE) !== null,
  }
}
