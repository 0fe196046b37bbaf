// The planner's arithmetic, pure: a team's inputs and what the runs measured per choice in, the
// figures it plans with out. No node: import, so plan.html runs this same code in the browser.
import { renewalWritesPerRequest } from '../server-defaults.ts'

/** A team's own scale (the flags of `npm run plan`). */
export interface PlanInputs {
  /** Peak requests per second over the whole fleet. */
  rate: number
  /** Users active at the peak. */
  users: number
  /** How often each active user calls, requests per minute. */
  requestsPerUserPerMinute: number
  instances: number
  /** Round trip from the servers to the store, ms. */
  storeRttMs: number
  /** Access-token lifetime, seconds (refreshing JWTs; a plain JWT's revocation lag). */
  accessTtlSeconds: number
}

export const DEFAULT_INPUTS: PlanInputs = {
  rate: 40_000,
  users: 2_000_000,
  requestsPerUserPerMinute: 1.2,
  instances: 8,
  storeRttMs: 0.5,
  accessTtlSeconds: 900,
}

/** The flags of `npm run plan`, each with its input and its range. */
export const INPUT_FLAGS = [
  { flag: 'rate', key: 'rate', min: 0.001, max: 1e9, label: 'peak requests per second' },
  { flag: 'users', key: 'users', min: 1, max: 1e10, label: 'active users' },
  { flag: 'requests-per-user-per-minute', key: 'requestsPerUserPerMinute', min: 0.0001, max: 1e6, label: 'requests per user per minute' },
  { flag: 'instances', key: 'instances', min: 1, max: 100_000, label: 'server instances' },
  { flag: 'store-rtt-ms', key: 'storeRttMs', min: 0, max: 1000, label: 'store round trip, ms' },
  { flag: 'access-ttl', key: 'accessTtlSeconds', min: 1, max: 1e8, label: 'access-token lifetime, s' },
] as const satisfies readonly { flag: string; key: keyof PlanInputs; min: number; max: number; label: string }[]

/** A measured quantity, its interval (null: a count, or one window) and where it was read. */
export interface Measured {
  value: number
  interval: [number, number] | null
  source: string
}

export interface LatencyCurve {
  /** The run's instance count the curve and its validation are for. */
  instances: number
  /** The round trip to the store the run had, ms; null for a store in the servers' process (no distance to move). */
  storeRttMs: number | null
  /** The cell's rate at 100% load: its measured capacity, over all its instances. */
  capacityRps: number
  /** The share of capacity up to which a point was judged. */
  judgedCapacity: number
  points: { load: number; p50Us: number; p99Us: number }[]
  source: string
}

/** One measured choice as the planner reads it: what the runs measured per request, each with its source. */
export interface ChoiceMeasured {
  /** The cell's id in results.json. */
  id: string
  label: string
  state: 'none' | 'server' | 'client'
  /** The store is a process of its own every instance shares (its cores are counted apart from the servers'). */
  sharedStore: boolean
  /** The client refreshes a short-lived access token (a JWT). */
  refreshes: boolean
  /** A per-request denylist check ends a stolen token at once. */
  denylist: boolean
  /** A sealed cookie: a copy lives to its idle deadline, or to its absolute one if kept in use. */
  sealedLifetimeSeconds: { idle: number; absolute: number } | null
  cpuUsPerRequest: Measured | null
  storeCpuUsPerRequest: Measured | null
  storeReadsPerRequest: Measured | null
  /** Writes per GET besides the idle-deadline renewals. */
  storeWritesPerRequest: Measured | null
  /** Seconds between a session's renewals; null for a choice that does not renew. */
  renewalIntervalSeconds: number | null
  bytesPerRequest: Measured | null
  /** A lifecycle run's refreshes over the ones its arithmetic expected (1: as predicted), the check the refresh figure rests on. */
  refreshesChecked: Measured | null
  /** A lifecycle run's measured revocation lag p99, seconds. */
  revocationLagMeasured: Measured | null
  latency: LatencyCurve | null
  /** Why a figure is absent, by the figure's name. */
  absent: Partial<Record<FigureName, string>>
}

