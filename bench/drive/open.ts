import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Histogram } from 'hdr-histogram-js'
import { newHistogram } from '../../servers/metrics.ts'
import { seededRandom } from '../stats.ts'
import { keepCookies } from './cookie-jar.ts'
import type { LoadRequest } from '../contracts/client.ts'

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
  /** Requests that got no answer, each for a reason counted in `errorsBy`. */
  errors: number
  errorsBy: Record<string, number>
  statusCounts: Record<string, number>
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number }
  serviceTimeUs: { p50: number; p90: number; p99: number; max: number }
  /** From the due time to the actual send: the scheduler's own lag plus any wait for a free connection. */
  sendLagUs: { p50: number; p99: number; max: number }
  /** From the due time to the moment the scheduler picked the request up: the driver's own lag. */
  schedulerLagUs: { p50: number; p99: number; max: number }
  /** From pick-up to send: waiting for a free connection (the server held every one, or one was opening). */
  connectionWaitUs: { p50: number; p99: number; max: number }
  /** The driver's own event-loop delay during the run (perf_hooks), µs. */
  eventLoopDelayUs: { p50: number; p99: number; max: number }
  /** Most connections open at once. */
  connectionsUsed: number
  /** Requests sent again, once, after the server closed the kept-alive connection they went out on. */
  retried: number
  /** The rate was held: achieved at least 95% of intended, scheduler lag p99 at most 10 ms, something answered. */
  held: boolean
  /** Why not, when it was not; and why requests failed, when some did. */
  reason: string | null
  /** What the run went through that is not the driver's failing: waits for a connection the server held, retries. */
  note: string | null
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

/** A request due at `intended`, picked up by the scheduler at `picked` (its own lag), maybe already tried once. */
interface Pending { i: number; intended: number; picked: number; retried: boolean }

/** What the driver reads of an answer. */
export interface Answer { status: number; setCookie: string[] }

interface ConnectionEvents {
  onReady(c: Connection): void
  /** `reusable` is false when the server closes the connection after this answer (`Connection: close`, a body delimited by the close). */
  onResponse(c: Connection, p: Pending & { sentAt: number }, answer: Answer, reusable: boolean): void
  onError(c: Connection, reason: string): void
}

type Body =
  | { mode: 'length'; left: number }
  | { mode: 'chunk-size' }
  | { mode: 'chunk-data'; left: number }
  | { mode: 'trailers' }
  | { mode: 'until-close' }

/**
 * One keep-alive connection with at most one request in flight and a small HTTP/1.1 response
 * reader: bodies by length, chunked (`Transfer-Encoding: chunked`, trailers skipped) or delimited
 * by the close; `Connection: close` ends the connection after its answer.
 */
class Connection {
  readonly socket: Socket
  inFlight: (Pending & { sentAt: number }) | null = null
  ready = false
  /** Answers read on this connection: a request sent on a reused one may meet the server's idle close. */
  answered = 0
  /** Bytes of the answer in flight read so far. */
  received = 0
  #buffer: Buffer = Buffer.alloc(0)
  #timer: NodeJS.Timeout | null = null
  #head: { answer: Answer; close: boolean } | null = null
  #body: Body | null = null
  #done = false
  readonly events: ConnectionEvents
  readonly timeoutMs: number

