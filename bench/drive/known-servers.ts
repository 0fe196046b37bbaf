import { spawn } from 'node:child_process'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { runTimeUs, stopChild, type ProcessGroup } from '../processes.ts'
import { pinned } from '../affinity.ts'
import { runnable } from '../../common/compiled.ts'

/**
 * Servers whose behaviour is known, to check a load driver against (an instrument ships with its
 * check): `delay` answers every request after a fixed delay (0: at once); `stall` blocks its whole event loop
 * for STALL ms every PERIOD ms, as a long GC pause or a blocking call would; `burn` spends CPU ms of its own CPU time every
 * PERIOD ms (a shared core stretches the burn, not what it spends: the known answer for a CPU reading). Each runs in a
 * process of its own, so a stall never stops the driver measuring it. `GET /__times` answers the
 * server's own time for every request since the last call (µs, arrival to the end of the answer).
 *
 *   node --import tsx bench/drive/known-servers.ts delay MS
 *   node --import tsx bench/drive/known-servers.ts stall PERIOD STALL
 *   node --import tsx bench/drive/known-servers.ts burn PERIOD CPU
 */
export type KnownBehaviour =
  | { kind: 'delay'; ms: number }
  | { kind: 'stall'; periodMs: number; stallMs: number }
  | { kind: 'burn'; periodMs: number; cpuMs: number }

/** The process's own CPU time so far, µs (user and system). */
const ownCpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

export interface KnownServer {
  url: string
  /** The server's CPU time so far (the scheduler's run time, /proc/PID/schedstat), µs; null where it cannot be read. */
  cpuUs(): number | null
  close(): Promise<void>
}

/** Each request's own time in the server (arrival to the end of the answer), µs: GET /__times answers them all. */
const times: number[] = []

function answer(res: ServerResponse, start: number): void {
  res.end('ok')
  times.push(Math.round((performance.now() - start) * 1000))
}

function serve(b: KnownBehaviour): Server {
  const known = (handle: (res: ServerResponse, start: number) => void) =>
    createServer((req, res) => {
      if (req.url === '/__times') return res.end(JSON.stringify(times.splice(0)))
      handle(res, performance.now())
    })
  // 0 ms: answered at once, in the same turn (a timer would add a millisecond).
  if (b.kind === 'delay') return known((res, start) => (b.ms === 0 ? answer(res, start) : setTimeout(() => answer(res, start), b.ms)))
  if (b.kind === 'burn')
    setInterval(() => {
      const until = ownCpuUs() + b.cpuMs * 1000
      while (ownCpuUs() < until) {
        /* spending CPU time */
      }
    }, b.periodMs)
  else
    setInterval(() => {
      const until = performance.now() + b.stallMs
      while (performance.now() < until) {
        /* blocked, as in a stall */
      }
    }, b.periodMs)
  return known(answer)
}

const SELF = fileURLToPath(import.meta.url)

function cpuOf(pid: number | undefined): number | null {
  try {
    return pid === undefined ? null : runTimeUs(pid)
  } catch {
    return null
  }
}

/** Starts a known-behaviour server in a child process on a free loopback port. */
export function startKnownServer(b: KnownBehaviour, at: { cpus?: string | null; group?: ProcessGroup } = {}): Promise<KnownServer> {
  const args =
    b.kind === 'delay'
      ? ['delay', String(b.ms)]
      : b.kind === 'stall'
        ? ['stall', String(b.periodMs), String(b.stallMs)]
        : ['burn', String(b.periodMs), String(b.cpuMs)]
  const [command, argv] = pinned(at.cpus ?? null, process.execPath, [...runnable(SELF), ...args])
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  at.group?.track(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`known server exited with ${code}`)))
    child.stdout!.on('data', (d) => {
      const url = /listening on (\S+)/.exec(String(d))?.[1]
      if (url) resolve({ url, cpuUs: () => cpuOf(child.pid), close: () => stopChild(child) })
    })
  })
}

if (process.argv[1] === SELF) {
  const [kind, a, b] = process.argv.slice(2)
  const server = serve(
    kind === 'delay'
      ? { kind: 'delay', ms: Number(a) }
      : kind === 'burn'
        ? { kind: 'burn', periodMs: Number(a), cpuMs: Number(b) }
        : { kind: 'stall', periodMs: Number(a), stallMs: Number(b) },
  )
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`))
  process.on('SIGTERM', () => process.exit(0))
}
