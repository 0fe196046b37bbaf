import { newCounters, type Counters } from '../counters.ts'
import type { ConsumeResult, SessionRecord, StateStore } from '../types.ts'

/** In-process maps: the fastest store, and one that only a single instance can see. */
// Longer than 80 lines on purpose: one closure over the maps, returning the store's methods, each a few lines.
export function createMemoryStore(counters: Counters = newCounters()): StateStore {
  const sessions = new Map<string, { record: SessionRecord; expiresAt: number }>()
  const refresh = new Map<string, { family: string; usedAt: number | null; expiresAt: number }>()
  const families = new Map<string, Set<string>>()
  /** Revoked families, until their last token would have expired. */
  const revoked = new Map<string, number>()
  const denied = new Map<string, number>()

  return {
    kind: 'memory',
    counters,
    createSession(s, ttlMs) {
      counters.sessions.writes++
      sessions.set(s.id, { record: { ...s }, expiresAt: s.lastSeenAt + ttlMs })
    },
    getSession(id) {
      counters.sessions.reads++
      const entry = sessions.get(id)
      return entry ? { ...entry.record } : null
    },
    touchSession(s, ttlMs) {
      counters.sessions.writes++
      const entry = sessions.get(s.id)
      if (entry) {
        entry.record.lastSeenAt = s.lastSeenAt
        entry.expiresAt = s.lastSeenAt + ttlMs
      }
    },
    deleteSession(id) {
      counters.sessions.deletes++
      sessions.delete(id)
    },
    putRefresh(jti, family, expiresAt) {
      counters.refresh_tokens.writes++
      if (revoked.has(family)) return false
      refresh.set(jti, { family, usedAt: null, expiresAt })
      let members = families.get(family)
      if (!members) {
        members = new Set()
        families.set(family, members)
      }
      members.add(jti)
      return true
    },
    consumeRefresh(jti, _family, now, graceMs): ConsumeResult {
      counters.refresh_tokens.writes++
      const entry = refresh.get(jti)
      if (!entry || entry.expiresAt <= now) return 'unknown'
      if (entry.usedAt !== null) return graceMs > 0 && now - entry.usedAt <= graceMs ? 'grace' : 'reused'
      entry.usedAt = now
      return 'ok'
    },
    revokeFamily(family) {
      counters.refresh_tokens.deletes++
      let until = Date.now() + 86_400_000
      for (const jti of families.get(family) ?? []) {
        until = Math.max(until, refresh.get(jti)?.expiresAt ?? 0)
        refresh.delete(jti)
      }
      families.delete(family)
      revoked.set(family, until)
    },
    deny(jti, expiresAt) {
      counters.denylist.writes++
      denied.set(jti, expiresAt)
    },
    isDenied(jti, now) {
      counters.denylist.reads++
      const expiresAt = denied.get(jti)
      return expiresAt !== undefined && expiresAt > now
    },
    purgeExpired(now) {
      for (const [id, e] of sessions) if (e.expiresAt <= now) sessions.delete(id)
      for (const [jti, e] of refresh) {
        if (e.expiresAt > now) continue
        refresh.delete(jti)
        const members = families.get(e.family)
        members?.delete(jti)
        if (members?.size === 0) families.delete(e.family)
      }
      for (const [jti, expiresAt] of denied) if (expiresAt <= now) denied.delete(jti)
      for (const [family, until] of revoked) if (until <= now) revoked.delete(family)
    },
    size: () => ({ sessions: sessions.size, refreshTokens: refresh.size, denied: denied.size }),
    async close() {
      sessions.clear()
      refresh.clear()
      families.clear()
      revoked.clear()
      denied.clear()
    },
  }
}
