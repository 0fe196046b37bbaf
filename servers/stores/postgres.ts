import pg from 'pg'
import { newCounters, type Counters } from '../counters.ts'
import { ConfigError, StoreUnavailableError } from '../../common/errors.ts'
import type { ConsumeResult, StateStore, StoreAddress } from '../types.ts'

/** A statement (or a connection) that has not answered by then fails the request closed (503) instead of hanging it. */
export const POSTGRES_TIMEOUT_MS = 500

/** Where PostgreSQL is. */
export const POSTGRES_ADDRESS: StoreAddress = {
  flag: 'postgres-url',
  env: 'POSTGRES_URL',
  pattern: /^postgres(ql)?:\/\/[^/]+/,
  looksLike: 'postgres://user@host:port/database',
}

/**
 * SQLSTATE classes and codes by which PostgreSQL says it cannot serve now: connection exceptions
 * (08), too many connections or out of resources (53), an administrator's shutdown or a server
 * starting up or recovering (57, with 57014 a statement timeout), a read-only transaction or
 * server (25006), a lock that could not be had (55P03), a serialization failure or deadlock
 * (40001, 40P01). Anything else (a syntax error, a constraint the code did not expect) is a bug.
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)|^(25006|55P03|40001|40P01)$/

/** Whether an error from the client means "the store cannot serve now" rather than a bug. */
export function unavailableError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code)
  // No SQLSTATE: the socket (refused, reset, timed out), the pool (no connection in time), or the client's own query timeout.
  if (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|ADDRNOTAVAIL)$/.test(code)) return true
  return (
    err instanceof Error &&
    /timeout exceeded when trying to connect|Query read timeout|Connection terminated|connection error|not queryable|Client was closed/i.test(
      err.message,
    )
  )
}

async function run<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    if (!unavailableError(err)) throw err
    throw new StoreUnavailableError(`PostgreSQL is unavailable: ${(err as Error).message.split('\n')[0]}`, { cause: err })
  }
}

/**
 * The store's own tables, created once (under an advisory lock, so several instances starting
 * together do not race), in the schema the connection's search_path names. `used`: the time of a
 * refresh token's first use (ms since the epoch), 0 while unused, -1 once its family is revoked.
 */
const SCHEMA = `
  SELECT pg_advisory_xact_lock(828172);
  CREATE TABLE IF NOT EXISTS sessions (
    id text PRIMARY KEY, user_id integer NOT NULL, username text NOT NULL,
    created_at bigint NOT NULL, last_seen_at bigint NOT NULL, expires_at bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti text PRIMARY KEY, family text NOT NULL, used bigint NOT NULL DEFAULT 0, expires_at bigint NOT NULL);
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family);
  CREATE TABLE IF NOT EXISTS denylist (jti text PRIMARY KEY, expires_at bigint NOT NULL);`

/**
 * Every statement a request can make, named so each connection prepares it once and then only
 * binds and executes; the comment says which counted operation it is, so PostgreSQL's own
 * statistics (pg_stat_statements) can be checked against the servers' counters.
 */
const Q = {
  getSession: {
    name: 'ab_get_session',
    text: 'SELECT /* ab:read */ user_id, username, created_at, last_seen_at FROM sessions WHERE id = $1',
  },
  insertSession: {
    name: 'ab_insert_session',
    text: 'INSERT /* ab:write */ INTO sessions (id, user_id, username, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
  },
  touchSession: { name: 'ab_touch_session', text: 'UPDATE /* ab:write */ sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3' },
  deleteSession: { name: 'ab_delete_session', text: 'DELETE /* ab:delete */ FROM sessions WHERE id = $1' },
  // One statement: a family's revoked rows stay (until they expire) as its tombstone, so a rotation racing the revocation records nothing.
  putRefresh: {
    name: 'ab_put_refresh',
    text:
      'INSERT /* ab:write */ INTO refresh_tokens (jti, family, used, expires_at) SELECT $1, $2, 0, $3 WHERE NOT EXISTS ' +
      '(SELECT 1 FROM refresh_tokens WHERE family = $2 AND used = -1)',
  },
  // One round trip, atomic: the row locked, marked used only if it was unused, its previous value returned (0 unused, a time used, -1 revoked; none: unknown).
  consume: {
    name: 'ab_consume_refresh',
    text: `WITH /* ab:write */ old AS (SELECT jti, used FROM refresh_tokens WHERE jti = $2 AND expires_at > $3 FOR UPDATE),
      marked AS (UPDATE refresh_tokens r SET used = $1 FROM old WHERE r.jti = old.jti AND old.used = 0 RETURNING 1)
      SELECT used FROM old`,
  },
  revokeFamily: { name: 'ab_revoke_family', text: 'UPDATE /* ab:delete */ refresh_tokens SET used = -1 WHERE family = $1' },
  deny: {
    name: 'ab_deny',
    text: 'INSERT /* ab:write */ INTO denylist (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at',
  },
  isDenied: { name: 'ab_is_denied', text: 'SELECT /* ab:read */ 1 FROM denylist WHERE jti = $1 AND expires_at > $2' },
} as const

