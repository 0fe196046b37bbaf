// The instruction counter: a server run under valgrind's callgrind with instrumentation switched on
// only around a fixed batch of requests after a warm-up, so its count of work per request does not
// move with the host's speed as CPU time does. The count is the server process's alone: the kernel's
// work for it (syscalls, the network stack) and the store's process are not in it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { ServerStartError } from '../common/errors.ts'
import { readyPort, requestCollection, requestStats } from '../servers/ipc.ts'
import type { StatsSnapshot } from '../servers/metrics.ts'
import { InstrumentError } from './contracts/errors.ts'
import { expectedOps } from './expected.ts'
import type { LoadRequest } from './contracts/client.ts'
import type { CellPlan } from './contracts/plan.ts'
import type { RunListener } from './contracts/events.ts'
import { type ProcessGroup, SERVER_MAIN, type ServerRuntime, stopChild } from './processes.ts'
import { runnable } from '../common/compiled.ts'
import { cellServerArgs, credentialPool } from './verify.ts'

/** How one count is taken. */
export interface InstructionSettings {
  /** Requests sent uninstrumented first, so the JIT has compiled the request path. */
  warmupRequests: number
  /** Requests counted. */
  batchRequests: number
  /** A full collection forced just before the count starts (the server runs with `--expose-gc`). */
  collect: boolean
  /** Node's and V8's flags for the server under the counter. */
  nodeFlags: string[]
}

/** V8's deterministic flags: one thread, a GC schedule by allocation, fixed hash and random seeds. */
const PREDICTABLE_FLAGS = ['--predictable', '--predictable-gc-schedule', '--hash-seed=1', '--random-seed=1']
/**
 * Also no collection on a timer (V8's memory reducer runs full collections when allocation slows,
 * which under valgrind's slowness it often does), and no bytecode thrown away for being unused.
 */
export const STEADY_FLAGS = [...PREDICTABLE_FLAGS, '--no-memory-reducer', '--no-flush-bytecode']
const INSTRUCTION_DEFAULTS: InstructionSettings = {
  warmupRequests: 20_000,
  batchRequests: 500,
  collect: false,
  nodeFlags: STEADY_FLAGS,
}

/** Batches counted per cell: results keep their mean, lowest and highest; the comparisons read the lowest (docs/contracts.md). */
const INSTRUCTION_BATCHES = 4
/** Cells counted at once, after the rounds. */
const COUNTED_AT_ONCE = 2
/** Credentials the counted requests rotate through. */
const POOL_SIZE = 20
/**
 * How long the counted server waits for its store (`--store-timeout-ms`): under valgrind it runs
 * some fifty times slower, and a Redis or PostgreSQL answer outlasts the servers' 500 ms.
 */
const COUNTED_STORE_TIMEOUT_MS = 30_000
/** The counted server's purge of expired state (`--purge-interval-ms`): once a day, so never during a count. */
const COUNTED_PURGE_INTERVAL_MS = 86_400_000

/** Why instructions cannot be counted on this machine, or null when they can. */
function instrumentUnavailable(): string | null {
  for (const [tool, arg] of [
    ['valgrind', '--version'],
    ['setarch', '--version'],
    ['vgdb', '--help'],
  ] as const) {
    const res = spawnSync(tool, [arg], { stdio: 'ignore' })
    if (res.error) return `${tool} is not installed (Debian's package valgrind, util-linux): instructions are not counted`
  }
  return null
}

/** A node program running under callgrind with instrumentation off, answering HTTP on `url`. */
export interface CountedServer {
  child: ChildProcess
  url: string
  /** The callgrind monitor command, answered by the process (via vgdb). */
  monitor(command: string): Promise<void>
  /** The total instructions (Ir) of the newest dump. */
  lastDump(): number
  /** The server's own counters over IPC (an authbench server only). */
  stats(): Promise<StatsSnapshot>
  stop(): Promise<void>
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new InstrumentError(`${command} ${args.join(' ')} exited with ${code}: ${out.trim()}`)),
    )
  })
}

