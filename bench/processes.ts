import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ServerStartError } from '../common/errors.ts'
import { readyPort, requestStats } from '../servers/ipc.ts'
import type { StatsSnapshot } from '../servers/metrics.ts'
import { pinned } from './affinity.ts'
import { runnable } from '../common/compiled.ts'

/** A process's CPU so far: the scheduler's own run time (/proc/PID/schedstat, ns), µs. Throws where the process is gone. */
export function runTimeUs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000
}

/** `signal` (SIGTERM by default; after SIGCONT, in case it was stopped), then SIGKILL after the grace period. */
export function stopChild(child: ChildProcess, graceMs = 2000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    // A stopped (SIGSTOP) process must be continued before it can act on SIGTERM.
    child.kill('SIGCONT')
    child.kill(signal)
  })
}

/**
 * Resolves once a child prints `marker` (on stdout or stderr); rejects, killing it, when it exits
 * first or `timeoutMs` passes, with what it printed. Its output is drained afterwards.
 */
export function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    const done = (err: Error | null) => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      if (err) {
        child.kill('SIGKILL')
        reject(err)
      } else {
        child.stdout?.resume()
        child.stderr?.resume()
        resolve()
      }
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(marker)) done(null)
    }
    const onExit = (code: number | null) => done(new Error(`${what} exited with code ${code}:\n${output}`))
    const timer = setTimeout(() => done(new Error(`${what} did not become ready within ${timeoutMs / 1000} s:\n${output}`)), timeoutMs)
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
  })
}

export const SERVER_MAIN = fileURLToPath(new URL('../servers/main.ts', import.meta.url))

/** Every child the harness starts, so each one is stopped on every exit path. */
export class ProcessGroup {
  readonly #children = new Set<ChildProcess>()
  readonly #dirs = new Set<string>()

  /** A fresh folder under the system temp folder, removed with `removeDir` or, on any exit path, by `killAllSync`. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    this.#dirs.add(dir)
    return dir
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    this.#dirs.delete(dir)
  }

  track(child: ChildProcess): ChildProcess {
    this.#children.add(child)
    child.once('exit', () => this.#children.delete(child))
    return child
  }

  get size(): number {
    return this.#children.size
  }

  /** Graceful: SIGTERM, then SIGKILL after the grace period. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((c) => stopChild(c)))
  }

  /** For `process.on('exit')`, where nothing asynchronous can run. */
  killAllSync(): void {
    for (const c of this.#children) {
      c.kill('SIGCONT')
      c.kill('SIGKILL')
    }
    // A folder an interrupted run still held (a cell's keys, HAProxy's config, the users' template).
    for (const dir of this.#dirs) {
      try {
        this.removeDir(dir)
      } catch (err) {
        // On the way out: say which folder stayed, and go on with the others.
        process.stderr.write(`authbench: could not remove ${dir}: ${(err as Error).message}\n`)
      }
    }
  }
}

/** The Node a server runs on, and the variables it needs there; absent, the harness's own. */
export interface ServerRuntime {
  binary: string
  env: Record<string, string>
}

export interface ServerHandle {
  child: ChildProcess
  port: number
  url: string
  /** Its Prometheus endpoint, when started with --metrics-port. */
  metricsUrl: string | null
  stats(reset: boolean): Promise<StatsSnapshot>
  stop(): Promise<void>
}

/**
 * Starts `servers/main.ts` with the given flags (on `cpus` when given, on `runtime`'s Node when given) with
 * an IPC channel, and waits for its `{ port }` message.
 */
export function startServer(
  group: ProcessGroup,
  args: string[],
  cpus: string | null = null,
  timeoutMs = 30_000,
  at?: { address: string; wrap(argv: string[]): string[] },
  runtime?: ServerRuntime,
): Promise<ServerHandle> {
  const node = runtime?.binary ?? process.execPath
  const [command, argv] = pinned(cpus, node, [...runnable(SERVER_MAIN), ...args, ...(at ? ['--host', at.address] : [])])
  const full = at ? at.wrap([command, ...argv]) : [command, ...argv]
  const host = at?.address ?? '127.0.0.1'
  const env = { ...process.env, ...runtime?.env }
  const child = group.track(spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env }))
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  child.stdout!.resume()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child)
      reject(new ServerStartError(`server (${args.join(' ')}) did not start within ${timeoutMs / 1000} s\n${stderr}`))
    }, timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new ServerStartError(`server (${args.join(' ')}) exited with ${signal ?? code}: ${stderr.trim()}`))
    })
    child.once('message', (msg: unknown) => {
      clearTimeout(timer)
      const port = readyPort(msg)
      if (port === null) {
        void stopChild(child)
        reject(new ServerStartError(`server (${args.join(' ')}) sent ${JSON.stringify(msg)} instead of its port`))
        return
      }
      const metricsPort = (msg as { metricsPort?: number | null }).metricsPort ?? null
      resolve({
        child,
        port,
        url: `http://${host}:${port}`,
        metricsUrl: metricsPort === null ? null : `http://${host}:${metricsPort}/metrics`,
        stats: (reset) => requestStats(child, reset),
        stop: () => stopChild(child),
      })
    })
  })
}
