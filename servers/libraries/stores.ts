import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type Database from 'better-sqlite3'
import connectPgSimple from 'connect-pg-simple'
import { RedisStore } from 'connect-redis'
import pg from 'pg'
import { createClient, ErrorReply } from 'redis'
import { ConfigError, StoreUnavailableError } from '../../common/errors.ts'
import type { LibraryConfig } from '../../common/session-libraries.ts'
import type { Counters } from '../counters.ts'
import { openDatabase } from '../db.ts'
import { POSTGRES_TIMEOUT_MS, unavailableError } from '../stores/postgres.ts'
import { REDIS_COMMAND_TIMEOUT_MS, unavailableReply } from '../stores/redis.ts'

const require = createRequire(import.meta.url)
// Its package ships no types (0.1.0 dropped them): the factory takes the library's module (its Store) and returns the class.
const sqliteSessionStore = require('better-sqlite3-session-store') as (
  base: StoreBase,
) => new (o: {
  client: Database.Database
}) => LibraryStore

type Callback = (err?: unknown, value?: unknown) => void

/** The methods a session library calls on its store (express-session's Store, which @fastify/session's shares). */
interface LibraryStore {
  get(sid: string, cb: Callback): unknown
  set(sid: string, session: unknown, cb?: Callback): unknown
  destroy(sid: string, cb?: Callback): unknown
  touch?(sid: string, session: unknown, cb?: Callback): unknown
}

/** The store base class and memory store of the library an adapter is built for (connect-pg-simple and the SQLite store extend it). */
export interface StoreBase {
  Store: new (...args: never[]) => object
  MemoryStore: new () => object
}

export interface LibraryStoreContext {
  config: LibraryConfig
  base: StoreBase
  counters: Counters
  url?: string | undefined
  /** The server's SQLite file: the SQLite adapter keeps its sessions in a file beside it. */
  dbPath: string
  /** SQLite's statement trace (--trace-sql), which the SQLite adapter's own connection reports to as well. */
  trace?: ((sql: string) => void) | undefined
  /** Prefix for keys in a shared store (a schema of its own in PostgreSQL), so tests can share one server. */
  keyPrefix?: string | undefined
  timeoutMs?: number | undefined
}

export interface OpenedLibraryStore {
  store: LibraryStore
  close(): Promise<void>
}

/**
 * Counts each call the library makes on its adapter as the reference stores count theirs (get a read, set a write, a
 * touch a write where the adapter sends one, destroy a delete), and turns an error by which the store says it cannot
 * serve now into StoreUnavailableError (503); the methods are wrapped once, at start.
 */
function counted(store: LibraryStore, counters: Counters, touchWrites: boolean, unavailable: (err: unknown) => boolean): LibraryStore {
  const t = counters.sessions
  const mapped =
    (cb: Callback | undefined): Callback =>
    (err, value) => {
      if (err && unavailable(err))
        cb?.(new StoreUnavailableError(`the session store is unavailable: ${(err as Error).message.split('\n')[0]}`, { cause: err }))
      else cb?.(err, value)
    }
  const get = store.get.bind(store)
  const set = store.set.bind(store)
  const destroy = store.destroy.bind(store)
  const touch = store.touch?.bind(store)
  store.get = (sid, cb) => {
    t.reads++
    return get(sid, mapped(cb))
  }
  store.set = (sid, session, cb) => {
    t.writes++
    return set(sid, session, mapped(cb))
  }
  store.destroy = (sid, cb) => {
    t.deletes++
    return destroy(sid, mapped(cb))
  }
  if (touch)
    store.touch = (sid, session, cb) => {
      if (touchWrites) t.writes++
      return touch(sid, session, mapped(cb))
    }
  return store
}

async function openRedis({ config, counters, url, keyPrefix, timeoutMs }: LibraryStoreContext): Promise<OpenedLibraryStore> {
  if (!url) throw new ConfigError('a Redis session store needs --redis-url')
  const timeout = timeoutMs ?? REDIS_COMMAND_TIMEOUT_MS
  // As connect-redis's README connects it, with bounds: a dead or stopped Redis fails a request within the timeout (503).
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: Math.max(1000, timeout), reconnectStrategy: (retries: number) => Math.min(50 * retries, 500) },
    commandOptions: { timeout, rejectInFlight: true },
  })
  // A lost connection is reported to each command it fails (503); the event itself is node-redis's, and unheard it would end the process.
  client.on('error', () => {})
  await client.connect()
  const store = new RedisStore({ client, prefix: `${keyPrefix ?? ''}sess:`, ...config.adapterOptions }) as unknown as LibraryStore
  return {
    store: counted(
      store,
      counters,
      config.adapterOptions.disableTouch !== true,
      (err) => !(err instanceof ErrorReply) || unavailableReply(err),
    ),
    close: async () => {
      client.destroy()
    },
  }
}