export const FIGURE_NAMES = [
  'serverCores',
  'storeCores',
  'storeReadsPerSecond',
  'storeWritesPerSecond',
  'bytesPerSecond',
  'refreshesPerSecond',
  'revocationLagSeconds',
  'p50Ms',
  'p99Ms',
] as const

export type FigureName = (typeof FIGURE_NAMES)[number]

export type Figure = Measured | { value: null; interval: null; source: null; absent: string }

interface ChoicePlan {
  id: string
  label: string
  figures: Record<FigureName, Figure>
}

interface BreakEven {
  kind: 'renewal-share' | 'refresh-equals-reads' | 'store-core-saturates' | 'store-bounds-fleet'
  /** The choice it is for. */
  choice: string
  value: number
  unit: string
  /** What it assumes, inputs included. */
  assumes: Record<string, number>
  text: string
}

export interface Plan {
  inputs: PlanInputs
  choices: ChoicePlan[]
  breakEven: BreakEven[]
  /** Remarks on the inputs themselves (e.g. a rate that does not match users x calls). */
  notes: string[]
}

/** The share of reads renewal writes are compared with in the renewal break-even. */
export const RENEWAL_SHARE = 0.1

const absent = (why: string): Figure => ({ value: null, interval: null, source: null, absent: why })

/** A rate times a measured figure per request: the value and each end of its interval. */
function scale(rate: number, m: Measured, source = m.source): Measured {
  return { value: rate * m.value, interval: m.interval && [rate * m.interval[0], rate * m.interval[1]], source }
}

const perSecond = (inputs: PlanInputs) => inputs.requestsPerUserPerMinute / 60

/** Store writes per request at the team's per-user rate: the renewals (at most one per user per interval) plus the GET's own. */
export function writesPerRequest(c: ChoiceMeasured, inputs: PlanInputs): number | null {
  if (!c.storeWritesPerRequest) return null
  const renewals = c.renewalIntervalSeconds === null ? 0 : renewalWritesPerRequest(perSecond(inputs) * c.renewalIntervalSeconds)
  return c.storeWritesPerRequest.value + renewals
}

/**
 * Store writes a refresh costs: the presented refresh token consumed, and its successor recorded (rotation with reuse
 * detection; counted per operation, docs/contracts.md "Store operations", and verified by the servers' count tests).
 */
const REFRESH_ROTATION_WRITES = 2

/** Refreshes per second: each active user refreshes once per access-token lifetime, or at most once per request when it calls less often. */
function refreshesPerSecond(inputs: PlanInputs): number {
  return inputs.users * Math.min(perSecond(inputs), 1 / inputs.accessTtlSeconds)
}

function latency(c: ChoiceMeasured, inputs: PlanInputs, q: 'p50Us' | 'p99Us'): Figure {
  const l = c.latency
  if (!l) return absent(c.absent[q === 'p50Us' ? 'p50Ms' : 'p99Ms'] ?? 'not validated: no simulation.json with this choice')
  if (l.instances !== inputs.instances)
    return absent(`not validated: the model's latency held at ${l.instances} instance(s), not at ${inputs.instances}`)
  if (l.storeRttMs !== null && l.storeRttMs !== inputs.storeRttMs)
    return absent(`not validated: the model held with the store ${l.storeRttMs} ms away, not ${inputs.storeRttMs} ms`)
  const load = inputs.rate / l.capacityRps
  const lo = l.points[0]
  const hi = l.points[l.points.length - 1]
  if (!lo || !hi) return absent('not validated: no load curve')
  if (load > l.judgedCapacity)
    return absent(`not validated: ${(load * 100).toFixed(0)}% of the fleet's capacity is over the ${l.judgedCapacity * 100}% judged`)
  if (load < lo.load) return absent(`not validated: ${(load * 100).toFixed(1)}% of capacity is under the curve's lowest point`)
  const k = l.points.findIndex((p) => p.load >= load)
  const b = l.points[k]!
  const a = l.points[Math.max(0, k - 1)]!
  const t = b.load === a.load ? 0 : (load - a.load) / (b.load - a.load)
  return { value: (a[q] + t * (b[q] - a[q])) / 1000, interval: null, source: `${l.source} at ${(load * 100).toFixed(0)}% load` }
}

