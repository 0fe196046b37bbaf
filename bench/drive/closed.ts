import autocannon from 'autocannon'
import { createRequire } from 'node:module'
import { keepCookies } from '../cookie-jar.ts'
import type { LoadRequest } from '../contracts/client.ts'

const require = createRequire(import.meta.url)
// autocannon's own request builder, so the bytes counted are exactly the bytes it sends.
const requestBuilder = require('autocannon/lib/httpRequestBuilder.js') as (
  defaults: Record<string, unknown>,
) => (req: Record<string, unknown>) => Buffer

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

/** Drives load at the servers for a window: `drive` here, several driver processes' merged, or a test's scripted one. */
export type Driver = (
  urls: string[],
  requests: LoadRequest[],
  connections: number,
  durationSeconds: number,
  signal?: AbortSignal,
) => Promise<LoadResult>

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
 * Connection k's share of the pool: every `connections`-th request starting at k (or request
 * k mod n when there are more connections than requests). Every request is some connection's,
 * every connection starts at a different one, and autocannon builds each buffer once instead of
 * every connection building the whole pool.
 */
export function shareOf<T>(requests: T[], k: number, connections: number): T[] {
  if (connections >= requests.length) return [requests[k % requests.length]!]
  const out: T[] = []
  for (let i = k; i < requests.length; i += connections) out.push(requests[i]!)
  return out
}

type Client = { opts: Record<string, unknown>; setRequests(r: unknown[]): void }
type Built = LoadRequest & {
  requestBuffer?: Buffer
  onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string | string[]>) => void
}

const setCookieOf = (headers: Record<string, string | string[]>): string | string[] | undefined => {
  for (const k in headers) if (k.length === 10 && k.toLowerCase() === 'set-cookie') return headers[k]
  return undefined
}

/**
 * Closed-loop load with autocannon. Connection i goes to urls[i % urls.length], so several
 * instances share the load; each connection cycles through its own share of `requests` (one per
 * credential), so that even a short window reaches the whole pool.
 * Each request is one virtual client's: an answer's `Set-Cookie` replaces that client's cookie,
 * in the pool too, so the next request and the next window send what a browser would.
 * autocannon's latency has 1 ms resolution: the servers' own µs timings complement it.
 */
export async function drive(
  urls: string[],
  requests: LoadRequest[],
  connections: number,
  durationSeconds: number,
  signal?: AbortSignal,
): Promise<LoadResult> {
  return loadResultOf(await driveRaw(urls, requests, connections, durationSeconds, signal, false))
}

/**
 * The closed loop itself; with `raw`, autocannon's result before aggregation (histograms encoded),
 * so several driver processes' results merge with autocannon's own `aggregateResult`.
 */
export async function driveRaw(
  urls: string[],
  requests: LoadRequest[],
  connections: number,
  durationSeconds: number,
  signal: AbortSignal | undefined,
  raw: boolean,
): Promise<autocannon.Result> {
  const total = Math.max(connections, urls.length)
  const copy = (rs: LoadRequest[], c: Client | null): Built[] => {
    const build = c ? requestBuilder(c.opts) : null
    return rs.map((original) => {
      const r: Built = { ...original, headers: { ...original.headers } }
      if (original.keepCookies === false) return r
      r.onResponse = (_status, _body, _context, headers) => {
        const set = setCookieOf(headers)
        if (set === undefined || !keepCookies(r.headers, set)) return
        if (r.headers.cookie === undefined) delete original.headers.cookie
        else original.headers.cookie = r.headers.cookie
        if (build) r.requestBuffer = build({ ...r, headers: { ...r.headers } })
      }
      return r
    })
  }
  let client = 0
  const tracker = autocannon({
    url: urls as unknown as string,
    connections: total,
    duration: durationSeconds,
    // autocannon looks at its stop flag once a sample: every second by default, so a window of 0.3 s
    // would run a whole second. A window of a fraction of a second is sampled every 100 ms.
    sampleInt: Number.isInteger(durationSeconds) ? 1000 : 100,
    timeout: 10,
    requests: copy(requests.slice(0, 1), null),
    ...(raw ? { skipAggregateResult: true } : {}),
    setupClient: (c: Client) => {
      c.setRequests(copy(shareOf(requests, client++ % total, total), c))
    },
  } as unknown as autocannon.Options) as unknown as Tracker
  const stop = () => tracker.stop()
  signal?.addEventListener('abort', stop, { once: true })
  try {
    return await tracker
  } finally {
    signal?.removeEventListener('abort', stop)
  }
}

/** Raw results of several closed loops run at once, aggregated as autocannon aggregates its own workers'. */
export function mergeRaw(results: autocannon.Result[], urls: string[], connections: number): LoadResult {
  const aggregate = (autocannon as unknown as { aggregateResult(r: unknown[], o: Record<string, unknown>): autocannon.Result })
    .aggregateResult
  return loadResultOf(aggregate(results, { url: urls, connections }))
}

function loadResultOf(r: autocannon.Result): LoadResult {
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
