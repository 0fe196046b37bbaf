import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import { POSTGRES_URL_PATTERN } from '../../../servers/stores/postgres.ts'
import type { ProcessGroup } from '../../processes.ts'
import type { ExternalCounts, StoreFaults, StoreProvisioner } from './provisioner.ts'
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
 * PostgreSQL's own count of the store's statements since its start (pg_stat_statements): each
 * statement names its counted operation in a comment (`ab:read`, `ab:write`, `ab:delete`);
 * housekeeping (`ab:purge`, `ab:size`) and the harness's own queries count only in `total`.
 */
export async function statementCounts(client: pg.Client): Promise<ExternalCounts> {
  const { rows } = await client.query<{ query: string; calls: string }>('SELECT query, calls FROM pg_stat_statements')
  const counts = { reads: 0, writes: 0, deletes: 0, total: 0 }
  for (const r of rows) {
    if (/pg_stat_statements/.test(r.query)) continue
    const calls = Number(r.calls)
    counts.total += calls
    const kind = /\/\* ab:(read|write|delete) \*\//.exec(r.query)?.[1]
    if (kind) counts[`${kind}s` as 'reads' | 'writes' | 'deletes'] += calls
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
  const pgsql = await startPostgres({ cpus })
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

/**
 * PostgreSQL: the user's (`--postgres-url`) or a private one from the embedded binaries (a fresh
 * data directory, a free loopback port), pinned with the load generator. Its counts come from
 * pg_stat_statements, its CPU from the kernel's account of every process it runs.
 */
export const postgresProvisioner: StoreProvisioner = {
  kind: 'postgres',
  url: {
    pattern: POSTGRES_URL_PATTERN,
    looksLike: 'postgres://user@host:port/database',
    means: 'use this PostgreSQL instead of starting a private one',
  },
  async provision({ cpus, group, urls }) {
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
      serverArgs: ['--postgres-url', store.url],
      settings: store.started ? POSTGRES_SETTINGS : null,
      counts: () => statementCounts(client),
      // Only a server the harness started has processes it can account for.
      cpuUs: async () => {
        const pid = store.pid()
        return pid === null ? null : postgresCpuUs(pid)
      },
      faults: store.faults,
      async stop() {
        await client.end().catch(() => {})
        await store.stop()
      },
    }
  },
}
