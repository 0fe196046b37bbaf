import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js'
import { newHistogram } from '../../common/histogram.ts'
import { seededRandom } from '../stats.ts'
import { keepCookies } from '../cookie-jar.ts'
import type { LoadRequest } from '../contracts/client.ts'
import type { TimelinePoint } from '../contracts/results.ts'

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
  /** http://host:port of each instance (the path comes from each request); request i goes to urls[i mod n] (round robin, as a
   * balancer's), on an idle connection to it or a new one. */
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
  /** Also keep the requests due in each 100 ms of the schedule by what they got (`timeline`): a window with faults in it. Default false. */
  timeline?: boolean
  signal?: AbortSignal
}

/** The requests due in 100 ms of the schedule (`tMs` from its start), by what they got, and their latencies from the due time, µs. */
type OpenTimelinePoint = Omit<TimelinePoint, 'logins' | 'forcedLogins'> & { latencyUsMax: number }

/** The timeline's bucket, ms. */
const OPEN_BUCKET_MS = 100

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
  /** The run's histograms (HdrHistogram, compressed base64), so several drivers' runs merge exactly (`mergeOpenResults`). */
  histograms: { latency: string; service: string; lag: string; schedulerLag: string; connectionWait: string }
  /** With `timeline`: the schedule's 100 ms buckets, each request in the one it was due in. */
  timeline?: OpenTimelinePoint[]
}

const HELD_SHARE = 0.95
/** How close to a request's due time the driver stops sleeping on a timer and polls every event-loop turn. */
const SPIN_MS = 1.2
const MAX_SEND_LAG_P99_US = 10_000

/** The bytes of one request, built once: HTTP/1.1, keep-alive. */
function requestBuffer(url: URL, r: LoadRequest): Buffer {
  const body = r.body === undefined ? null : Buffer.from(r.body)
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive']
  for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`)
  if (body) lines.push(`content-length: ${body.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)
  return body ? Buffer.concat([head, body]) : head
}

/** A request due at `intended`, picked up by the scheduler at `picked` (its own lag), maybe already tried once. */
/** A due request; `target` is the instance it goes to (request i to instance i mod n: round robin). */
interface Pending {
  i: number
  target: number
  intended: number
  picked: number
  retried: boolean
}

/** What the driver reads of an answer. */
interface Answer {
  status: number
  setCookie: string[]
}

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

/** The header fields the driver acts on, in one pass over an answer's head (every answer goes through this). */
function readHead(text: string): { connection: string; contentLength: number | null; chunked: boolean; setCookie: string[] } {
  let connection = ''
  let contentLength: number | null = null
  let chunked = false
  const setCookie: string[] = []
  let at = text.indexOf('\r\n')
  while (at !== -1) {
    const next = text.indexOf('\r\n', at + 2)
    const line = text.slice(at + 2, next === -1 ? undefined : next)
    const colon = line.indexOf(':')
    if (colon > 0) {
      const name = line.slice(0, colon).toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'content-length') contentLength = Number(value)
      else if (name === 'set-cookie') setCookie.push(value)
      else if (name === 'connection') connection += `${value.toLowerCase()},`
      else if (name === 'transfer-encoding') chunked ||= /chunked/i.test(value)
    }
    at = next
  }
  return { connection, contentLength, chunked, setCookie }
}

/**
 * One keep-alive connection with at most one request in flight and a small HTTP/1.1 response
 * reader: bodies by length, chunked (`Transfer-Encoding: chunked`, trailers skipped) or delimited
 * by the close; `Connection: close` ends the connection after its answer.
 */
class Connection {
  readonly socket: Socket
  /** The instance (index into the run's urls) this connection reaches. */
  readonly target: number
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