  constructor(url: URL, events: ConnectionEvents, timeoutMs: number) {
    this.events = events
    this.timeoutMs = timeoutMs
    this.socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true })
    this.socket.once('connect', () => { this.ready = true; events.onReady(this) })
    this.socket.on('data', (chunk) => this.#onData(chunk))
    this.socket.once('end', () => this.#onEnd())
    this.socket.once('error', (err) => this.#fail(`${(err as NodeJS.ErrnoException).code ?? 'socket error'}: ${err.message}`))
    this.socket.once('close', () => this.#fail(this.received ? 'the server closed the connection in the middle of an answer' : 'the server closed the connection before answering'))
  }

  send(p: Pending, bytes: Buffer, now: number): void {
    this.inFlight = { ...p, sentAt: now }
    this.received = 0
    this.#timer = setTimeout(() => this.#fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs)
    this.socket.write(bytes)
  }

  close(): void {
    this.#done = true
    this.ready = false
    if (this.#timer) clearTimeout(this.#timer)
    this.socket.destroy()
  }

  #fail(reason: string): void {
    if (this.#done) return
    this.#done = true
    if (this.#timer) clearTimeout(this.#timer)
    this.ready = false
    this.socket.destroy()
    this.events.onError(this, reason)
  }

  #onEnd(): void {
    // A body delimited by the close ends here; anything else in flight is lost.
    if (this.#body?.mode === 'until-close' && this.#head) return this.#complete()
    if (this.inFlight === null) return this.#fail('closed by the server while idle')
    this.#fail(this.received ? 'the server closed the connection in the middle of an answer' : 'the server closed the connection before answering')
  }

  #complete(): void {
    const head = this.#head!
    const reusable = !head.close && this.#body?.mode !== 'until-close'
    this.#head = null
    this.#body = null
    if (this.#timer) clearTimeout(this.#timer)
    const done = this.inFlight
    this.inFlight = null
    this.answered++
    if (!reusable) this.close()
    if (done) this.events.onResponse(this, done, head.answer, reusable)
  }

  #onData(chunk: Buffer): void {
    this.received += chunk.length
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : (chunk as Buffer)
    while (!this.#done) {
      if (this.#head === null) {
        const end = this.#buffer.indexOf('\r\n\r\n')
        if (end === -1) return
        const text = this.#buffer.subarray(0, end).toString('latin1')
        this.#buffer = this.#buffer.subarray(end + 4)
        const status = Number(text.slice(9, 12))
        if (!/^HTTP\/1\.[01] \d{3}/.test(text)) return this.#fail(`not an HTTP/1.x answer: ${JSON.stringify(text.slice(0, 40))}`)
        if (status >= 100 && status < 200) continue
        const lines = text.split('\r\n')
        const header = (name: string) => lines.filter((l) => l.slice(0, name.length + 1).toLowerCase() === `${name}:`).map((l) => l.slice(name.length + 1).trim())
        const connection = header('connection').join(',').toLowerCase()
        const close = connection.includes('close') || (text.startsWith('HTTP/1.0') && !connection.includes('keep-alive'))
        this.#head = { answer: { status, setCookie: header('set-cookie') }, close }
        const length = header('content-length')[0]
        this.#body = status === 204 || status === 304 ? { mode: 'length', left: 0 }
          : /chunked/i.test(header('transfer-encoding').join(',')) ? { mode: 'chunk-size' }
            : length !== undefined ? { mode: 'length', left: Number(length) }
              : { mode: 'until-close' }
      }
      const body = this.#body!
      if (body.mode === 'until-close') { this.#buffer = Buffer.alloc(0); return }
      if (body.mode === 'length' || body.mode === 'chunk-data') {
        const take = Math.min(body.left, this.#buffer.length)
        this.#buffer = this.#buffer.subarray(take)
        body.left -= take
        if (body.left > 0) return
        if (body.mode === 'length') { this.#complete(); continue }
        this.#body = { mode: 'chunk-size' }
        continue
      }
      const eol = this.#buffer.indexOf('\r\n')
      if (eol === -1) return
      if (body.mode === 'chunk-size') {
        const size = parseInt(this.#buffer.subarray(0, eol).toString('latin1').split(';')[0]!.trim(), 16)
        if (!Number.isFinite(size)) return this.#fail('a chunked answer with a malformed chunk size')
        this.#buffer = this.#buffer.subarray(eol + 2)
        // The chunk and the line end after it.
        this.#body = size === 0 ? { mode: 'trailers' } : { mode: 'chunk-data', left: size + 2 }
        continue
      }
      // Trailers: lines up to an empty one.
      this.#buffer = this.#buffer.subarray(eol + 2)
      if (eol === 0) this.#complete()
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
  const schedulerLag = newHistogram()
  const connectionWait = newHistogram()
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  const statusCounts: Record<string, number> = {}
  const errorsBy: Record<string, number> = {}
  let completed = 0
  let errors = 0
  let non2xx = 0
  let due = 0
  let sent = 0
  let retried = 0
  let waited = 0
  let nextAt = 0
  let peak = 0
  const idle: Connection[] = []
  const all = new Set<Connection>()
  const waiting: Pending[] = []
  let opening = 0
  const timeoutMs = opts.timeoutMs ?? 10_000
  const fail = (reason: string, n = 1) => {
    errors += n
    errorsBy[reason] = (errorsBy[reason] ?? 0) + n
  }

  return new Promise((resolve) => {
    let finished = false
    let timer: NodeJS.Timeout | null = null
    const t0 = performance.now() + 5
    nextAt = t0

    const dispatch = (c: Connection, p: Pending) => {
      const now = performance.now()
      lag.recordValue(us(now - p.intended))
      connectionWait.recordValue(us(now - p.picked))
      sent++
      c.send(p, buffers[p.i % buffers.length]!, now)
    }
    // A request waits in line for a connection; one more is opened while fewer than the most are.
    const queue = (p: Pending, front = false) => {
      if (front) waiting.unshift(p)
      else waiting.push(p)
      if (all.size < opts.connections) open()
    }
    const next = (c: Connection) => {
      const p = waiting.shift()
      if (p) dispatch(c, p)
      else idle.push(c)
    }
    const forget = (c: Connection) => {
      all.delete(c)
      const i = idle.indexOf(c)
      if (i !== -1) idle.splice(i, 1)
    }
    const events: ConnectionEvents = {
      onReady(c) {
        opening--
        next(c)
      },
      onResponse(c, p, answer, reusable) {
        const now = performance.now()
        latency.recordValue(us(now - p.intended))
        service.recordValue(us(now - p.sentAt))
        completed++
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1
        if (answer.status < 200 || answer.status >= 300) non2xx++
        // The virtual client behind this request keeps what the server set, as a browser would.
        const r = opts.requests[p.i % opts.requests.length]!
        if (answer.setCookie.length && keepCookies(r.headers, answer.setCookie)) buffers[p.i % buffers.length] = requestBuffer(urls[0]!, r)
        if (reusable) next(c)
        else {
          forget(c)
          if (waiting.length && all.size < opts.connections) open()
        }
        maybeEnd()
      },
      onError(c, reason) {
        if (!c.ready && c.inFlight === null && c.answered === 0 && all.has(c) && !idle.includes(c)) opening = Math.max(0, opening - 1)
        forget(c)
        const p = c.inFlight
        c.inFlight = null
        if (p) {
          // A kept-alive connection the server closed just as the request went out: a real client
          // sends it again on a fresh connection, once; it still counts from its due time.
          const closedUnderIt = c.answered > 0 && c.received === 0 && !p.retried && /^(the server closed|ECONNRESET|EPIPE)/.test(reason)
          if (closedUnderIt) {
            retried++
            queue({ ...p, retried: true }, true)
          } else fail(reason)
        }
        // Those waiting are lost when no connection can be had.
        if (all.size === 0 && opening === 0 && waiting.length) { fail(reason, waiting.length); waiting.length = 0 }
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
        schedulerLag.recordValue(us(now - nextAt))
        const p = { i: due++, intended: nextAt, picked: now, retried: false }
        nextAt = opts.arrivals === 'poisson' ? nextAt - Math.log(1 - random()) * 1000 / opts.rate : t0 + (due * 1000) / opts.rate
        const c = idle.pop()
        if (c) { dispatch(c, p); continue }
        waited++
        queue(p)
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
      for (const c of all) { if (c.inFlight) fail('still unanswered when the run ended'); c.close() }
      if (waiting.length) fail('never sent: no connection was free when the run ended', waiting.length)
      waiting.length = 0
      const elapsedSeconds = Math.max(1e-3, (Math.min(performance.now(), nextAt) - t0) / 1000)
      const windowSeconds = opts.signal?.aborted ? elapsedSeconds : opts.durationSeconds
      const achievedRate = sent / windowSeconds
      const intendedRate = opts.rate
      const ownLagP99 = pct(schedulerLag, 99)
      const waitP99 = pct(connectionWait, 99)
      const reasons: string[] = []
      if (achievedRate < HELD_SHARE * intendedRate) {
        reasons.push(`sent ${sent} of ${due} requests due (${Math.round(achievedRate)}/s of ${intendedRate}/s)${peak >= opts.connections ? `: all ${opts.connections} connections were busy (the server did not keep up, or raise --connections)` : ''}`)
      }
      if (ownLagP99 > MAX_SEND_LAG_P99_US) reasons.push(`scheduler lag p99 ${ownLagP99} µs: the driver itself fell behind its schedule`)
      if (completed === 0) reasons.push('no request was answered')
      const failures = Object.entries(errorsBy).sort((a, b) => b[1] - a[1])
      if (failures.length) reasons.push(`${errors} request${errors === 1 ? '' : 's'} failed: ${failures.map(([why, n]) => `${n} ${why}`).join('; ')}`)
      const notes: string[] = []
      if (waitP99 > 1000) {
        notes.push(`${waited} request${waited === 1 ? '' : 's'} waited for a free connection (p99 ${(waitP99 / 1000).toFixed(1)} ms${peak >= opts.connections ? `, all ${opts.connections} connections held by the server` : ', while one opened'}); latency counts that wait from the due time`)
      }
      if (retried) notes.push(`${retried} request${retried === 1 ? '' : 's'} sent again on a fresh connection after the server closed an idle one`)
      resolve({
        intendedRate, achievedRate, durationSeconds: windowSeconds, requests: due, completed, non2xx, errors, statusCounts, errorsBy,
        latencyUs: { p50: pct(latency, 50), p90: pct(latency, 90), p99: pct(latency, 99), p999: pct(latency, 99.9), max: latency.maxValue },
        serviceTimeUs: { p50: pct(service, 50), p90: pct(service, 90), p99: pct(service, 99), max: service.maxValue },
        sendLagUs: { p50: pct(lag, 50), p99: pct(lag, 99), max: lag.maxValue },
        schedulerLagUs: { p50: pct(schedulerLag, 50), p99: ownLagP99, max: schedulerLag.maxValue },
        connectionWaitUs: { p50: pct(connectionWait, 50), p99: waitP99, max: connectionWait.maxValue },
        eventLoopDelayUs: {
          p50: Math.round(loopDelay.percentile(50) / 1000), p99: Math.round(loopDelay.percentile(99) / 1000), max: Math.round(loopDelay.max / 1000),
        },
        connectionsUsed: peak,
        retried,
        held: achievedRate >= HELD_SHARE * intendedRate && ownLagP99 <= MAX_SEND_LAG_P99_US && completed > 0,
        reason: reasons.length ? reasons.join('; ') : null,
        note: notes.length ? notes.join('; ') : null,
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
