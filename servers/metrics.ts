import * as hdr from 'hdr-histogram-js'
import type { Counters } from './counters.ts'

/** What a parent process reads over IPC: cumulative counters plus the request-time histogram. */
export interface StatsSnapshot {
  requests: number
  reads: number
  writes: number
  deletes: number
  /** process.cpuUsage() user + system, microseconds since start. */
  cpuUs: number
  rssBytes: number
  /** Server-side request time (onRequest to onResponse) since the previous reset, µs. */
  requestTimeUs: { count: number; p50: number; p90: number; p99: number; max: number; mean: number }
  /** The same histogram, HdrHistogram compressed base64, so several instances can be merged exactly. */
  requestTimeHistogram: string
  /** Statements SQLite reported executing, by kind (only with --trace-sql); null otherwise. */
  sqlTrace: Counters | null
}

/**
 * The one histogram setting for request times: integer microseconds from 1 µs to 60 s, 3
 * significant digits. Server, harness and load drivers all build theirs here, so histograms merge.
 */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}

/** Per-process request counting and timing, one hook shared by every strategy alike. */
export class ServerMetrics {
  requests = 0
  readonly #histogram = newHistogram()
  readonly #counters: Counters

  readonly #sqlTrace: Counters | null

  constructor(counters: Counters, sqlTrace: Counters | null = null) {
    this.#counters = counters
    this.#sqlTrace = sqlTrace
  }

  /** Counted when a request starts, so a request cut off by its client still matches the store operations it did. */
  started(): void {
    this.requests++
  }

  record(elapsedMs: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(elapsedMs * 1000)))
  }

  snapshot(reset: boolean): StatsSnapshot {
    const h = this.#histogram
    const cpu = process.cpuUsage()
    const snap: StatsSnapshot = {
      requests: this.requests,
      reads: this.#counters.reads,
      writes: this.#counters.writes,
      deletes: this.#counters.deletes,
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
