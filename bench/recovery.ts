import { median } from './stats.ts'
import type { Episode, EpisodeStatuses, Recovery, TimelinePoint } from './contracts/results.ts'
import type { Scenario } from './contracts/scenario.ts'

type Fault = NonNullable<Scenario['faults']>[number]

/** Buckets in a row that must be clean for the users to count as recovered. */
const RECOVERED_BUCKETS = 5
/** "Near its level before the fault": p99 at most twice the median bucket p99 before it, or 5 ms above it. */
const normalP99 = (before: number) => Math.max(2 * before, before + 5000)

const failed = (b: TimelinePoint) => b.status401 + b.status502 + b.status503 + b.status5xx + b.errors > 0

const STATUSES = ['requests', 'ok', 'status401', 'status502', 'status503', 'status5xx', 'errors'] as const
const statuses = (buckets: TimelinePoint[]): EpisodeStatuses =>
  Object.fromEntries(STATUSES.map((k) => [k, buckets.reduce((n, b) => n + b[k], 0)])) as EpisodeStatuses

/** The slowest answered GET in the buckets, ms; null for no buckets (an instant fault) or a timeline older than the figure. */
const slowest = (buckets: TimelinePoint[]): number | null =>
  buckets.length === 0 || buckets.some((b) => b.latencyUsMax === undefined)
    ? null
    : buckets.reduce((m, b) => Math.max(m, (b.latencyUsMax ?? 0) / 1000), 0)

const endOf = (f: Fault): number | null =>
  f.action === 'kill-store' && f.durationSeconds === undefined ? null : (f.atSeconds + (f.durationSeconds ?? 0)) * 1000

/**
 * Reads each fault's episode off a window's timeline (pure). `routedAwayMs`: for each fault in the scenario's order, how soon
 * the balancer stopped sending to a killed instance (measured apart from the timeline), or null.
 */
export function recoveryOf(
  timeline: TimelinePoint[],
  faults: NonNullable<Scenario['faults']>,
  sessionsLost: number,
  routedAwayMs: (number | null)[] = [],
): Recovery {
  const routedAway = new Map(faults.map((f, i) => [f, routedAwayMs[i] ?? null]))
  const sorted = [...faults].sort((a, b) => a.atSeconds - b.atSeconds)
  const first = sorted[0]!.atSeconds * 1000
  const quiet = timeline.filter((b) => b.tMs + 100 <= first && b.requests > 0 && b.logins === 0)
  const baseP99 = quiet.length ? median(quiet.map((b) => b.latencyUsP99)) : null
  const episodes = sorted.map((f, i): Episode => {
    const faultAtMs = f.atSeconds * 1000
    const untilMs = i + 1 < sorted.length ? sorted[i + 1]!.atSeconds * 1000 : Infinity
    const mine = timeline.filter((b) => b.tMs + 100 > faultAtMs && b.tMs < untilMs)
    const storeBackAtMs = endOf(f)
    let recoveredAtMs: number | null = null
    if (storeBackAtMs !== null) {
      // The first clean half second once the store is back; failures after it belong to the next fault.
      const candidates = mine.filter((b) => b.tMs + 100 > storeBackAtMs)
      for (let k = 0; k + RECOVERED_BUCKETS <= candidates.length; k++) {
        const run = candidates.slice(k, k + RECOVERED_BUCKETS)
        if (run.every((b) => !failed(b) && (baseP99 === null || b.latencyUsP99 <= normalP99(baseP99)))) {
          recoveredAtMs = Math.max(run[0]!.tMs, storeBackAtMs)
          break
        }
      }
    }
    const errors = mine.filter((b) => failed(b) && (recoveredAtMs === null || b.tMs < recoveredAtMs))
    const lastErrorMs = errors.length ? errors[errors.length - 1]!.tMs : null
    return {
      action: f.action,
      faultAtMs,
      storeBackAtMs,
      firstErrorMs: errors[0]?.tMs ?? null,
      lastErrorMs,
      recoveredAtMs,
      recoveryMs: recoveredAtMs !== null && storeBackAtMs !== null ? recoveredAtMs - storeBackAtMs : null,
      forcedLogins: mine.reduce((n, b) => n + b.forcedLogins, 0),
      loginStormPeakPerSecond: mine.reduce((m, b) => Math.max(m, b.forcedLogins), 0) * 10,
      during: statuses(storeBackAtMs === null ? mine : mine.filter((b) => b.tMs < storeBackAtMs)),
      after: storeBackAtMs === null ? null : statuses(mine.filter((b) => b.tMs >= storeBackAtMs)),
      routedAwayMs: routedAway.get(f) ?? null,
      slowestDuringMs: slowest(storeBackAtMs === null ? mine : mine.filter((b) => b.tMs < storeBackAtMs)),
    }
  })
  const errored = episodes.filter((e) => e.firstErrorMs !== null)
  return {
    firstErrorMs: errored[0]?.firstErrorMs ?? null,
    lastErrorMs: errored.length ? errored[errored.length - 1]!.lastErrorMs : null,
    recoveredAtMs: episodes[episodes.length - 1]!.recoveredAtMs,
    sessionsLost,
    episodes,
  }
}
