import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Histogram } from 'hdr-histogram-js'
import { newHistogram } from '../../servers/metrics.ts'
import { seededRandom } from '../stats.ts'
import type { LoadRequest } from './closed.ts'

/**
 * Open-loop load, as wrk2 does it: request i is due at a fixed time on a schedule (t0 + i/R, or
 * Poisson arrivals at mean rate R) whatever the server does, and its latency is measured from
 * that intended time, so a stalled server is charged for every request it made wait
 * (coordinated-omission correct, with no after-the-fact correction). Service time is measured
 * from the actual send, and the send lag between the two is reported. One scheduler sends
 * everything due, sleeping on a timer until about a millisecond before the next due time and
 * polling every event-loop turn after that; keep-alive connections are opened as needed, up to `connections`; when none is
 * free, a due request waits in line and still counts from its due time.
 */
export interface OpenLoopOptions {
  /** http://host:port of each instance (the path comes from each request); connection k goes to urls[k mod n]. */
  urls: string[]
  /** Rotated through, one per request. */
  requests: LoadRequest[]
  /** Requests per second. */
  rate: number
  durationSeconds: number
  /** Most connections open at once. */
  connections: number
  arrivals: 'constant' | 'poisson'
  /** Seed of the Poisson arrivals. */
  seed?: number
  /** A request unanswered this long is an error (its connection is closed). Default 10 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface OpenLoopResult {
  intendedRate: number
  achievedRate: number
  durationSeconds: number
  /** Requests due in the window. */
  requests: number
  /** Requests answered. */
  completed: number
  non2xx: number
  errors: number
  statusCounts: Record<string, number>
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number }
  serviceTimeUs: { p50: number; p90: number; p99: number; max: number }
  sendLagUs: { p50: number; p99: number; max: number }
  /** The driver's own event-loop delay during the run (perf_hooks), µs. */
  eventLoopDelayUs: { p50: number; p99: number; max: number }
  /** Most connections open at once. */
  connectionsUsed: number
  /** The rate was held: achieved at least 95% of intended and send lag p99 at most 10 ms. */
  held: boolean
  /** Why not, when it was not. */
  reason: string | null
  interrupted: boolean
}

export const HELD_SHARE = 0.95
/** How close to a request's due time the driver stops sleeping on a timer and polls every event-loop turn. */
export const SPIN_MS = 1.2
export const MAX_SEND_LAG_P99_US = 10_000

/** The bytes of one request, built once: HTTP/1.1, keep-alive. */
export function requestBuffer(url: URL, r: LoadRequest): Buffer {
  const body = r.body === undefined ? null : Buffer.from(r.body)
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive']
  for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`)
  if (body) lines.push(`content-length: ${body.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)
  return body ? Buffer.concat([head, body]) : head
}

interface Pending { i: number; intended: number }

interface ConnectionEvents {
  onReady(c: Connection): void
  onResponse(c: Connection, p: Pending & { sentAt: number }, status: number): void
  onError(c: Connection, err: Error): void
}

/** One keep-alive connection with at most one request in flight and a minimal response parser. */
class Connection {
  readonly socket: Socket
  inFlight: (Pending & { sentAt: number }) | null = null
  ready = false
  #buffer: Buffer = Buffer.alloc(0)
  #timer: NodeJS.Timeout | null = null
  readonly events: ConnectionEvents
  readonly timeoutMs: number