/** A key prefix as a PostgreSQL schema name (tests share one server, each in a schema of its own). */
const schemaOf = (prefix: string) =>
  prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/^([0-9])/, '_$1')

async function openPostgres({ config, base, counters, url, keyPrefix, timeoutMs }: LibraryStoreContext): Promise<OpenedLibraryStore> {
  if (!url) throw new ConfigError('a PostgreSQL session store needs --postgres-url')
  const timeout = timeoutMs ?? POSTGRES_TIMEOUT_MS
  const pool = new pg.Pool({ connectionString: url, max: 16, connectionTimeoutMillis: timeout, query_timeout: timeout })
  // An idle connection's error is reported to the next query that needs one (503); unheard, it would end the process.
  pool.on('error', () => {})
  const schemaName = keyPrefix ? schemaOf(keyPrefix) : undefined
  // The package's own table, made once at start (its SQL as shipped, under a lock: instances start together), never per request.
  const table = readFileSync(require.resolve('connect-pg-simple/table.sql'), 'utf8')
  const where = schemaName ? `"${schemaName}".` : ''
  const conn = await pool.connect()
  try {
    await conn.query('BEGIN')
    await conn.query('SELECT pg_advisory_xact_lock(828173)')
    if (schemaName) await conn.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`)
    const { rows } = await conn.query<{ t: string | null }>('SELECT to_regclass($1::text) AS t', [`${where}"session"`])
    if (rows[0]!.t === null) await conn.query(table.replaceAll('"session"', `${where}"session"`))
    await conn.query('COMMIT')
  } finally {
    conn.release()
  }
  const PGStore = connectPgSimple(base as never)
  const store = new PGStore({
    pool,
    ...(schemaName ? { schemaName } : {}),
    // Its expired rows are deleted by its own timer (every 15 minutes, at random around it), as shipped.
    errorLog: (...args: unknown[]) => process.stderr.write(`connect-pg-simple: ${args.map(String).join(' ')}\n`),
    ...config.adapterOptions,
  }) as unknown as LibraryStore & { close(): Promise<void> }
  return {
    store: counted(store, counters, config.adapterOptions.disableTouch !== true, unavailableError),
    close: async () => {
      await store.close()
      await pool.end()
    },
  }
}

async function openSqlite({ base, counters, dbPath, trace }: LibraryStoreContext): Promise<OpenedLibraryStore> {
  // A file of its own beside the server's: the package makes a `sessions` table of its own shape, which the users' file may already hold.
  const database = openDatabase(`${dbPath}-sessions`, undefined, trace ? { trace } : {})
  const SqliteStore = sqliteSessionStore(base)
  let timer: NodeJS.Timeout | undefined
  // Its purge timer, as shipped (every 15 minutes), held so the server can stop it on close.
  class Held extends SqliteStore {
    startInterval(this: { clearExpiredSessions(): void; expired: { intervalMs: number } }) {
      timer = setInterval(() => this.clearExpiredSessions(), this.expired.intervalMs)
      timer.unref()
    }
  }
  const store = new Held({ client: database.db })
  database.serving()
  const busy = (err: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown } | null)?.code ?? ''))
  return {
    store: counted(store, counters, true, busy),
    close: async () => {
      clearInterval(timer)
      database.close()
    },
  }
}

async function openMemory({ base, counters }: LibraryStoreContext): Promise<OpenedLibraryStore> {
  const store = new base.MemoryStore() as unknown as LibraryStore
  return { store: counted(store, counters, true, () => false), close: async () => {} }
}

/** Opens the adapter teams install for the cell's store, counted. */
export function openLibraryStore(ctx: LibraryStoreContext): Promise<OpenedLibraryStore> {
  switch (ctx.config.store) {
    case 'redis':
      return openRedis(ctx)
    case 'postgres':
      return openPostgres(ctx)
    case 'sqlite':
      return openSqlite(ctx)
    case 'memory':
      return openMemory(ctx)
    default:
      throw new ConfigError(`--session-library ${ctx.config.library} has no adapter for --store ${ctx.config.store}`)
  }
}
