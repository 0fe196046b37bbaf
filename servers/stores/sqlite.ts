import type Database from 'better-sqlite3'
import { newCounters, type Counters } from '../counters.ts'
import { StoreUnavailableError } from '../../common/errors.ts'
import type { ConsumeResult, StateStore } from '../types.ts'

/** Runs a statement; a locked or busy database becomes StoreUnavailableError (503), not a 500. */
export function wrapSqlite<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
      throw new StoreUnavailableError('SQLite database is busy', { cause: err })
    }
    throw err
  }
}

interface SessionRow {
  user_id: number
  username: string
  created_at: number
  last_seen_at: number
}

/** The store's own tables, created on first use beside the users table. */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, -- time of first use (ms since the epoch); 0 while unused; -1 once its family is revoked
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family);
  CREATE TABLE IF NOT EXISTS denylist (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`

export function createSqliteStore(db: Database.Database, counters: Counters = newCounters()): StateStore {
  db.exec(SCHEMA)
  const getSession = db.prepare<[string], SessionRow>('SELECT user_id, username, created_at, last_seen_at FROM sessions WHERE id = ?')
  const insertSession = db.prepare(
    'INSERT INTO sessions (id, user_id, username, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const touchSession = db.prepare('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?')
  const deleteSession = db.prepare('DELETE FROM sessions WHERE id = ?')
  // One statement: a family's revoked rows stay (until they expire) as its tombstone, so a rotation racing the revocation records nothing.
  const insertRefresh = db.prepare(`INSERT INTO refresh_tokens (jti, family, used, expires_at)
    SELECT @jti, @family, 0, @expiresAt WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family = @family AND used = -1)`)
  const markUsed = db.prepare('UPDATE refresh_tokens SET used = ? WHERE jti = ? AND used = 0 AND expires_at > ?')
  const findRefresh = db.prepare<[string, number], { used: number }>('SELECT used FROM refresh_tokens WHERE jti = ? AND expires_at > ?')
  const revokeFamily = db.prepare('UPDATE refresh_tokens SET used = -1 WHERE family = ?')
  const insertDeny = db.prepare('INSERT OR REPLACE INTO denylist (jti, expires_at) VALUES (?, ?)')
  // Housekeeping, marked so a statement trace can tell it from request work.
  const purge = ['sessions', 'refresh_tokens', 'denylist'].map((t) => db.prepare(`DELETE /* purge */ FROM ${t} WHERE expires_at <= ?`))
  const sizes = ['sessions', 'refresh_tokens WHERE used >= 0', 'denylist'].map((t) =>
    db.prepare(`SELECT count(*) FROM ${t} /* size */`).pluck(),
  )
  const findDeny = db.prepare<[string, number], { x: number }>('SELECT 1 AS x FROM denylist WHERE jti = ? AND expires_at > ?').pluck()

  return {
    kind: 'sqlite',
    counters,
    createSession(s, ttlMs) {
      counters.sessions.writes++
      wrapSqlite(() => insertSession.run(s.id, s.userId, s.username, s.createdAt, s.lastSeenAt, s.lastSeenAt + ttlMs))
    },
    getSession(id) {
      counters.sessions.reads++
      const row = wrapSqlite(() => getSession.get(id))
      return row ? { id, userId: row.user_id, username: row.username, createdAt: row.created_at, lastSeenAt: row.last_seen_at } : null
    },
    touchSession(s, ttlMs) {
      counters.sessions.writes++
      wrapSqlite(() => touchSession.run(s.lastSeenAt, s.lastSeenAt + ttlMs, s.id))
    },
    deleteSession(id) {
      counters.sessions.deletes++
      wrapSqlite(() => deleteSession.run(id))
    },
    putRefresh(jti, family, expiresAt) {
      counters.refresh_tokens.writes++
      return wrapSqlite(() => insertRefresh.run({ jti, family, expiresAt })).changes === 1
    },
    consumeRefresh(jti, _family, now, graceMs): ConsumeResult {
      counters.refresh_tokens.writes++
      if (wrapSqlite(() => markUsed.run(now, jti, now)).changes === 1) return 'ok'
      counters.refresh_tokens.reads++
      const row = wrapSqlite(() => findRefresh.get(jti, now))
      if (!row || row.used <= 0) return 'unknown'
      return graceMs > 0 && now - row.used <= graceMs ? 'grace' : 'reused'
    },
    revokeFamily(family) {
      counters.refresh_tokens.deletes++
      wrapSqlite(() => revokeFamily.run(family))
    },
    deny(jti, expiresAt) {
      counters.denylist.writes++
      wrapSqlite(() => insertDeny.run(jti, expiresAt))
    },
    isDenied(jti, now) {
      counters.denylist.reads++
      return wrapSqlite(() => findDeny.get(jti, now)) !== undefined
    },
    purgeExpired(now) {
      wrapSqlite(() =>
        db.transaction(() => {
          for (const p of purge) p.run(now)
        })(),
      )
    },
    size() {
      const [sessions, refreshTokens, denied] = sizes.map((q) => wrapSqlite(() => q.get() as number))
      return { sessions: sessions!, refreshTokens: refreshTokens!, denied: denied! }
    },
    async close() {},
  }
}