/** Callgrind's `totals:` line (the first event, Ir) of a dump file. */
export function parseTotal(text: string): number {
  const line = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text)
  if (!line) throw new InstrumentError('a callgrind dump without a totals line')
  return Number(line[1])
}

/**
 * Starts `node [flags] SCRIPT ARGS` (its compiled copy: compiled.ts) under callgrind (address space layout fixed with
 * `setarch -R`; V8's generated code is checked for self-modification), in the group, its output
 * files in a folder the group removes. Resolves once the script sends its `{ port }` over IPC.
 */
export function startCounted(
  group: ProcessGroup,
  script: string,
  args: string[],
  settings: Pick<InstructionSettings, 'collect' | 'nodeFlags'>,
  timeoutMs = 300_000,
  runtime?: ServerRuntime,
): Promise<CountedServer> {
  const dir = group.tempDir('authbench-callgrind-')
  const prefix = join(dir, 'vgdb')
  const node = [...settings.nodeFlags, ...(settings.collect ? ['--expose-gc'] : [])]
  const argv = [
    '-R',
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all-non-file',
    `--vgdb-prefix=${prefix}`,
    `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`,
    runtime?.binary ?? process.execPath,
    ...node,
    ...runnable(script),
    ...args,
  ]
  const env = { ...process.env, ...runtime?.env }
  const child = group.track(spawn('setarch', argv, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env }))
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  child.stdout!.resume()
  const stop = async () => {
    await stopChild(child, 10_000)
    group.removeDir(dir)
  }
  return new Promise((resolve, reject) => {
    const fail = (message: string) => {
      clearTimeout(timer)
      void stop()
      reject(new ServerStartError(message))
    }
    const timer = setTimeout(() => fail(`${script} under callgrind did not start within ${timeoutMs / 1000} s\n${stderr}`), timeoutMs)
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`${script} under callgrind exited with ${signal ?? code}: ${stderr.trim()}`)
    child.once('exit', onExit)
    child.once('message', (msg: unknown) => {
      clearTimeout(timer)
      // Only this listener: the group's own tells it the process is gone.
      child.off('exit', onExit)
      const port = readyPort(msg)
      if (port === null) return fail(`${script} under callgrind sent ${JSON.stringify(msg)} instead of its port`)
      resolve({
        child,
        url: `http://127.0.0.1:${port}`,
        monitor: async (command) => {
          await run('vgdb', [`--vgdb-prefix=${prefix}`, `--pid=${child.pid}`, command])
        },
        lastDump: () => {
          const dumps = readdirSync(dir)
            .filter((f) => f.startsWith('callgrind.out.') && /\.\d+$/.test(f.slice('callgrind.out.'.length)))
            .sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)))
          const newest = dumps.at(-1)
          if (!newest) throw new InstrumentError(`callgrind wrote no dump in ${dir}`)
          return parseTotal(readFileSync(join(dir, newest), 'utf8'))
        },
        // Under valgrind an answer over IPC can take seconds.
        stats: () => requestStats(child, false, 60_000),
        stop,
      })
    })
  })
}

/** Sends `count` requests one after another on one keep-alive connection, rotating through `requests`; every answer must be 2xx. */
async function sendSequential(url: string, requests: LoadRequest[], count: number, from = 0): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    for (let i = 0; i < count; i++) {
      const r = requests[(from + i) % requests.length]!
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(url + r.path, { method: r.method, headers: r.headers, agent }, (res) => {
          res.resume()
          res.once('end', () => resolve(res.statusCode ?? 0))
        })
        req.once('error', reject)
        req.end(r.body)
      })
      if (status < 200 || status >= 300) throw new InstrumentError(`${r.method} ${r.path} answered ${status} while counting instructions`)
    }
  } finally {
    agent.destroy()
  }
}

/** What a counted batch did besides its requests, read from the server's counters just before and after it. */
export interface BatchOps {
  requests: number
  writes: number
  deletes: number
  purges: number
}

