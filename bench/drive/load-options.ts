import { parseArgs } from 'node:util'
import { UsageError } from '../contracts/errors.ts'
import { num, table } from '../format.ts'
import type { OpenLoopResult } from './open.ts'

/** `npm run load` flags, checked; and its result as a table. */
export interface LoadArgs {
  url: string
  rate: number
  durationSeconds: number
  connections: number
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body: string | undefined
  arrivals: 'constant' | 'poisson'
  json: boolean
}

const parseLoadFlags = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      header: { type: 'string', multiple: true },
      method: { type: 'string' },
      body: { type: 'string' },
      arrivals: { type: 'string' },
      json: { type: 'boolean' },
    },
  })

/** Every flag checked, each failure naming it. */
export function parseLoadArgs(argv: string[]): LoadArgs {
  let parsed: ReturnType<typeof parseLoadFlags>
  try {
    parsed = parseLoadFlags(argv)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw new UsageError(`one URL; got ${positionals.length ? positionals.join(' ') : 'none'}`)
  let url: URL
  try {
    url = new URL(positionals[0]!)
  } catch {
    throw new UsageError(`URL must be an http(s) URL; got "${positionals[0]}"`)
  }
  if (url.protocol !== 'http:')
    throw new UsageError(
      url.protocol === 'https:'
        ? 'URL: https is not supported by this driver; use http on loopback'
        : `URL must be an http(s) URL; got "${positionals[0]}"`,
    )
  const number = (flag: string, raw: string | undefined, fallback: number, min: number, max: number, integer = false) => {
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}; got "${raw}"`)
    }
    return n
  }
  if (values.rate !== undefined && Number(values.rate) === 0) throw new UsageError(`--rate must be more than 0; got "${values.rate}"`)
  const rate = number('rate', values.rate, 1000, 0.001, 1_000_000)
  const headers: Record<string, string> = {}
  for (const h of values.header ?? []) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h)
    if (!m || /[\r\n]/.test(h)) throw new UsageError(`--header must look like "Name: value"; got "${h}"`)
    headers[m[1]!.toLowerCase()] = m[2]!
  }
  const method = values.method ?? 'GET'
  if (method !== 'GET' && method !== 'POST') throw new UsageError(`--method must be GET or POST; got "${method}"`)
  const arrivals = values.arrivals ?? 'constant'
  if (arrivals !== 'constant' && arrivals !== 'poisson') throw new UsageError(`--arrivals must be constant or poisson; got "${arrivals}"`)
  return {
    url: url.origin + (url.pathname || '/') + url.search,
    rate,
    durationSeconds: number('duration', values.duration, 10, 0.1, 3600),
    connections: number('connections', values.connections, 100, 1, 10_000, true),
    method,
    headers,
    body: values.body,
    arrivals,
    json: values.json ?? false,
  }
}

/** The result as a short table (pure). */
export function loadTable(r: OpenLoopResult): string {
  const ms = (v: number) => num(v / 1000, 2)
  const rows = [
    ['latency (from due time)', ms(r.latencyUs.p50), ms(r.latencyUs.p90), ms(r.latencyUs.p99), ms(r.latencyUs.p999), ms(r.latencyUs.max)],
    ['service time (from send)', ms(r.serviceTimeUs.p50), ms(r.serviceTimeUs.p90), ms(r.serviceTimeUs.p99), '–', ms(r.serviceTimeUs.max)],
    ['send lag (due to send)', ms(r.sendLagUs.p50), '–', ms(r.sendLagUs.p99), '–', ms(r.sendLagUs.max)],
    ["  the driver's own lag", ms(r.schedulerLagUs.p50), '–', ms(r.schedulerLagUs.p99), '–', ms(r.schedulerLagUs.max)],
    ['  waiting for a connection', ms(r.connectionWaitUs.p50), '–', ms(r.connectionWaitUs.p99), '–', ms(r.connectionWaitUs.max)],
    ['driver event-loop delay', ms(r.eventLoopDelayUs.p50), '–', ms(r.eventLoopDelayUs.p99), '–', ms(r.eventLoopDelayUs.max)],
  ]
  return [
    `${num(r.achievedRate, 0)} of ${num(r.intendedRate, 0)} requests/s ` +
      `over ${num(
        r.durationSeconds,
        1,
      )} s; ${r.completed} answered, ${r.non2xx} non-2xx, ${r.errors} errors; ${r.connectionsUsed} connections${
        r.interrupted ? '; INTERRUPTED: partial ' + 'result' : ''
      }`,
    table(['ms', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows),
    ...(r.note ? [`note: ${r.note}`] : []),
    r.held ? (r.reason ? `rate held, but ${r.reason}` : 'rate held') : `RATE NOT HELD: ${r.reason}`,
  ].join('\n')
}