function revocationLag(c: ChoiceMeasured, inputs: PlanInputs): Figure {
  const measured = c.revocationLagMeasured
    ? `; measured p99 ${fmt(c.revocationLagMeasured.value * 1000)} ms (${c.revocationLagMeasured.source})`
    : ''
  if (c.state === 'none') return absent('no credential to revoke')
  if (c.state === 'server' || c.denylist)
    return { value: 0, interval: null, source: `logout reaches server-side state (${c.denylist ? 'a denylist' : 'a session'})${measured}` }
  if (c.sealedLifetimeSeconds) {
    const { idle, absolute } = c.sealedLifetimeSeconds
    return {
      value: idle,
      interval: [idle, absolute],
      source:
        'a sealed cookie lives to its idle deadline, to its absolute one if kept in use ' +
        `(the cell's idle timeout; the servers' absolute deadline)${measured}`,
    }
  }
  return {
    value: inputs.accessTtlSeconds,
    interval: [0, inputs.accessTtlSeconds],
    source: `a stolen access token lives up to its lifetime (--access-ttl)${measured}`,
  }
}

/** Every figure of one choice at the team's inputs. */
function planChoice(c: ChoiceMeasured, inputs: PlanInputs): ChoicePlan {
  const R = inputs.rate
  const why = (name: FigureName, fallback: string) => absent(c.absent[name] ?? fallback)
  const writes = writesPerRequest(c, inputs)
  const refreshes = c.refreshes ? refreshesPerSecond(inputs) : 0
  const figures: Record<FigureName, Figure> = {
    serverCores: c.cpuUsPerRequest
      ? scale(R / 1e6, c.cpuUsPerRequest, `rate x ${c.cpuUsPerRequest.source} / 1e6`)
      : why('serverCores', 'no CPU per request measured'),
    storeCores: c.storeCpuUsPerRequest
      ? scale(R / 1e6, c.storeCpuUsPerRequest, `rate x ${c.storeCpuUsPerRequest.source} / 1e6`)
      : why('storeCores', 'no store process CPU measured'),
    storeReadsPerSecond: c.storeReadsPerRequest
      ? scale(R, c.storeReadsPerRequest, `rate x ${c.storeReadsPerRequest.source}`)
      : why('storeReadsPerSecond', 'no store reads measured'),
    storeWritesPerSecond:
      writes === null
        ? why('storeWritesPerSecond', 'no store writes measured')
        : {
            // A refresh's writes only where a lifecycle run checked the refresh rate they rest on, as the refreshes figure.
            value: R * writes + (c.refreshesChecked ? refreshes * REFRESH_ROTATION_WRITES : 0),
            interval: null,
            source:
              `rate x (${c.storeWritesPerRequest!.source}` +
              (c.renewalIntervalSeconds === null ? '' : ` + renewals: one per user per ${c.renewalIntervalSeconds} s`) +
              ')' +
              (!c.refreshes
                ? ''
                : c.refreshesChecked
                  ? ` + refreshes/s x ${REFRESH_ROTATION_WRITES} (a refresh consumes its token and records the next: ` +
                    'docs/contracts.md, "Store operations")'
                  : `; GETs only: each refresh adds ${REFRESH_ROTATION_WRITES} writes, counted where a lifecycle run checked the refresh rate`),
          },
    bytesPerSecond: c.bytesPerRequest
      ? scale(R, c.bytesPerRequest, `rate x ${c.bytesPerRequest.source}`)
      : why('bytesPerSecond', 'no bytes measured'),
    refreshesPerSecond: !c.refreshes
      ? { value: 0, interval: null, source: 'the strategy does not refresh' }
      : c.refreshesChecked
        ? { value: refreshes, interval: null, source: `users / access TTL (once per call, if rarer); ${c.refreshesChecked.source}` }
        : why('refreshesPerSecond', 'no lifecycle run measured its refreshes (scenarios/lifecycle.ts)'),
    revocationLagSeconds: revocationLag(c, inputs),
    p50Ms: latency(c, inputs, 'p50Us'),
    p99Ms: latency(c, inputs, 'p99Us'),
  }
  return { id: c.id, label: c.label, figures }
}