  constructor(url: URL, target: number, events: ConnectionEvents, timeoutMs: number) {
    this.target = target
    this.events = events
    this.timeoutMs = timeoutMs
    this.socket = connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true })
    this.socket.once('connect', () => {
      this.ready = true
      events.onReady(this)
    })
    this.socket.on('data', (chunk) => this.#onData(chunk))
    this.socket.once('end', () => this.#onEnd())
    this.socket.once('error', (err) => this.#fail(`${(err as NodeJS.ErrnoException).code ?? 'socket error'}: ${err.message}`))
    this.socket.once('close', () =>
      this.#fail(
        this.received ? 'the server closed the connection in the middle of an answer' : 'the server closed the connection before answering',
      ),
    )
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
    if (this.#body?.mode === 'until-close' && this.#head) {
      this.#complete()
      return
    }
    if (this.inFlight === null) {
      this.#fail('closed by the server while idle')
      return
    }
    this.#fail(
      this.received ? 'the server closed the connection in the middle of an answer' : 'the server closed the connection before answering',
    )
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
        if (!/^HTTP\/1\.[01] \d{3}/.test(text)) {
          this.#fail(`not an HTTP/1.x answer: ${JSON.stringify(text.slice(0, 40))}`)
          return
        }
        if (status >= 100 && status < 200) continue
        const h = readHead(text)
        const close = h.connection.includes('close') || (text.startsWith('HTTP/1.0') && !h.connection.includes('keep-alive'))
        this.#head = { answer: { status, setCookie: h.setCookie }, close }
        this.#body =
          status === 204 || status === 304
            ? { mode: 'length', left: 0 }
            : h.chunked
              ? { mode: 'chunk-size' }
              : h.contentLength !== null
                ? { mode: 'length', left: h.contentLength }
                : { mode: 'until-close' }
      }
      const body = this.#body!
      if (body.mode === 'until-close') {
        this.#buffer = Buffer.alloc(0)
        return
      }
      if (body.mode === 'length' || body.mode === 'chunk-data') {
        const take = Math.min(body.left, this.#buffer.length)
        this.#buffer = this.#buffer.subarray(take)
        body.left -= take
        if (body.left > 0) return
        if (body.mode === 'length') {
          this.#complete()
          continue
        }
        this.#body = { mode: 'chunk-size' }
        continue
      }
      const eol = this.#buffer.indexOf('\r\n')
      if (eol === -1) return
      if (body.mode === 'chunk-size') {
        const size = parseInt(this.#buffer.subarray(0, eol).toString('latin1').split(';')[0]!.trim(), 16)
        if (!Number.isFinite(size)) {
          this.#fail('a chunked answer with a malformed chunk size')
          return
        }
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

const summaryOf = (h: Histogram) => ({ p50: pct(h, 50), p99: pct(h, 99), max: h.maxValue })

/**
 * One open-loop run: the schedule (a tick that sends whatever is due), the connections (opened up
 * to the most allowed, idle ones reused, a request waiting in line when none is free), what each
 * answer or failure does, and the verdict at the end.
 */
class OpenLoopRun implements ConnectionEvents {
  readonly opts: OpenLoopOptions
  readonly resolve: (r: OpenLoopResult) => void
  readonly urls: URL[]
  readonly buffers: Buffer[]
  readonly total: number
  readonly random: () => number
  readonly timeoutMs: number
  readonly latency = newHistogram()
  readonly service = newHistogram()
  readonly lag = newHistogram()
  readonly schedulerLag = newHistogram()
  readonly connectionWait = newHistogram()
  readonly loopDelay = monitorEventLoopDelay({ resolution: 1 })
  readonly statusCounts: Record<string, number> = {}
  readonly errorsBy: Record<string, number> = {}
  /** Idle connections per instance, the last freed reused first. */
  readonly idle: Connection[][]
  readonly all = new Set<Connection>()
  readonly waiting: Pending[] = []
  completed = 0
  errors = 0
  non2xx = 0
  due = 0
  sent = 0
  retried = 0
  waited = 0
  peak = 0
  opened = 0
  opening = 0
  finished = false
  timer: NodeJS.Timeout | null = null
  drainTimer: NodeJS.Timeout | null = null
  readonly t0 = performance.now() + 5
  nextAt = this.t0
  /** With `timeline`: per 100 ms of the schedule, each request's status (0: no answer) and latency from its due time, µs. */
  readonly buckets: { statuses: number[]; latencies: number[] }[] | null
  readonly onAbort = () => this.tick()

  constructor(opts: OpenLoopOptions, resolve: (r: OpenLoopResult) => void) {
    this.opts = opts
    this.resolve = resolve
    this.urls = opts.urls.map((u) => new URL(u))
    this.idle = this.urls.map(() => [])
    this.buffers = opts.requests.map((r) => requestBuffer(this.urls[0]!, r))
    this.total = Math.max(1, Math.round(opts.rate * opts.durationSeconds))
    this.random = seededRandom(opts.seed ?? 1)
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.buckets = opts.timeline
      ? Array.from({ length: Math.ceil((opts.durationSeconds * 1000) / OPEN_BUCKET_MS) }, () => ({ statuses: [], latencies: [] }))
      : null
  }

  /** Notes what the request due at `intended` got: a status, or 0 for no answer. */
  note(intended: number, status: number, latencyUs: number): void {
    if (!this.buckets) return
    const b = this.buckets[Math.min(this.buckets.length - 1, Math.max(0, Math.floor((intended - this.t0) / OPEN_BUCKET_MS)))]!
    b.statuses.push(status)
    if (status) b.latencies.push(latencyUs)
  }

  start(): void {
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true })
    this.loopDelay.enable()
    // Connections for the first few milliseconds of the schedule, before it starts.
    for (let k = 0; k < Math.min(this.opts.connections, Math.max(this.urls.length, Math.ceil(this.opts.rate / 1000))); k++)
      this.open(k % this.urls.length)
    this.timer = setTimeout(() => this.tick(), 0)
  }

  /** `lost`: the requests that failed, for the timeline. */
  fail(reason: string, lost: { intended: number }[]): void {
    this.errors += lost.length
    this.errorsBy[reason] = (this.errorsBy[reason] ?? 0) + lost.length
    for (const p of lost) this.note(p.intended, 0, 0)
  }

  open(target: number): void {
    this.opened++
    const c = new Connection(this.urls[target]!, target, this, this.timeoutMs)
    this.all.add(c)
    this.opening++
    this.peak = Math.max(this.peak, this.all.size)
  }

  dispatch(c: Connection, p: Pending): void {
    const now = performance.now()
    this.lag.recordValue(us(now - p.intended))
    this.connectionWait.recordValue(us(now - p.picked))
    this.sent++
    c.send(p, this.buffers[p.i % this.buffers.length]!, now)
  }

  /** A request waits in line for a connection to its instance; one more is opened to it while fewer than the most are open. */
  queue(p: Pending, front = false): void {
    if (front) this.waiting.unshift(p)
    else this.waiting.push(p)
    if (this.all.size < this.opts.connections) this.open(p.target)
  }

  /** A free connection takes the first request waiting for its instance, or goes idle. */
  next(c: Connection): void {
    const k = this.waiting.findIndex((p) => p.target === c.target)
    if (k !== -1) this.dispatch(c, this.waiting.splice(k, 1)[0]!)
    else this.idle[c.target]!.push(c)
  }

  forget(c: Connection): void {
    this.all.delete(c)
    const idle = this.idle[c.target]!
    const i = idle.indexOf(c)
    if (i !== -1) idle.splice(i, 1)
  }

  onReady(c: Connection): void {
    this.opening--
    this.next(c)
  }

  onResponse(c: Connection, p: Pending & { sentAt: number }, answer: Answer, reusable: boolean): void {
    const now = performance.now()
    this.latency.recordValue(us(now - p.intended))
    this.service.recordValue(us(now - p.sentAt))
    this.note(p.intended, answer.status, us(now - p.intended))
    this.completed++
    this.statusCounts[answer.status] = (this.statusCounts[answer.status] ?? 0) + 1
    if (answer.status < 200 || answer.status >= 300) this.non2xx++
    // The virtual client behind this request keeps what the server set, as a browser would.
    const r = this.opts.requests[p.i % this.opts.requests.length]!
    if (answer.setCookie.length && r.keepCookies !== false && keepCookies(r.headers, answer.setCookie))
      this.buffers[p.i % this.buffers.length] = requestBuffer(this.urls[0]!, r)
    if (reusable) this.next(c)
    else {
      this.forget(c)
      if (this.waiting.length && this.all.size < this.opts.connections) this.open(this.waiting[0]!.target)
    }
    this.maybeEnd()
  }

  onError(c: Connection, reason: string): void {
    if (!c.ready && c.inFlight === null && c.answered === 0 && this.all.has(c) && !this.idle[c.target]!.includes(c))
      this.opening = Math.max(0, this.opening - 1)
    this.forget(c)
    const p = c.inFlight
    c.inFlight = null
    if (p) {
      // A kept-alive connection the server closed just as the request went out: a real client
      // sends it again on a fresh connection, once; it still counts from its due time.
      const closedUnderIt = c.answered > 0 && c.received === 0 && !p.retried && /^(the server closed|ECONNRESET|EPIPE)/.test(reason)
      if (closedUnderIt) {
        this.retried++
        this.queue({ ...p, retried: true }, true)
      } else this.fail(reason, [p])
    }
    // Those waiting are lost when no connection can be had.
    if (this.all.size === 0 && this.opening === 0 && this.waiting.length) {
      this.fail(reason, this.waiting)
      this.waiting.length = 0
    }
    this.maybeEnd()
  }

  /** Sends everything due, then sleeps until the next due time (on a timer while it is far off, every event-loop turn for the last stretch). */
  tick(): void {
    const { opts } = this
    const now = performance.now()
    while (this.due < this.total && this.nextAt <= now && !opts.signal?.aborted) {
      this.schedulerLag.recordValue(us(now - this.nextAt))
      const i = this.due++
      const p = { i, target: i % this.urls.length, intended: this.nextAt, picked: now, retried: false }
      this.nextAt =
        opts.arrivals === 'poisson'
          ? this.nextAt - (Math.log(1 - this.random()) * 1000) / opts.rate
          : this.t0 + (this.due * 1000) / opts.rate
      const c = this.idle[p.target]!.pop()
      if (c) {
        this.dispatch(c, p)
        continue
      }
      this.waited++
      this.queue(p)
    }
    if (this.due >= this.total || opts.signal?.aborted) {
      if (this.timer) clearTimeout(this.timer)
      this.timer = null
      this.maybeEnd()
      return
    }
    // Timers fire about a millisecond late; every turn of the event loop still lets every answer in.
    const wait = this.nextAt - performance.now()
    this.timer =
      wait > SPIN_MS ? setTimeout(() => this.tick(), wait - SPIN_MS) : (setImmediate(() => this.tick()) as unknown as NodeJS.Timeout)
  }

  maybeEnd(): void {
    if (this.finished || this.timer !== null) return
    const inFlight = [...this.all].some((c) => c.inFlight !== null)
    if (!inFlight && this.waiting.length === 0) {
      this.end()
      return
    }
    this.drainTimer ??= setTimeout(() => this.end(), this.opts.signal?.aborted ? 1000 : this.timeoutMs)
  }

  end(): void {
    if (this.finished) return
    this.finished = true
    this.opts.signal?.removeEventListener('abort', this.onAbort)
    if (this.drainTimer) clearTimeout(this.drainTimer)
    this.loopDelay.disable()
    for (const c of this.all) {
      if (c.inFlight) this.fail('still unanswered when the run ended', [c.inFlight])
      c.close()
    }
    if (this.waiting.length) this.fail('never sent: no connection was free when the run ended', this.waiting)
    this.waiting.length = 0
    this.resolve(this.result())
  }

  /** The figures, and the verdict: held or not, why, and what the run went through that was not the driver's failing. */
  result(): OpenLoopResult {
    const { opts } = this
    const elapsedSeconds = Math.max(1e-3, (Math.min(performance.now(), this.nextAt) - this.t0) / 1000)
    const windowSeconds = opts.signal?.aborted ? elapsedSeconds : opts.durationSeconds
    const achievedRate = this.sent / windowSeconds
    const ownLagP99 = pct(this.schedulerLag, 99)
    const waitP99 = pct(this.connectionWait, 99)
    const reasons: string[] = []
    if (achievedRate < HELD_SHARE * opts.rate) {
      reasons.push(
        `sent ${this.sent} of ${this.due} requests due ` +
          `(${Math.round(achievedRate)}/s of ${opts.rate}/s)${
            this.peak >= opts.connections
              ? `: all ${opts.connections} connections were busy (the server ` + `did not keep up, or raise --connections)`
              : ''
          }`,
      )
    }
    if (ownLagP99 > MAX_SEND_LAG_P99_US) reasons.push(`scheduler lag p99 ${ownLagP99} µs: the driver itself fell behind its schedule`)
    if (this.completed === 0) reasons.push('no request was answered')
    const failures = Object.entries(this.errorsBy).sort((a, b) => b[1] - a[1])
    if (failures.length)
      reasons.push(`${this.errors} request${this.errors === 1 ? '' : 's'} failed: ${failures.map(([why, n]) => `${n} ${why}`).join('; ')}`)
    const notes: string[] = []
    if (waitP99 > 1000) {
      notes.push(
        `${this.waited} request${this.waited === 1 ? '' : 's'} waited for a free connection ` +
          `(p99 ${(waitP99 / 1000).toFixed(1)} ms${
            this.peak >= opts.connections ? `, all ${opts.connections} connections held ` + `by the server` : ', while one opened'
          }); latency counts that wait from the due time`,
      )
    }
    if (this.retried)
      notes.push(
        `${this.retried} request${this.retried === 1 ? '' : 's'} sent again on a fresh connection after the server closed an idle one`,
      )
    const ld = this.loopDelay
    return {
      intendedRate: opts.rate,
      achievedRate,
      durationSeconds: windowSeconds,
      requests: this.due,
      completed: this.completed,
      non2xx: this.non2xx,
      errors: this.errors,
      statusCounts: this.statusCounts,
      errorsBy: this.errorsBy,
      latencyUs: {
        p50: pct(this.latency, 50),
        p90: pct(this.latency, 90),
        p99: pct(this.latency, 99),
        p999: pct(this.latency, 99.9),
        max: this.latency.maxValue,
      },
      serviceTimeUs: { p50: pct(this.service, 50), p90: pct(this.service, 90), p99: pct(this.service, 99), max: this.service.maxValue },
      sendLagUs: summaryOf(this.lag),
      schedulerLagUs: summaryOf(this.schedulerLag),
      connectionWaitUs: summaryOf(this.connectionWait),
      eventLoopDelayUs: {
        p50: Math.round(ld.percentile(50) / 1000),
        p99: Math.round(ld.percentile(99) / 1000),
        max: Math.round(ld.max / 1000),
      },
      connectionsUsed: this.peak,
      retried: this.retried,
      held: achievedRate >= HELD_SHARE * opts.rate && ownLagP99 <= MAX_SEND_LAG_P99_US && this.completed > 0,
      reason: reasons.length ? reasons.join('; ') : null,
      note: notes.length ? notes.join('; ') : null,
      interrupted: opts.signal?.aborted ?? false,
      histograms: {
        latency: encodeIntoCompressedBase64(this.latency),
        service: encodeIntoCompressedBase64(this.service),
        lag: encodeIntoCompressedBase64(this.lag),
        schedulerLag: encodeIntoCompressedBase64(this.schedulerLag),
        connectionWait: encodeIntoCompressedBase64(this.connectionWait),
      },
      ...(this.buckets ? { timeline: this.buckets.map((b, i) => timelinePoint(i, b.statuses, b.latencies)) } : {}),
    }
  }
}

/** One bucket's counts by status (0: no answer) and its latencies' p50, p99 and max. */
function timelinePoint(i: number, statuses: number[], latencies: number[]): OpenTimelinePoint {
  const count = (match: (s: number) => boolean) => statuses.reduce((n, s) => n + (match(s) ? 1 : 0), 0)
  const sorted = latencies.sort((a, b) => a - b)
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0)
  return {
    tMs: i * OPEN_BUCKET_MS,
    requests: statuses.length,
    ok: count((s) => s >= 200 && s < 300),
    status401: count((s) => s === 401),
    status502: count((s) => s === 502),
    status503: count((s) => s === 503),
    status5xx: count((s) => s >= 500 && s !== 502 && s !== 503),
    errors: count((s) => s === 0),
    latencyUsP50: at(50),
    latencyUsP99: at(99),
    latencyUsMax: sorted.length ? sorted[sorted.length - 1]! : 0,
  }
}

