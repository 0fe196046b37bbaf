import type { ChildProcess } from 'node:child_process'
import { ServerStartError } from '../common/errors.ts'
import type { ServerMetrics, StatsSnapshot } from './metrics.ts'

/**
 * The IPC protocol between a forked server and its parent, in one place for the server, the
 * harness and the tests. The server sends `{ port }` once it listens; the parent asks
 * `{ type: 'stats', id, reset }` and gets `{ type: 'stats', id, stats }` back. A server started
 * with `--expose-gc` (only the instruction counter starts one so) also answers `{ type: 'gc', id }`
 * with `{ type: 'gc', id }` once a full collection has run.
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

interface GcMessage {
  type: 'gc'
  id: number
}

const isGcRequest = (m: unknown): m is GcMessage =>
  typeof m === 'object' && m !== null && (m as GcMessage).type === 'gc' && typeof (m as GcMessage).id === 'number'

/**
 * Server side: a full collection on the parent's word, so one does not land inside a counted batch.
 * A no-op unless the process runs with `--expose-gc` and an IPC channel.
 */
export function serveCollections(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!process.send || typeof gc !== 'function') return
  process.on('message', (msg: unknown) => {
    if (!isGcRequest(msg)) return
    gc()
    process.send!({ type: 'gc', id: msg.id } satisfies GcMessage)
  })
}

const isStatsRequest = (m: unknown): m is StatsRequest =>
  typeof m === 'object' && m !== null && (m as StatsRequest).type === 'stats' && typeof (m as StatsRequest).id === 'number'

/** Server side: announce the port and answer stats requests (a no-op without an IPC channel). */
export function serveStats(port: number, metrics: ServerMetrics, metricsPort: number | null = null): void {
  if (!process.send) return
  process.on('message', (msg: unknown) => {
    if (isStatsRequest(msg)) process.send!({ type: 'stats', id: msg.id, stats: metrics.snapshot(msg.reset) } satisfies StatsReply)
  })
  serveCollections()
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

/** Parent side: a full collection in a server started with `--expose-gc`, resolved once it has run. */
export function requestCollection(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const id = nextId++
    const onMessage = (m: unknown) => {
      if (isGcRequest(m) && m.id === id) {
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve()
      }
    }
    const timer = setTimeout(() => {
      child.off('message', onMessage)
      reject(new ServerStartError(`server pid ${child.pid} did not answer a collection request within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.send({ type: 'gc', id } satisfies GcMessage)
  })
}
