import autocannon from 'autocannon'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// autocannon's own request builder, so the bytes counted are exactly the bytes it sends.
const requestBuilder = require('autocannon/lib/httpRequestBuilder.js') as
  (defaults: Record<string, unknown>) => (req: Record<string, unknown>) => Buffer

export interface LoadRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
}

export interface LoadResult {
  requests: number
  durationSeconds: number
  rps: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  statusCounts: Record<string, number>
  non2xx: number
  errors: number
  timeouts: number
  responseBytes: number
}

/** Mean size of one request on the wire (request line, headers, body), as autocannon builds it. */
export function requestBytes(url: string, requests: LoadRequest[]): number {
  const { hostname, port } = new URL(url)
  const build = requestBuilder({ hostname, port: Number(port) })
  let total = 0
  for (const r of requests) total += build({ ...r, headers: { ...r.headers } }).length
  return total / requests.length
}

type Tracker = Promise<autocannon.Result> & { stop(): void }

/**
 * Closed-loop load with autocannon. Connection i goes to urls[i % urls.length], so several
 * instances share the load; each connection cycles through `requests` (one per credential).
 * autocannon's latency has 1 ms resolution: the servers' own µs timings complement it.
 */
export async function drive(urls: string[], requests: LoadRequest[], connections: number, durationSeconds: number, signal?: AbortSignal): Promise<LoadResult> {
  const tracker = autocannon({
    url: urls as unknown as string,
    connections: Math.max(connections, urls.length),
    duration: durationSeconds,
    timeout: 10,
    requests: requests.map((r) => ({ ...r, headers: { ...r.headers } })),
  }) as unknown as Tracker
  const stop = () => tracker.stop()
  signal?.addEventListener('abort', stop, { once: true })
  let r: autocannon.Result
  try {
    r = await tracker
  } finally {
    signal?.removeEventListener('abort', stop)
  }
  const statusCounts: Record<string, number> = {}
  const stats = (r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}
  for (const [code, { count }] of Object.entries(stats)) statusCounts[code] = count
  return {
    requests: r.requests.total,
    durationSeconds: r.duration,
    rps: r.requests.total / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    statusCounts,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    responseBytes: r.throughput.total,
  }
}
