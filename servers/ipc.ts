import type { ChildProcess } from 'node:child_process'
import { ServerStartError } from '../common/errors.ts'
import type { ServerMetrics, StatsSnapshot } from './metrics.ts'

/**
 * The IPC protocol between a forked server and its parent, in one place for the server, the
 * harness and the tests. The server sends `{ port }` once it listens; the parent asks
 * `{ type: 'stats', id, reset }` and gets `{ type: 'stats', id, stats }` back.
 */
interface ReadyMessage {
  port: number
  metricsPort: number | null
}
interface StatsRequest {
  type: 'stats'
  id: number
  reset: boolean
}
interface StatsReply {
  type: 'stats'
  id: number
  stats: StatsSnapshot
}

const isStatsRequest = (m: unknown): m is StatsRequest =>
  typeof m === 'object' && m !== null && (m as StatsRequest).type === 'stats' && typeof (m as StatsRequest).id === 'number'

/** Server side: announce the port and answer stats requests (a no-op without an IPC channel). */
export function serveStats(port: number, metrics: ServerMetrics, metricsPort: number | null = null): void {
  if (!process.send) return
  process.on('message', (msg: unknown) => {
    if (isStatsRequest(msg)) process.send!({ type: 'stats', id: msg.id, stats: metrics.snapshot(msg.reset) } satisfies StatsReply)
  })
  process.send({ port, metricsPort } satisfies ReadyMessage)
}

/** Parent side: the `{ port }` a forked server announces when it is ready. */
export function readyPort(msg: unknown): number | null {
  const port = (msg as Partial<ReadyMessage> | null)?.port
  return typeof port === 'number' ? port : null
}

let nextId = 1

/** Parent side: one stats snapshot (counters, CPU, histogram), reset after reading when asked. */
export function requestStats(child: ChildProcess, reset: boolean, timeoutMs = 5000): Promise<StatsSnapshot> {
  return new Promise((resolve, reject) => {
    const id = nextId++
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as StatsReply).type === 'stats' && (m as StatsReply).id === id) {
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve((m as StatsReply).stats)
      }
    }
    const timer = setTimeout(() => {
      child.off('message', onMessage)
      reject(new ServerStartError(`server pid ${child.pid} did not answer a stats request within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.send({ type: 'stats', id, reset } satisfies StatsRequest)
  })
}
