import { createServer, type Server as HttpServer } from 'node:http'
import client from 'prom-client'
import { TABLES } from './counters.ts'
import { DURATION_BUCKETS_US, type ServerMetrics } from './metrics.ts'

/** What `authbench_info` says of a server, so a harness that did not start it can tell which cell it is. */
export interface InfoLabels {
  strategy: string
  store: string
  alg: string
  engine: string
  /** How the engine is handed its key (`string`, `keyobject`), `none` for an engine whose key form is not an axis. */
  key_form: string
  /** Entries in the engine's verified-token cache (`0`: off), `none` for an engine that has none. */
  verify_cache: string
  /** The session cache as `ENTRIES/TTL_SECONDS` (`1000/5`), `off` for a session without one, `none` for other strategies. */
  session_cache: string
  revocation: string
  /** The HTTP framework the routes run on (`fastify`, `express`). */
  framework: string
  /** The code behind a session (`authbench`, `fastify-session`, `express-session`), `none` for another strategy. */
  session_library: string
  /** A library session's preset (`defaults`, `tuned`), `none` otherwise. */
  preset: string
}

const HELP = 'Server-side request time, from the request hook to the response hook.'
const OPS = [
  ['read', 'reads'],
  ['write', 'writes'],
  ['delete', 'deletes'],
] as const

/**
 * The request-time histogram as prom-client writes histograms, read from the cumulative buckets
 * the request hook counts (so no `observe()`, with its label lookup, runs per request).
 */
class RequestDuration extends client.Histogram {
  readonly #metrics: ServerMetrics
  constructor(metrics: ServerMetrics, register: client.Registry) {
    super({
      name: 'authbench_request_duration_seconds',
      help: HELP,
      buckets: DURATION_BUCKETS_US.map((us) => us / 1e6),
      registers: [register],
    })
    this.#metrics = metrics
  }

  /** What prom-client formats (its `get()` reads this too): the request hook's counts as histogram samples. */
  async getForPromString(): Promise<{
    name: string
    help: string
    type: string
    values: client.MetricValueWithName<string>[]
    aggregator: string
  }> {
    const e = this.#metrics.exported!
    const name = 'authbench_request_duration_seconds'
    let cumulative = 0
    const values: client.MetricValueWithName<string>[] = DURATION_BUCKETS_US.map((us, i) => {
      cumulative += e.buckets[i]!
      return { metricName: `${name}_bucket`, labels: { le: us / 1e6 }, value: cumulative }
    })
    const count = cumulative + e.buckets[DURATION_BUCKETS_US.length]!
    values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count })
    values.push({ metricName: `${name}_sum`, labels: {}, value: e.sumUs / 1e6 })
    values.push({ metricName: `${name}_count`, labels: {}, value: count })
    return { name, help: HELP, type: 'histogram', values, aggregator: 'sum' }
  }
}

/** Node's default process metrics plus authbench's own, every one read when scraped. */
export function metricsRegistry(metrics: ServerMetrics, info: InfoLabels): client.Registry {
  if (!metrics.exported) throw new Error('metricsRegistry needs a server created with exportMetrics')
  const register = new client.Registry()
  // The event-loop delay is sampled every 100 ms (not every 10): an idle server then wakes ten times a second, not a hundred.
  client.collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 100 })
  new client.Gauge({
    name: 'authbench_info',
    help:
      'What this server runs: strategy, store, JWT algorithm, library, its key form and verify cache, revocation, HTTP framework, ' +
      'session library and its preset, session cache.',
    labelNames: [
      'strategy',
      'store',
      'alg',
      'engine',
      'key_form',
      'verify_cache',
      'session_cache',
      'revocation',
      'framework',
      'session_library',
      'preset',
    ],
    registers: [register],
  }).set({ ...info }, 1)
  new client.Counter({
    name: 'authbench_requests_total',
    help: 'Answered requests by route and status.',
    labelNames: ['route', 'status'],
    registers: [register],
    collect() {
      this.reset()
      for (const [route, byStatus] of metrics.exported!.requests) {
        for (const [status, n] of byStatus) this.inc({ route, status: String(status) }, n)
      }
    },
  })
  new client.Gauge({
    name: 'authbench_requests_in_flight',
    help: 'Requests started whose answer is not decided yet (their handler may still call the store).',
    registers: [register],
    collect() {
      this.set(metrics.inFlight)
    },
  })
  new client.Counter({
    name: 'authbench_requests_failed_total',
    help: 'Requests answered 5xx, counted where the answer is decided (those whose client had gone included).',
    registers: [register],
    collect() {
      this.reset()
      this.inc(metrics.failed)
    },
  })
  new client.Counter({
    name: 'authbench_store_operations_total',
    help: 'Store operations by kind and table, counted by the store calls the server made.',
    labelNames: ['op', 'table'],
    registers: [register],
    collect() {
      this.reset()
      for (const table of TABLES) for (const [op, key] of OPS) this.inc({ op, table }, metrics.counters[table][key])
    },
  })
  new RequestDuration(metrics, register)
  return register
}

/**
 * Serves `GET /metrics` on its own listener, so a scrape never shares the measured port or its
 * event-loop hooks with the requests being measured.
 */
export async function serveMetrics(
  register: client.Registry,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: HttpServer = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