/** The break-even points, each with the inputs it assumes. */
function breakEvens(choices: ChoiceMeasured[], inputs: PlanInputs): BreakEven[] {
  const out: BreakEven[] = []
  for (const c of choices) {
    const reads = c.storeReadsPerRequest?.value ?? 0
    if (c.renewalIntervalSeconds !== null && reads > 0) {
      // Writes per request 1 / (q x I) equal share x reads when q = 1 / (share x reads x I).
      const q = (1 / (RENEWAL_SHARE * reads * c.renewalIntervalSeconds)) * 60
      out.push({
        kind: 'renewal-share',
        choice: c.id,
        value: q,
        unit: 'requests per user per minute',
        assumes: { share: RENEWAL_SHARE, readsPerRequest: reads, renewalIntervalSeconds: c.renewalIntervalSeconds },
        text:
          `${c.label}: renewal writes are ${RENEWAL_SHARE * 100}% of its reads at ${fmt(q)} requests per user per minute ` +
          `(more often: fewer; one renewal per user per ${c.renewalIntervalSeconds} s, reads per request: ${fmt(reads)})`,
      })
    }
    if (c.state === 'server' && reads > 0) {
      // Refreshes users / TTL equal session reads rate x reads when TTL = users / (rate x reads).
      const ttl = inputs.users / (inputs.rate * reads)
      out.push({
        kind: 'refresh-equals-reads',
        choice: c.id,
        value: ttl,
        unit: 's',
        assumes: { users: inputs.users, rate: inputs.rate, readsPerRequest: reads },
        text:
          `a refreshing JWT's refreshes equal ${c.label}'s reads (${fmt(inputs.rate * reads)}/s) ` +
          `at an access-token lifetime of ${fmt(ttl)} s (shorter: more refreshes than reads)`,
      })
    }
    if (c.sharedStore && c.storeCpuUsPerRequest && c.storeCpuUsPerRequest.value > 0) {
      const rate = 1e6 / c.storeCpuUsPerRequest.value
      out.push({
        kind: 'store-core-saturates',
        choice: c.id,
        value: rate,
        unit: 'requests/s',
        assumes: { storeCpuUsPerRequest: c.storeCpuUsPerRequest.value },
        text: `${c.label}: one store core saturates at ${fmt(rate)} requests/s (${fmt(c.storeCpuUsPerRequest.value)} µs of store CPU each)`,
      })
      if (c.cpuUsPerRequest) {
        const n = c.cpuUsPerRequest.value / c.storeCpuUsPerRequest.value
        out.push({
          kind: 'store-bounds-fleet',
          choice: c.id,
          value: n,
          unit: 'instances',
          assumes: { cpuUsPerRequest: c.cpuUsPerRequest.value, storeCpuUsPerRequest: c.storeCpuUsPerRequest.value, storeCores: 1 },
          text:
            `${c.label}: from ${fmt(n)} single-core instances per store core on (one Redis is one core), the shared store, not the servers, bounds capacity ` +
            `(${fmt(c.cpuUsPerRequest.value)} µs per request on a server, ${fmt(c.storeCpuUsPerRequest.value)} µs on the store)`,
        })
      }
    }
  }
  return out
}

export function checkInputs(inputs: PlanInputs): string[] {
  return INPUT_FLAGS.flatMap(({ flag, key, min, max }) => {
    const v = inputs[key]
    return Number.isFinite(v) && v >= min && v <= max ? [] : [`--${flag}: expected a number from ${min} to ${max}, got ${v}`]
  })
}

/** The whole plan: every choice's figures and the break-even points at the team's inputs. */
export function plan(choices: ChoiceMeasured[], inputs: PlanInputs): Plan {
  const notes: string[] = []
  const offered = (inputs.users * inputs.requestsPerUserPerMinute) / 60
  if (Math.abs(offered - inputs.rate) > 0.1 * inputs.rate)
    notes.push(
      `users x requests per user (${fmt(offered)}/s) differs from the rate (${fmt(inputs.rate)}/s) by over 10%: ` +
        'totals follow the rate, renewals and refreshes the per-user figures',
    )
  return { inputs, choices: choices.map((c) => planChoice(c, inputs)), breakEven: breakEvens(choices, inputs), notes }
}

/** Three significant figures, thousands grouped. */
export function fmt(n: number): string {
  if (n === 0) return '0'
  const a = Math.abs(n)
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)))
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}