/**
 * Several drivers' timelines as one, bucket by bucket (each driver's clock from its own start, a few ms apart): counts summed,
 * the max the highest, p50 and p99 the highest driver's (a bucket's latencies are not kept to merge exactly).
 */
function mergeTimelines(timelines: OpenTimelinePoint[][]): OpenTimelinePoint[] {
  const length = Math.max(...timelines.map((t) => t.length))
  return Array.from({ length }, (_, i) => {
    const bs = timelines.flatMap((t) => (t[i] ? [t[i]] : []))
    const sum = (k: 'requests' | 'ok' | 'status401' | 'status502' | 'status503' | 'status5xx' | 'errors') =>
      bs.reduce((n, b) => n + b[k], 0)
    const most = (k: 'latencyUsP50' | 'latencyUsP99' | 'latencyUsMax') => bs.reduce((m, b) => Math.max(m, b[k]), 0)
    return {
      tMs: i * OPEN_BUCKET_MS,
      requests: sum('requests'),
      ok: sum('ok'),
      status401: sum('status401'),
      status502: sum('status502'),
      status503: sum('status503'),
      status5xx: sum('status5xx'),
      errors: sum('errors'),
      latencyUsP50: most('latencyUsP50'),
      latencyUsP99: most('latencyUsP99'),
      latencyUsMax: most('latencyUsMax'),
    }
  })
}

