// The lifecycle's arithmetic, pure: the workload's fields with their defaults, and what the
// strategy and the client's policy predict (refresh interval, refreshes, revocation lag), beside
// which the measurements are shown.
import { renewalIntervalMs } from './server-defaults.ts'
import { descriptorOf } from './strategies/index.ts'
import type { CellPlan, CellSpec } from './contracts/plan.ts'
import { LIFECYCLE_DEFAULTS, type Scenario } from './contracts/scenario.ts'

/** The lifecycle workload with every default applied. */
export interface LifecycleWorkload {
  users: number
  requestsPerUserPerSecond: number
  durationSeconds: number
  logoutsPerSecond: number
  path: '/me' | '/profile'
  refreshMarginSeconds: number
  concurrentRefreshShare: number
  synchronized: boolean
}

export function lifecycleWorkload(w: Scenario['workload']): LifecycleWorkload {
  return {
    users: w.users,
    requestsPerUserPerSecond: w.requestsPerUserPerSecond ?? 1,
    durationSeconds: w.durationSeconds ?? 10,
    logoutsPerSecond: w.logoutsPerSecond ?? 0,
    path: w.path ?? LIFECYCLE_DEFAULTS.path,
    refreshMarginSeconds: w.refreshMarginSeconds ?? LIFECYCLE_DEFAULTS.refreshMarginSeconds,
    concurrentRefreshShare: w.concurrentRefreshShare ?? LIFECYCLE_DEFAULTS.concurrentRefreshShare,
    synchronized: w.synchronized ?? LIFECYCLE_DEFAULTS.synchronized,
  }
}

type Cell = Pick<CellPlan, 'strategy' | 'revocation' | 'accessTtlSeconds' | 'refreshJitterSeconds'>

const refreshes = (c: Cell) => descriptorOf(c).refreshes

/**
 * Seconds between a user's refreshes under the client's policy: due `margin` (plus up to `jitter`)
 * before `exp`, which the server sets in whole seconds from the issuing second. Without jitter the
 * refresh lands at the same fraction of a second every time and the interval is exactly
 * TTL - ceil(margin); with jitter the fraction is spread and the mean is about TTL - margin - jitter/2 - 1/2.
 * Null for a credential that is never refreshed.
 */
export function refreshIntervalSeconds(c: Cell, w: Pick<LifecycleWorkload, 'refreshMarginSeconds'>): number | null {
  if (!refreshes(c) || c.accessTtlSeconds === null) return null
  const jitter = c.refreshJitterSeconds ?? 0
  const ttl = c.accessTtlSeconds
  return jitter === 0 ? ttl - Math.ceil(w.refreshMarginSeconds) : ttl - w.refreshMarginSeconds - jitter / 2 - 0.5
}

/**
 * How long, by the arithmetic of the strategy and the client's policy, a copy of a logged-out
 * credential keeps working at the median, ms: 0 where logout reaches the server's state (sessions,
 * a denylist); the median remaining lifetime of an access token (margin + jitter/2 + half a refresh
 * interval: remaining lifetime is uniform over the interval); a sealed cookie's idle timeout less
 * the mean time since its last re-seal.
 */
export function expectedLagMedianMs(c: Cell, w: Pick<LifecycleWorkload, 'refreshMarginSeconds' | 'requestsPerUserPerSecond'>): number {
  const d = descriptorOf(c)
  if (d.state === 'server' || c.revocation === 'denylist' || c.accessTtlSeconds === null) return 0
  const interval = refreshIntervalSeconds(c, w)
  if (interval !== null) return (w.refreshMarginSeconds + (c.refreshJitterSeconds ?? 0) / 2 + interval / 2) * 1000
  const idleMs = c.accessTtlSeconds * 1000
  // Re-sealed at the first request once the renewal interval has passed: on average half a request interval later.
  return idleMs - (renewalIntervalMs(idleMs) + 1000 / w.requestsPerUserPerSecond / 2) / 2
}

/**
 * Refreshes a window of D seconds should hold in steady state. Each user refreshes every interval
 * I, at a phase spread evenly over the users: U x D / I. A logout at time t replaces the user's
 * remaining schedule (on average (D - t) / I refreshes in the window) with its next login's
 * (floor((D - t) / I)): it removes frac((D - t) / I) refreshes, whose mean over t is
 * I (n + r^2) / 2D where D / I = n + r. Each user logs out at most once a window. Null when
 * nothing refreshes.
 */
export function expectedRefreshes(
  c: Cell,
  w: Pick<LifecycleWorkload, 'users' | 'durationSeconds' | 'logoutsPerSecond' | 'refreshMarginSeconds'>,
): number | null {
  const interval = refreshIntervalSeconds(c, w)
  if (interval === null) return null
  const cycles = w.durationSeconds / interval
  const n = Math.floor(cycles)
  const r = cycles - n
  const removedPerLogout = (interval * (n + r * r)) / (2 * w.durationSeconds)
  return Math.max(0, (w.users * w.durationSeconds) / interval - w.logoutsPerSecond * w.durationSeconds * removedPerLogout)
}

/** How the driver is set up for a cell: warm-up, drain and the thief's probe interval. */
export function lifecycleTiming(
  c: CellSpec,
  w: LifecycleWorkload,
  smoke: boolean,
): { warmupSeconds: number; drainSeconds: number; probeIntervalMs: number } {
  const ttl = c.accessTtlSeconds
  const interval = refreshIntervalSeconds(c, w)
  // Logins spread over one refresh interval (or one re-seal interval) leave the window in steady state.
  const spread = interval ?? (ttl !== null ? renewalIntervalMs(ttl * 1000) / 1000 : 1)
  // A copy that only expiry ends may need a whole lifetime after the window's last logout.
  const lasts = descriptorOf(c).state === 'client' && c.revocation !== 'denylist' && ttl !== null
  const warmupSeconds = Math.min(smoke ? 0.5 : 30, Math.max(1, spread))
  // An instance cache (a session cache) serves a copy up to its TTL on another instance: the thieves wait that long too.
  const cached = descriptorOf(c).instanceCache?.(c)?.keepsSeconds ?? 0
  const drainSeconds = Math.min(smoke ? 0.5 : 120, Math.max(lasts ? ttl + 1 : 1, cached > 0 ? cached + 1 : 0))
  // Fifty probes over a lifetime resolve the lag to 2% of it; sessions and denylists refuse the first.
  const probeIntervalMs = ttl !== null && lasts ? Math.min(1000, Math.max(10, (ttl * 1000) / 50)) : 20
  return { warmupSeconds, drainSeconds, probeIntervalMs }
}