/** What a count does around each batch beyond the batch itself. */
export interface BatchHooks {
  /**
   * The credentials of the next batch, logged in just before it (default: `requests` for every
   * batch). Given, the warm-up is sent as the counted batches are: in batches of the same size,
   * each after its own logins, so what the server does before a count depends on requests, not time.
   */
  credentials?(): Promise<LoadRequest[]>
  /** Reads the server's counters around each batch, warm-up and counted, and hands over what it held; throwing fails the count. */
  check?(ops: BatchOps, sent: number, batch: string): void
}

const opsBetween = (a: StatsSnapshot, b: StatsSnapshot): BatchOps => ({
  requests: b.requests - a.requests,
  writes: b.writes - a.writes,
  deletes: b.deletes - a.deletes,
  purges: b.purges - a.purges,
})

/** The warm-up, then `batches` counts, each a collection when asked and a batch with instrumentation on; instructions per request of each. */
export async function countInstructions(
  server: CountedServer,
  requests: LoadRequest[],
  settings: InstructionSettings,
  batches = 1,
  hooks: BatchHooks = {},
): Promise<number[]> {
  const checked = async (batch: string, sent: number, send: () => Promise<void>) => {
    const before = hooks.check ? await server.stats() : null
    await send()
    if (before) hooks.check!(opsBetween(before, await server.stats()), sent, batch)
  }
  if (hooks.credentials)
    for (let sent = 0, w = 1; sent < settings.warmupRequests; w++) {
      const n = Math.min(settings.batchRequests, settings.warmupRequests - sent)
      const fresh = await hooks.credentials()
      await checked(`warm-up batch ${w}`, n, () => sendSequential(server.url, fresh, n))
      sent += n
    }
  else await sendSequential(server.url, requests, settings.warmupRequests)
  const out: number[] = []
  for (let b = 0; b < batches; b++) {
    const batch = (await hooks.credentials?.()) ?? requests
    const from = hooks.credentials ? 0 : settings.warmupRequests + b * settings.batchRequests
    if (settings.collect) await requestCollection(server.child)
    await checked(`counted batch ${b + 1}`, settings.batchRequests, async () => {
      await server.monitor('zero')
      await server.monitor('instrumentation on')
      await sendSequential(server.url, batch, settings.batchRequests, from)
      await server.monitor('instrumentation off')
      await server.monitor('dump')
    })
    out.push(server.lastDump() / settings.batchRequests)
  }
  return out
}

/**
 * A batch must hold the cell's own requests' store work and nothing else: a session's renewal of its
 * idle deadline (a write due once a minute per user, while a batch under valgrind lasts seconds to
 * tens of seconds) or the server's purge of expired state inside it is work of another kind, which
 * only some batches would hold, and which leaves the compiled code of the batches after it changed.
 */
export function asExpected(plan: CellPlan): (ops: BatchOps, sent: number, batch: string) => void {
  const expected = expectedOps(plan)
  return (ops, sent, batch) => {
    const writes = expected.writes * sent
    const deletes = expected.deletes * sent
    if (ops.requests !== sent || ops.writes !== writes || ops.deletes !== deletes || ops.purges !== 0)
      throw new InstrumentError(
        `${plan.id}: ${batch} held ${ops.requests} requests, ${ops.writes} store writes, ${ops.deletes} deletes ` +
          `and ${ops.purges} purges; expected ${sent} requests, ${writes} writes, ${deletes} deletes and no purge`,
      )
  }
}

/** What counting a cell needs: its store made ready, and the users' template. */
interface CountCellOptions {
  group: ProcessGroup
  /** The flags that reach the cell's store; empty for a strategy without one. */
  storeArgs: string[]
  usersTemplate: string | null
  users: number
  /** Credentials logged in for the batch to rotate through. */
  poolSize: number
  /** The Node the cell's servers run on; absent, the harness's own. */
  runtime?: ServerRuntime | undefined
}

/**
 * Counts a cell: one server as the cell starts it, under callgrind; logged in with the cell's own
 * client, then `counts` counts, each after its own warm-up. Instructions per request, one per count.
 */