  constructor(url: URL, events: ConnectionEvents, timeoutMs: number) {
    this.events = events
    this.timeoutMs = timeoutMs
    this.socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true })
    this.socket.once('connect', () => { this.ready = true; events.onReady(this) })
    this.socket.on('data', (chunk) => this.#onData(chunk))
    this.socket.once('error', (err) => this.#fail(err))
    this.socket.once('close', () => this.#fail(new Error('connection closed by the server')))
  }

  send(p: Pending, bytes: Buffer, now: number): void {
    this.inFlight = { ...p, sentAt: now }
    this.#timer = setTimeout(() => this.#fail(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
    this.socket.write(bytes)
  }

  close(): void {
    this.ready = false
    if (this.#timer) clearTimeout(this.#timer)
    this.socket.destroy()
  }

  #fail(err: Error): void {
    if (this.#timer) clearTimeout(this.#timer)
    const wasAlive = !this.socket.destroyed || this.inFlight !== null || this.ready
    this.ready = false
    this.socket.destroy()
    if (wasAlive) this.events.onError(this, err)
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : (chunk as Buffer)
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = this.#buffer.subarray(0, end).toString('latin1')
      const status = Number(head.slice(9, 12))
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return this.#fail(new Error('chunked responses are not supported'))
      const total = end + 4 + length
      if (this.#buffer.length < total) return
      this.#buffer = this.#buffer.subarray(total)
      if (this.#timer) clearTimeout(this.#timer)
      const done = this.inFlight
      this.inFlight = null
      if (done) this.events.onResponse(this, done, status)
    }
  }
}

// Within the histogram's range (1 µs to 60 s): a longer wait is recorded as 60 s rather than thrown.
const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)))
const pct = (h: Histogram, p: number) => (h.totalCount ? h.getValueAtPercentile(p) : 0)

