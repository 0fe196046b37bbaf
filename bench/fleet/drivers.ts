// Load from several driver processes at once, each in a host of its own, each with its share of
// the connections and of the clients; their results merged exactly (autocannon's own aggregation
// of the raw histograms).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ServerStartError } from '../../common/errors.ts'
import type { Driver } from '../drive/closed.ts'
import type { LoadRequest } from '../contracts/client.ts'
import { mergeRaw, shareOf } from '../drive/closed.ts'
import type { DriveAsk, DriverAnswer, OpenAsk } from '../drive/driver-main.ts'
import { mergeOpenResults, type OpenDriver } from '../drive/open.ts'
import { pinned } from '../affinity.ts'
import { runnable } from '../../common/compiled.ts'
import { stopChild, type ProcessGroup } from '../processes.ts'

const DRIVER_MAIN = fileURLToPath(new URL('../drive/driver-main.ts', import.meta.url))

export interface DriverPool {
  drive: Driver
  /** One open-loop window, each process at its share of the rate, connections and clients. */
  open: OpenDriver
  stop(): Promise<void>
}

/** Connections split as evenly as they go: the first `connections % n` drivers take one more. */
export function splitConnections(connections: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(connections / n) + (i < connections % n ? 1 : 0))
}

async function startDriver(group: ProcessGroup, wrap: (argv: string[]) => string[], cpus: string | null): Promise<ChildProcess> {
  const [command, args] = pinned(cpus, process.execPath, runnable(DRIVER_MAIN))
  const argv = wrap([command, ...args])
  const child = group.track(spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ServerStartError('a load driver did not start within 30 s')), 30_000)
    child.once('message', () => {
      clearTimeout(timer)
      resolve()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new ServerStartError(`a load driver exited with ${code}`))
    })
  })
  return child
}

let nextId = 1

/** N driver processes (each wrapped into its host), kept for the whole run; `drive` splits each window over them. */
export async function startDrivers(group: ProcessGroup, wraps: ((argv: string[]) => string[])[], cpus: string | null): Promise<DriverPool> {
  const children = await Promise.all(wraps.map((w) => startDriver(group, w, cpus)))
  /** Asks every driver at once (`ask(k, id)` is driver k's message) and waits for every answer. */
  const askAll = (ask: (k: number, id: number) => DriveAsk | OpenAsk, signal: AbortSignal | undefined) => {
    const onAbort = () => {
      for (const c of children) c.send({ type: 'stop' })
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    return Promise.all(
      children.map(
        (child, k) =>
          new Promise<DriverAnswer>((resolve, reject) => {
            const id = nextId++
            const onMessage = (m: DriverAnswer) => {
              if (m.id !== id) return
              child.off('message', onMessage)
              child.off('exit', onExit)
              resolve(m)
            }
            const onExit = (code: number | null) => reject(new ServerStartError(`load driver ${k + 1} exited with ${code} in a window`))
            child.on('message', onMessage)
            child.once('exit', onExit)
            child.send(ask(k, id))
          }),
      ),
    ).finally(() => signal?.removeEventListener('abort', onAbort))
  }
  const open: OpenDriver = async ({ signal, ...opts }) => {
    const n = children.length
    const conns = splitConnections(Math.max(opts.connections, n), n)
    const answers = await askAll(
      (k, id) => ({
        type: 'open',
        id,
        opts: {
          ...opts,
          rate: opts.rate / n,
          connections: conns[k]!,
          requests: shareOf(opts.requests, k, n),
          seed: (opts.seed ?? 0) * n + k,
        },
      }),
      signal,
    )
    return mergeOpenResults(answers.map((a) => (a as Extract<DriverAnswer, { type: 'open-result' }>).result))
  }
  const drive: Driver = async (urls, requests, connections, durationSeconds, signal) => {
    const n = children.length
    const conns = splitConnections(Math.max(connections, n), n)
    const shares: LoadRequest[][] = children.map((_, k) => shareOf(requests, k, n))
    const answers = (await askAll(
      (k, id) => ({ type: 'drive', id, urls, requests: shares[k]!, connections: conns[k]!, durationSeconds }),
      signal,
    )) as Extract<DriverAnswer, { type: 'result' }>[]
    // Each driver's clients kept what the servers set: back into the pool, for the next window.
    answers.forEach((a, k) => {
      shares[k]!.forEach((r, i) => {
        const cookie = a.cookies[i]
        if (cookie === null || cookie === undefined) delete r.headers.cookie
        else r.headers.cookie = cookie
      })
    })
    return mergeRaw(
      answers.map((a) => a.raw as never),
      urls,
      connections,
    )
  }
  return {
    drive,
    open,
    stop: async () => {
      await Promise.all(children.map((c) => stopChild(c)))
    },
  }
}