async function countCell(plan: CellPlan, opts: CountCellOptions, settings: InstructionSettings, counts = 1): Promise<number[]> {
  const dir = opts.group.tempDir(`authbench-instr-${plan.id}-`)
  let server: CountedServer | null = null
  try {
    const storeArgs = [...opts.storeArgs, '--store-timeout-ms', String(COUNTED_STORE_TIMEOUT_MS)]
    const args = [...cellServerArgs(plan, dir, opts, storeArgs), '--purge-interval-ms', String(COUNTED_PURGE_INTERVAL_MS)]
    server = await startCounted(opts.group, SERVER_MAIN, args, settings, undefined, opts.runtime)
    const url = server.url
    const requests = await credentialPool(plan, [url], opts.poolSize)
    // Users logged in just before each batch: no session's renewal falls due inside it.
    return await countInstructions(server, requests, settings, counts, {
      credentials: () => credentialPool(plan, [url], opts.poolSize),
      check: asExpected(plan),
    })
  } finally {
    await server?.stop()
    opts.group.removeDir(dir)
  }
}

/** What the run's instruction stage works with. */
export interface CountRunOptions {
  plans: CellPlan[]
  /** The cells still running after the rounds: only these are counted. */
  active: ReadonlySet<string>
  storeArgs(plan: CellPlan): string[]
  /** The Node a cell's servers run on; undefined, the harness's own. */
  runtimeOf(plan: CellPlan): ServerRuntime | undefined
  group: ProcessGroup
  usersTemplate: string | null
  users: number
  smoke: boolean
  signal: AbortSignal
  emit: RunListener
}

/** A smoke run keeps the output's shape: a short warm-up and one small batch. */
const SMOKE_SETTINGS: InstructionSettings = { ...INSTRUCTION_DEFAULTS, warmupRequests: 200, batchRequests: 100 }
const SMOKE_BATCHES = 1

/**
 * After the rounds: each cell still running counted on a server of its own, two at a time (its
 * stores still up). A cell whose count fails, or a machine without valgrind, gets the reason; the run goes on.
 */
export async function countRun(opts: CountRunOptions): Promise<void> {
  const cells = opts.plans.filter((p) => opts.active.has(p.id))
  const unavailable = instrumentUnavailable()
  const settings = opts.smoke ? SMOKE_SETTINGS : INSTRUCTION_DEFAULTS
  const batches = opts.smoke ? SMOKE_BATCHES : INSTRUCTION_BATCHES
  if (cells.length && !unavailable)
    opts.emit({
      type: 'notice',
      message: `counting instructions per request under valgrind's callgrind: ${cells.length} cells, a server each`,
    })
  const count = async (plan: CellPlan) => {
    if (opts.signal.aborted) return
    if (unavailable) {
      opts.emit({ type: 'instructions-failed', cell: plan.id, reason: unavailable })
      return
    }
    const started = Date.now()
    try {
      const perBatch = await countCell(
        plan,
        {
          group: opts.group,
          storeArgs: opts.storeArgs(plan),
          usersTemplate: opts.usersTemplate,
          users: opts.users,
          poolSize: POOL_SIZE,
          runtime: opts.runtimeOf(plan),
        },
        settings,
        batches,
      )
      const sorted = [...perBatch].sort((a, b) => a - b)
      opts.emit({
        type: 'instructions-counted',
        cell: plan.id,
        count: {
          mean: perBatch.reduce((a, b) => a + b, 0) / perBatch.length,
          low: sorted[0]!,
          high: sorted.at(-1)!,
          perBatch,
          warmupRequests: settings.warmupRequests,
          batchRequests: settings.batchRequests,
          seconds: (Date.now() - started) / 1000,
        },
      })
    } catch (err) {
      opts.emit({ type: 'instructions-failed', cell: plan.id, reason: (err as Error).message.split('\n')[0]! })
    }
  }
  // A count does not depend on the host's speed, so cells are counted two at a time, one a core.
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(COUNTED_AT_ONCE, cells.length) }, async () => {
      while (next < cells.length) await count(cells[next++]!)
    }),
  )
}