/** Runs the schedule to its end (or the abort signal), waits for the answers in flight, and reports. */
export function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const urls = opts.urls.map((u) => new URL(u))
  const buffers = opts.requests.map((r) => requestBuffer(urls[0]!, r))
  let opened = 0
  const total = Math.max(1, Math.round(opts.rate * opts.durationSeconds))
  const random = seededRandom(opts.seed ?? 1)
  const latency = newHistogram()
  const service = newHistogram()
  const lag = newHistogram()
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  const statusCounts: Record<string, number> = {}
  let completed = 0
  let errors = 0
  let non2xx = 0
  let due = 0
  let sent = 0
  let nextAt = 0
  let peak = 0
  const idle: Connection[] = []
  const all = new Set<Connection>()
  const waiting: Pending[] = []
  let opening = 0
  const timeoutMs = opts.timeoutMs ?? 10_000

  return new Promise((resolve) => {
    let finished = false
    let timer: NodeJS.Timeout | null = null
    const t0 = performance.now() + 5
    nextAt = t0

    const dispatch = (c: Connection, p: Pending) => {
      const now = performance.now()
      lag.recordValue(us(now - p.intended))
      sent++
      c.send(p, buffers[p.i % buffers.length]!, now)
    }
    const events = {
      onReady(c: Connection) {
        opening--
        const p = waiting.shift()
        if (p) dispatch(c, p)
        else idle.push(c)
      },
      onResponse(c: Connection, p: Pending & { sentAt: number }, status: number) {
        const now = performance.now()
        latency.recordValue(us(now - p.intended))
        service.recordValue(us(now - p.sentAt))
        completed++
        statusCounts[status] = (statusCounts[status] ?? 0) + 1
        if (status < 200 || status >= 300) non2xx++
        const next = waiting.shift()
        if (next) dispatch(c, next)
        else idle.push(c)
        maybeEnd()
      },
      onError(c: Connection, _err: Error) {
        if (!c.ready && c.inFlight === null && all.has(c) && !idle.includes(c)) opening = Math.max(0, opening - 1)
        all.delete(c)
        const i = idle.indexOf(c)
        if (i !== -1) idle.splice(i, 1)
        // The request in flight is lost; so are those waiting when no connection can be had.
        if (c.inFlight) { errors++; c.inFlight = null }
        if (all.size === 0 && opening === 0) { errors += waiting.length; waiting.length = 0 }
        maybeEnd()
      },
    }
    const open = () => {
      const c = new Connection(urls[opened++ % urls.length]!, events, timeoutMs)
      all.add(c)
      opening++
      peak = Math.max(peak, all.size)
    }
    const tick = () => {
      const now = performance.now()
      while (due < total && nextAt <= now && !opts.signal?.aborted) {
        const p = { i: due++, intended: nextAt }
        nextAt = opts.arrivals === 'poisson' ? nextAt - Math.log(1 - random()) * 1000 / opts.rate : t0 + (due * 1000) / opts.rate
        const c = idle.pop()
        if (c) { dispatch(c, p); continue }
        waiting.push(p)
        if (all.size < opts.connections) open()
      }
      if (due >= total || opts.signal?.aborted) {
        if (timer) clearTimeout(timer)
        timer = null
        maybeEnd()
        return
      }
      // Sleep on a timer while the next request is far off (timers fire about a millisecond
      // late); for the last stretch, come back every turn of the event loop, which still lets
      // every answer in.
      const wait = nextAt - performance.now()
      timer = wait > SPIN_MS ? setTimeout(tick, wait - SPIN_MS) : (setImmediate(tick) as unknown as NodeJS.Timeout)
    }
    let drainTimer: NodeJS.Timeout | null = null
    const maybeEnd = () => {
      if (finished || timer !== null) return
      const inFlight = [...all].some((c) => c.inFlight !== null)
      if (!inFlight && waiting.length === 0) return end()
      drainTimer ??= setTimeout(end, opts.signal?.aborted ? 1000 : timeoutMs)
    }
    const end = () => {
      if (finished) return
      finished = true
      opts.signal?.removeEventListener('abort', onAbort)
      if (drainTimer) clearTimeout(drainTimer)
      loopDelay.disable()
      for (const c of all) { if (c.inFlight) errors++; c.close() }
      errors += waiting.length
      const elapsedSeconds = Math.max(1e-3, (Math.min(performance.now(), nextAt) - t0) / 1000)
      const windowSeconds = opts.signal?.aborted ? elapsedSeconds : opts.durationSeconds
      const achievedRate = sent / windowSeconds
      const intendedRate = opts.rate
      const lagP99 = pct(lag, 99)
      const reasons: string[] = []
      if (achievedRate < HELD_SHARE * intendedRate) {
        reasons.push(`sent ${sent} of ${due} requests due (${Math.round(achievedRate)}/s of ${intendedRate}/s)${peak >= opts.connections ? `: all ${opts.connections} connections were busy (the server did not keep up, or raise --connections)` : ''}`)
      }
      if (lagP99 > MAX_SEND_LAG_P99_US) reasons.push(`send lag p99 ${lagP99} µs: the driver itself fell behind its schedule`)
      if (completed === 0) reasons.push('no request was answered')
      resolve({
        intendedRate, achievedRate, durationSeconds: windowSeconds, requests: due, completed, non2xx, errors, statusCounts,
        latencyUs: { p50: pct(latency, 50), p90: pct(latency, 90), p99: pct(latency, 99), p999: pct(latency, 99.9), max: latency.maxValue },
        serviceTimeUs: { p50: pct(service, 50), p90: pct(service, 90), p99: pct(service, 99), max: service.maxValue },
        sendLagUs: { p50: pct(lag, 50), p99: lagP99, max: lag.maxValue },
        eventLoopDelayUs: {
          p50: Math.round(loopDelay.percentile(50) / 1000), p99: Math.round(loopDelay.percentile(99) / 1000), max: Math.round(loopDelay.max / 1000),
        },
        connectionsUsed: peak,
        held: reasons.length === 0,
        reason: reasons.length ? reasons.join('; ') : null,
        interrupted: opts.signal?.aborted ?? false,
      })
    }
    const onAbort = () => tick()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    loopDelay.enable()
    // Connections for the first few milliseconds of the schedule, before it starts.
    for (let k = 0; k < Math.min(opts.connections, Math.max(1, Math.ceil(opts.rate / 1000))); k++) open()
    timer = setTimeout(tick, 0)
  })
}