export interface PostgresStoreOptions {
  url?: string | undefined
  counters?: Counters
  /** A schema of its own (created if absent), so tests can share one server. Default: the connection's. */
  schema?: string | undefined
  /** Connections in the pool: requests in flight beyond this wait for one. Default 16. */
  poolSize?: number
  /** A statement or a connection not answered by then fails (the server's `--store-timeout-ms`). Default POSTGRES_TIMEOUT_MS. */
  timeoutMs?: number | undefined
}

/**
 * Sessions, refresh-token state and the denylist in PostgreSQL through node-postgres: a pool of
 * connections, each statement prepared once per connection (named), every value a bound
 * parameter. A statement or a connection that does not answer within POSTGRES_TIMEOUT_MS fails
 * closed (503); expired rows are purged on the server's timer, as SQLite's are.
 */
// Longer than 80 lines on purpose: one closure over the pool and its statements, returning the store's methods, each a few lines.
export async function createPostgresStore(o: PostgresStoreOptions): Promise<StateStore> {
  if (!o.url) throw new ConfigError('a PostgreSQL store needs a url')
  if (o.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(o.schema))
    throw new ConfigError(`schema must be a plain identifier; got "${o.schema}"`)
  const counters = o.counters ?? newCounters()
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize ?? 16,
    // Connections stay open: each keeps its prepared statements, and its server process its CPU account.
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: o.timeoutMs ?? POSTGRES_TIMEOUT_MS,
    query_timeout: o.timeoutMs ?? POSTGRES_TIMEOUT_MS,
    ...(o.schema ? { options: `-c search_path=${o.schema}` } : {}),
  })
  // A connection that breaks while idle is dropped by the pool; the next request gets a fresh one or a 503.
  pool.on('error', () => {})
  try {
    // The tables are committed durably whatever the server's synchronous_commit: a crash may lose recent rows, never the schema.
    await pool.query(
      `BEGIN; SET LOCAL synchronous_commit = on; ${o.schema ? `CREATE SCHEMA IF NOT EXISTS ${o.schema};` : ''} ${SCHEMA} COMMIT;`,
    )
  } catch (err) {
    await pool.end()
    throw err
  }
  const q = <R extends pg.QueryResultRow>(s: { name: string; text: string }, values: unknown[]) =>
    run(() => pool.query<R>({ ...s, values }))

  return {
    kind: 'postgres',
    counters,
    async createSession(s, ttlMs) {
      counters.sessions.writes++
      await q(Q.insertSession, [s.id, s.userId, s.username, s.createdAt, s.lastSeenAt, s.lastSeenAt + ttlMs])
    },
    async getSession(id) {
      counters.sessions.reads++
      const row = (await q<{ user_id: number; username: string; created_at: string; last_seen_at: string }>(Q.getSession, [id])).rows[0]
      return row
        ? { id, userId: row.user_id, username: row.username, createdAt: Number(row.created_at), lastSeenAt: Number(row.last_seen_at) }
        : null
    },
    async touchSession(s, ttlMs) {
      counters.sessions.writes++
      await q(Q.touchSession, [s.lastSeenAt, s.lastSeenAt + ttlMs, s.id])
    },
    async deleteSession(id) {
      counters.sessions.deletes++
      await q(Q.deleteSession, [id])
    },
    async putRefresh(jti, family, expiresAt) {
      counters.refresh_tokens.writes++
      return (await q(Q.putRefresh, [jti, family, expiresAt])).rowCount === 1
    },
    async consumeRefresh(jti, _family, now, graceMs): Promise<ConsumeResult> {
      counters.refresh_tokens.writes++
      const row = (await q<{ used: string }>(Q.consume, [now, jti, now])).rows[0]
      if (!row) return 'unknown'
      const used = Number(row.used)
      if (used === 0) return 'ok'
      if (used < 0) return 'unknown'
      // A used token's first use is never moved, so presentations inside the window do not slide it.
      return graceMs > 0 && now - used <= graceMs ? 'grace' : 'reused'
    },
    async revokeFamily(family) {
      counters.refresh_tokens.deletes++
      await q(Q.revokeFamily, [family])
    },
    async deny(jti, expiresAt) {
      counters.denylist.writes++
      await q(Q.deny, [jti, expiresAt])
    },
    async isDenied(jti, now) {
      counters.denylist.reads++
      return (await q(Q.isDenied, [jti, now])).rowCount === 1
    },
    async purgeExpired(now) {
      // Housekeeping, marked so PostgreSQL's statistics can tell it from request work.
      for (const t of ['sessions', 'refresh_tokens', 'denylist'])
        await run(() => pool.query(`DELETE /* ab:purge */ FROM ${t} WHERE expires_at <= $1`, [now]))
    },
    async size() {
      const count = async (from: string) =>
        Number((await run(() => pool.query<{ n: string }>(`SELECT /* ab:size */ count(*) AS n FROM ${from}`))).rows[0]!.n)
      return {
        sessions: await count('sessions'),
        refreshTokens: await count('refresh_tokens WHERE used >= 0'),
        denied: await count('denylist'),
      }
    },
    async close() {
      await pool.end()
    },
  }
}