/** An open-loop window: this process's own driver (`openLoop`), or several processes' merged. */
export type OpenDriver = (opts: OpenLoopOptions) => Promise<OpenLoopResult>

/** Runs the schedule to its end (or the abort signal), waits for the answers in flight, and reports. */
export function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  return new Promise((resolve) => new OpenLoopRun(opts, resolve).start())
}

/**
 * Several drivers' runs of one window, each at its share of the rate, as one: counts summed, every
 * histogram merged exactly (HDR add), held only where every driver held, each driver's reason
 * and note kept with its number.
 */
export function mergeOpenResults(runs: OpenLoopResult[]): OpenLoopResult {
  if (runs.length === 1) return runs[0]!
  const merged = (k: keyof OpenLoopResult['histograms']) => {
    const h = newHistogram()
    for (const r of runs) h.add(decodeFromCompressedBase64(r.histograms[k]))
    return h
  }
  const latency = merged('latency')
  const service = merged('service')
  const [lag, schedulerLag, connectionWait] = (['lag', 'schedulerLag', 'connectionWait'] as const).map(merged) as [
    Histogram,
    Histogram,
    Histogram,
  ]
  const sum = (pick: (r: OpenLoopResult) => number) => runs.reduce((n, r) => n + pick(r), 0)
  const add = (pick: (r: OpenLoopResult) => Record<string, number>) => {
    const out: Record<string, number> = {}
    for (const r of runs) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v
    return out
  }
  const said = (pick: (r: OpenLoopResult) => string | null) => {
    const parts = runs.flatMap((r, i) => (pick(r) ? [`driver ${i + 1}: ${pick(r)}`] : []))
    return parts.length ? parts.join('; ') : null
  }
  return {
    intendedRate: sum((r) => r.intendedRate),
    achievedRate: sum((r) => r.achievedRate),
    durationSeconds: Math.max(...runs.map((r) => r.durationSeconds)),
    requests: sum((r) => r.requests),
    completed: sum((r) => r.completed),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    errorsBy: add((r) => r.errorsBy),
    statusCounts: add((r) => r.statusCounts),
    latencyUs: { p50: pct(latency, 50), p90: pct(latency, 90), p99: pct(latency, 99), p999: pct(latency, 99.9), max: latency.maxValue },
    serviceTimeUs: { p50: pct(service, 50), p90: pct(service, 90), p99: pct(service, 99), max: service.maxValue },
    sendLagUs: summaryOf(lag),
    schedulerLagUs: summaryOf(schedulerLag),
    connectionWaitUs: summaryOf(connectionWait),
    eventLoopDelayUs: {
      p50: Math.max(...runs.map((r) => r.eventLoopDelayUs.p50)),
      p99: Math.max(...runs.map((r) => r.eventLoopDelayUs.p99)),
      max: Math.max(...runs.map((r) => r.eventLoopDelayUs.max)),
    },
    connectionsUsed: sum((r) => r.connectionsUsed),
    retried: sum((r) => r.retried),
    held: runs.every((r) => r.held),
    reason: said((r) => r.reason),
    note: said((r) => r.note),
    interrupted: runs.some((r) => r.interrupted),
    histograms: {
      latency: encodeIntoCompressedBase64(latency),
      service: encodeIntoCompressedBase64(service),
      lag: encodeIntoCompressedBase64(lag),
      schedulerLag: encodeIntoCompressedBase64(schedulerLag),
      connectionWait: encodeIntoCompressedBase64(connectionWait),
    },
    ...(runs.every((r) => r.timeline) ? { timeline: mergeTimelines(runs.map((r) => r.timeline!)) } : {}),
  }
}
