import { renewalIntervalMs } from '../servers/strategies/session.ts'
import { openWindow } from './collect.ts'
import { runLifecycle } from './drive/lifecycle.ts'
import { descriptorOf } from './strategies/index.ts'
import type { StoreFaults } from './stores/index.ts'
import type { CellRuntime } from './verify.ts'
import type { LifecycleMeasurement, LifecycleResult } from './contracts/results.ts'
import type { CellPlan } from './contracts/plan.ts'
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

const refreshes = (c: Cell) => descriptorOf(c).lifecycle?.refreshBody !== undefined

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
export function expectedRefreshes(c: Cell, w: Pick<LifecycleWorkload, 'users' | 'durationSeconds' | 'logoutsPerSecond' | 'refreshMarginSeconds'>): number | null {
  const interval = refreshIntervalSeconds(c, w)
  if (interval === null) return null
  const cycles = w.durationSeconds / interval
  const n = Math.floor(cycles)
  const r = cycles - n
  const removedPerLogout = (interval * (n + r * r)) / (2 * w.durationSeconds)
  return Math.max(0, (w.users * w.durationSeconds) / interval - w.logoutsPerSecond * w.durationSeconds * removedPerLogout)
}

/** How the driver is set up for a cell: warm-up, drain and the thief's probe interval. */
export function lifecycleTiming(c: Cell, w: LifecycleWorkload, smoke: boolean): { warmupSeconds: number; drainSeconds: number; probeIntervalMs: number } {
  const ttl = c.accessTtlSeconds
  const interval = refreshIntervalSeconds(c, w)
  // Logins spread over one refresh interval (or one re-seal interval) leave the window in steady state.
  const spread = interval ?? (ttl !== null ? renewalIntervalMs(ttl * 1000) / 1000 : 1)
  // A copy that only expiry ends may need a whole lifetime after the window's last logout.
  const lasts = descriptorOf(c).state === 'client' && c.revocation !== 'denylist' && ttl !== null
  const warmupSeconds = Math.min(smoke ? 1 : 30, Math.max(1, spread))
  const drainSeconds = Math.min(smoke ? 1 : 120, lasts ? ttl + 1 : 1)
  // Fifty probes over a lifetime resolve the lag to 2% of it; sessions and denylists refuse the first.
  const probeIntervalMs = ttl !== null && lasts ? Math.min(1000, Math.max(10, (ttl * 1000) / 50)) : 20
  return { warmupSeconds, drainSeconds, probeIntervalMs }
}

const per = (n: number, d: number) => (d === 0 ? 0 : n / d)

/** The scenario's faults and the store they act on. */
export interface FaultPlan {
  faults: NonNullable<Scenario['faults']>
  store: StoreFaults
}

/** Runs each fault's action (and its end) at its second into the window; `stop` cancels what is left and brings the store back up. */
function injector(plan: FaultPlan): { start(): void; stop(): Promise<void> } {
  const timers: NodeJS.Timeout[] = []
  let chain: Promise<void> = Promise.resolve()
  const at = (seconds: number, action: () => Promise<void>) => {
    timers.push(setTimeout(() => { chain = chain.then(action, action) }, seconds * 1000))
  }
  return {
    start() {
      for (const f of plan.faults) {
        const s = plan.store
        switch (f.action) {
          case 'pause-store':
            at(f.atSeconds, () => s.pause())
            at(f.atSeconds + f.durationSeconds!, () => s.resume())
            break
          case 'kill-store':
            at(f.atSeconds, () => s.kill())
            if (f.durationSeconds !== undefined) at(f.atSeconds + f.durationSeconds, () => s.ensureUp())
            break
          case 'restart-store':
            if (f.durationSeconds === undefined) at(f.atSeconds, () => s.restart())
            else {
              at(f.atSeconds, () => s.kill())
              at(f.atSeconds + f.durationSeconds, () => s.ensureUp())
            }
            break
          case 'flush-store':
            at(f.atSeconds, () => s.flush())
        }
      }
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      await chain.catch(() => {})
      await plan.store.ensureUp()
    },
  }
}

/** One lifecycle window on a prepared cell: the driver's figures, the servers' and the store's counts over the measured window. */
export async function measureLifecycle(
  rt: Pick<CellRuntime, 'servers' | 'counts' | 'storeCpuUs' | 'serverCpuCount'>, plan: CellPlan, w: LifecycleWorkload,
  round: number, smoke: boolean, signal?: AbortSignal, faults: FaultPlan | null = null,
): Promise<LifecycleMeasurement> {
  const client = descriptorOf(plan).lifecycle!
  const timing = lifecycleTiming(plan, w, smoke)
  // A store that is paused, killed or restarted cannot be asked for its own counts at the window's edges.
  if (faults) rt = { ...rt, counts: async () => null, storeCpuUs: async () => null }
  const injected = faults ? injector(faults) : null
  let window: Awaited<ReturnType<typeof openWindow>> | null = null
  let counts: Awaited<ReturnType<Awaited<ReturnType<typeof openWindow>>['close']>> | null = null
  const result: LifecycleResult = await runLifecycle({
    urls: rt.servers.map((s) => s.url), client, path: w.path, users: w.users, requestsPerUserPerSecond: w.requestsPerUserPerSecond,
    durationSeconds: w.durationSeconds, logoutsPerSecond: w.logoutsPerSecond, refreshMarginSeconds: w.refreshMarginSeconds,
    refreshJitterSeconds: plan.refreshJitterSeconds ?? 0, concurrentRefreshShare: w.concurrentRefreshShare, synchronized: w.synchronized,
    ...timing, seed: round, ...(signal ? { signal } : {}),
    onWindow: async (edge) => {
      if (edge === 'start') {
        injected?.start()
        window = await openWindow(rt)
      } else if (window) counts = await window.close()
    },
  }).finally(() => injected?.stop())
  const c = counts ?? { served: 0, serverCpuUs: 0, storeCpuUs: null, ops: { reads: 0, writes: 0, deletes: 0 }, external: null }
  const seconds = w.durationSeconds
  const { reads, writes, deletes } = c.ops
  return {
    round,
    ...result,
    served: c.served,
    cpuUsPerRequest: per(c.serverCpuUs, c.served),
    storeCpuUsPerRequest: c.storeCpuUs === null ? null : per(c.storeCpuUs, c.served),
    storeOps: { reads, writes, deletes },
    storeOpsPerSecond: { reads: reads / seconds, writes: writes / seconds, deletes: deletes / seconds },
    storeOpsPerRequest: { reads: per(reads, c.served), writes: per(writes, c.served), deletes: per(deletes, c.served) },
    redisCommands: c.external,
    drainSeconds: timing.drainSeconds,
  }
}
