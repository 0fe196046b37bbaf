// A server the harness did not start, read through its Prometheus endpoint: the same snapshot a
// forked server answers over IPC, from the counters it exports.
import * as hdr from 'hdr-histogram-js'
import { TargetError } from '../contracts/errors.ts'
import { newHistogram } from '../../common/histogram.ts'
import { DURATION_BUCKETS_US, type StatsSnapshot } from '../../servers/metrics.ts'
import { families, parsePrometheusText, total, type Sample } from './prometheus-text.ts'

/** The metric families the harness reads from `/metrics`; a target lacking one is named before any load. */
const REQUIRED_METRICS = [
  'authbench_info',
  'authbench_requests_total',
  'authbench_store_operations_total',
  'authbench_request_duration_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
] as const

export interface RemoteInstance {
  url: string
  metricsUrl: string
  /** `authbench_info`'s labels: what this server runs; and `runtime`, its Node major (`node22`), from `nodejs_version_info`. */
  info: Record<string, string>
  stats(reset: boolean): Promise<StatsSnapshot>
}

/** One scrape, within `timeoutMs`; a target that does not answer throws TargetError naming it. */
async function scrape(metricsUrl: string, timeoutMs = 5000): Promise<Sample[]> {
  return parsePrometheusText(await scrapeText(metricsUrl, timeoutMs))
}

async function scrapeText(metricsUrl: string, timeoutMs = 5000): Promise<string> {
  let res: Response
  try {
    res = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name
    throw new TargetError(`${metricsUrl} did not answer (${cause})`)
  }
  const text = await res.text()
  if (res.status !== 200) throw new TargetError(`${metricsUrl} answered ${res.status}`)
  return text
}

/** Cumulative request-time bucket counts, not cumulative across buckets: slot i holds (bound i-1, bound i]. */
function bucketCounts(samples: Sample[]): number[] {
  const le = new Map<string, number>()
  for (const s of samples) if (s.name === 'authbench_request_duration_seconds_bucket') le.set(s.labels.le!, s.value)
  const bounds = [...DURATION_BUCKETS_US.map((us) => String(us / 1e6)), '+Inf']
  let previous = 0
  return bounds.map((b) => {
    const cumulative = le.get(b) ?? previous
    const n = cumulative - previous
    previous = cumulative
    return n
  })
}

/**
 * The snapshot a scrape gives. Counters are cumulative, as over IPC; the request-time histogram is
 * the buckets' growth since the last reset, each request counted at its bucket's upper bound (the
 * exported buckets are coarser than the IPC histogram: 15 bounds from 50 µs to 2.5 s).
 */
export function snapshotOf(samples: Sample[], since: number[]): { snapshot: StatsSnapshot; buckets: number[] } {
  const buckets = bucketCounts(samples)
  const h = newHistogram()
  buckets.forEach((n, i) => {
    const grew = n - (since[i] ?? 0)
    const at = DURATION_BUCKETS_US[Math.min(i, DURATION_BUCKETS_US.length - 1)]!
    if (grew > 0) h.recordValueWithCount(at, grew)
  })
  const op = (o: string) => total(samples, 'authbench_store_operations_total', { op: o })
  return {
    buckets,
    snapshot: {
      requests: total(samples, 'authbench_requests_total'),
      // Both 0 from a server that does not export them: its windows wait only for the counters to stop.
      inFlight: total(samples, 'authbench_requests_in_flight'),
      failed: total(samples, 'authbench_requests_failed_total'),
      // Not among the exported metrics: what a scrape cannot tell.
      setCookies: null,
      reads: op('read'),
      writes: op('write'),
      deletes: op('delete'),
      // Not exported: only the instruction counter reads it, and it counts no remote server.
      purges: 0,
      cpuUs: Math.round(total(samples, 'process_cpu_seconds_total') * 1e6),
      rssBytes: total(samples, 'process_resident_memory_bytes'),
      requestTimeUs: {
        count: h.totalCount,
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        max: h.maxValue,
        mean: h.totalCount === 0 ? 0 : h.mean,
      },
      requestTimeHistogram: hdr.encodeIntoCompressedBase64(h),
      sqlTrace: null,
    },
  }
}

/**
 * Checks that a target answers with every metric the harness reads, and returns its handle. `probe`
 * (default true) also asks its URL for `/me`; `npm run observe` sends no request of its own.
 */
export async function remoteInstance(url: string, metricsUrl: string, probe = true): Promise<RemoteInstance> {
  const text = await scrapeText(metricsUrl)
  const declared = families(text)
  const samples = parsePrometheusText(text)
  const missing = REQUIRED_METRICS.filter((m) => !declared.has(m))
  if (missing.length)
    throw new TargetError(`${metricsUrl} lacks ${missing.join(', ')} (is it an authbench server started with --metrics-port?)`)
  if (probe) await answers(url)
  // The Node it runs on, from prom-client's default nodejs_version_info, named as a cell's runtime is.
  const major = samples.find((s) => s.name === 'nodejs_version_info')?.labels.major
  const info = { ...(samples.find((s) => s.name === 'authbench_info')?.labels ?? {}), ...(major ? { runtime: `node${major}` } : {}) }
  let since = snapshotOf(samples, []).buckets
  return {
    url,
    metricsUrl,
    info,
    async stats(reset) {
      const { snapshot, buckets } = snapshotOf(await scrape(metricsUrl), since)
      if (reset) since = buckets
      return snapshot
    },
  }
}

/** The server's own port answers (any status): its address is the one the fleet file names. */
async function answers(url: string): Promise<void> {
  try {
    const res = await fetch(`${url}/me`, { signal: AbortSignal.timeout(5000) })
    await res.arrayBuffer()
  } catch (err) {
    throw new TargetError(`${url} did not answer (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`)
  }
}
