import * as hdr from 'hdr-histogram-js'
import { newHistogram } from '../common/histogram.ts'
import type { Counters, OpCounts } from './counters.ts'

/** What a parent process reads over IPC: cumulative counters plus the request-time histogram. */
export interface StatsSnapshot {
  requests: number
  /**
   * Requests counted in `requests` whose answer is not decided yet (their handler may still do
   * store operations); 0 when every counted request's operations are in the counters.
   */
  inFlight: number
  /**
   * Requests answered 5xx (503: the store did not answer in time or refused; 500: a bug), counted
   * where the answer is decided, so those whose client had already gone are here too.
   */
  failed: number
  /** Answers that carried a Set-Cookie header (a session issued, renewed or cleared); null where not read (a scrape). */
  setCookies: number | null
  reads: number
  writes: number
  deletes: number
  /** Times the server's timer has purged expired state from its store since start. */
  purges: number
  /** process.cpuUsage() user + system, microseconds since start. */
  cpuUs: number
  rssBytes: number
  /** Server-side request time (onRequest to onResponse) since the previous reset, µs. */
  requestTimeUs: { count: number; p50: number; p90: number; p99: number; max: number; mean: number }
  /** The same histogram, HdrHistogram compressed base64, so several instances can be merged exactly. */
  requestTimeHistogram: string
  /** Statements SQLite reported executing, by kind (only with --trace-sql); null otherwise. */
  sqlTrace: OpCounts | null
}

/** Per-process request counting and timing, one hook shared by every strategy alike. */
export class ServerMetrics {
  requests = 0
  /** Requests started and not yet settled: what a window waits for before it reads its edges. */
  inFlight = 0
  /** Requests answered 5xx; counted in the error handler, off the path of a request that succeeds. */
  failed = 0
  /** Answers that carried a Set-Cookie header, counted where each request is timed. */
  setCookies = 0
  /** Purges of expired state started by the server's timer. */
  purges = 0
  readonly #histogram = newHistogram()
  readonly #counters: Counters

  readonly #sqlTrace: OpCounts | null

  /**
   * Cumulative, never reset: what `/metrics` exports (the snapshot's histogram is reset per window).
   * Null unless the server exports metrics: a server without `--metrics-port` counts nothing more
   * on the request's path than the harness reads over IPC.
   */
  readonly exported: ExportedCounts | null

  constructor(counters: Counters, sqlTrace: OpCounts | null = null, exported = false) {
    this.#counters = counters
    this.#sqlTrace = sqlTrace
    this.exported = exported ? new ExportedCounts() : null
  }

  /** Counted when a request starts, so a request cut off by its client still matches the store operations it did. */
  started(): void {
    this.requests++
    this.inFlight++
  }

  /** A started request's answer is decided: its handler has done every store operation it will do. Once per request. */
  settled(): void {
    this.inFlight--
  }

  /** One answered request's server time. */
  record(elapsedMs: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(elapsedMs * 1000)))
  }

  /** One answered request, on a server that exports metrics: its time, and its route and status for the Prometheus counters. */
  recordExported(elapsedMs: number, route: string | undefined, status: number): void {
    const us = Math.max(1, Math.round(elapsedMs * 1000))
    this.#histogram.recordValue(us)
    this.exported!.record(us, route, status)
  }

  get counters(): Counters {
    return this.#counters
  }

  snapshot(reset: boolean): StatsSnapshot {
    const h = this.#histogram
    const cpu = process.cpuUsage()
    const snap: StatsSnapshot = {
      requests: this.requests,
      inFlight: this.inFlight,
      failed: this.failed,
      setCookies: this.setCookies,
      reads: this.#counters.reads,
      writes: this.#counters.writes,
      deletes: this.#counters.deletes,
      purges: this.purges,
      cpuUs: cpu.user + cpu.system,
      rssBytes: process.memoryUsage.rss(),
      requestTimeUs: {
        count: h.totalCount,
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        max: h.maxValue,
        mean: h.totalCount === 0 ? 0 : h.mean,
      },
      requestTimeHistogram: hdr.encodeIntoCompressedBase64(h),
      sqlTrace: this.#sqlTrace ? { ...this.#sqlTrace } : null,
    }
    if (reset) h.reset()
    return snap
  }
}

/** Upper bounds of the exported request-time histogram, µs (Prometheus exports them in seconds). */
export const DURATION_BUCKETS_US = [
  50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
] as const

/**
 * Requests by route and status and the request-time buckets, counted as plain increments on the
 * request's path and turned into Prometheus text only when scraped.
 */
export class ExportedCounts {
  /** route → status → answered requests. */
  readonly requests = new Map<string, Map<number, number>>()
  /** Non-cumulative: bucket i counts times in (bound i-1, bound i]; the last slot counts those above every bound. */
  readonly buckets = new Array<number>(DURATION_BUCKETS_US.length + 1).fill(0)
  sumUs = 0

  record(us: number, route: string | undefined, status: number): void {
    const key = route ?? 'unmatched'
    let byStatus = this.requests.get(key)
    if (byStatus === undefined) {
      byStatus = new Map()
      this.requests.set(key, byStatus)
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
    let i = 0
    while (i < DURATION_BUCKETS_US.length && us > DURATION_BUCKETS_US[i]!) i++
    this.buckets[i]!++
    this.sumUs += us
  }
}
