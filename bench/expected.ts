import { balancerOf } from './fleet/balancers.ts'
import { storeDescriptors } from './stores/index.ts'
import { descriptorOf } from './strategies/index.ts'
import type { CellPlan, CellSpec } from './contracts/plan.ts'
import type { ExpectedOps } from './contracts/results.ts'

/** Operations one request makes on the cell's own store (the users table, always SQLite, aside). */
export const ownStoreOps = (o: ExpectedOps) => o.stateReads + o.writes + o.deletes

/** The most renewal writes a window can hold: each session at most once per 60 s, per instance. */
export function renewalWriteBound(sessions: number, instances: number, windowSeconds: number): number {
  return sessions * instances * (Math.floor(windowSeconds / 60) + 1)
}

/**
 * The most state reads a window of a session-cached cell can hold: each session's entry on each instance is
 * filled once, then served until its TTL, so at most once per started TTL period of the window (its first fill
 * may fall inside the window, or before it). An exact count cannot be declared for a closed loop: whether a
 * session is asked for again within the TTL, and where its entry's period falls against the window's edges,
 * depend on timing. null when the LRU holds fewer entries than the sessions each instance sees: entries are
 * then pushed out before their TTL and only the uncached count (one read a request) bounds the reads.
 */
export function cachedReadBound(
  sessions: number,
  instances: number,
  windowSeconds: number,
  cache: NonNullable<CellSpec['sessionCache']>,
): number | null {
  if (cache.entries < sessions) return null
  return sessions * instances * (Math.floor(windowSeconds / cache.ttlSeconds) + 1)
}

/**
 * A lifecycle user's store reads per GET through a session cache on the instance it keeps to: its GETs come
 * every 1/rate s, the first after an entry's TTL reads and fills it again, so one read per ceil(TTL x rate)
 * GETs (1 when a user asks less often than the TTL). A user spread over instances (a balancer) fills each.
 */
export const cachedReadsPerGet = (ttlSeconds: number, requestsPerUserPerSecond: number): number =>
  1 / Math.max(1, Math.ceil(ttlSeconds * requestsPerUserPerSecond - 1e-9))

export function expectedOps(cell: CellSpec & Pick<CellPlan, 'workload'>): ExpectedOps {
  const d = descriptorOf(cell)
  const library = d.libraryOps?.(cell) ?? null
  if (library) {
    // A library's counts are exact per request (it saves or touches on every one, or never): no renewal allowance.
    const { identify, login } = library
    switch (cell.workload) {
      case 'lifecycle':
      case 'GET /me':
      case 'GET /profile':
        return {
          stateReads: identify.reads,
          userReads: cell.workload === 'GET /profile' ? 1 : 0,
          writes: identify.writes,
          deletes: identify.deletes,
          renewals: false,
        }
      case 'POST /login':
        return { stateReads: login.reads, userReads: 1, writes: login.writes, deletes: login.deletes, renewals: false }
      case 'observed':
        return { stateReads: 0, userReads: 0, writes: 0, deletes: 0, renewals: false }
    }
  }
  const cached = cell.sessionCache ? { cachedReads: true as const } : {}
  switch (cell.workload) {
    // A lifecycle's steady GETs; its logins, refreshes and logouts are counted per second in its results.
    case 'lifecycle':
    case 'GET /me':
      return { stateReads: d.identifyReads(cell), userReads: 0, writes: 0, deletes: 0, renewals: d.renews, ...cached }
    case 'GET /profile':
      return { stateReads: d.identifyReads(cell), userReads: 1, writes: 0, deletes: 0, renewals: d.renews, ...cached }
    case 'POST /login':
      // The user row, then whatever the strategy records (a session, a refresh token).
      return { stateReads: 0, userReads: 1, writes: d.loginWrites, deletes: 0, renewals: false }
    // Load from outside: its mix of requests is the other engine's, so nothing is expected of it.
    case 'observed':
      return { stateReads: 0, userReads: 0, writes: 0, deletes: 0, renewals: false }
  }
}

/**
 * The share of 401s a cell is expected to answer: a strategy that identifies the caller from its
 * store, on a store each process keeps for itself, knows only the credentials its own instance
 * issued, so with n instances (n - 1) / n of spread requests fail (none behind a sticky balancer). 0 elsewhere.
 */
export function expected401Share(cell: Pick<CellPlan, 'strategy' | 'store' | 'workload' | 'instances' | 'balancer' | 'balance'>): number {
  if (balancerOf(cell).keepsClientOnIssuer(cell.balance)) return 0
  const perProcess = cell.store !== null && !storeDescriptors[cell.store].sharedAcrossInstances
  const spread = cell.workload !== 'POST /login' && cell.workload !== 'observed'
  return perProcess && descriptorOf(cell).state === 'server' && spread ? (cell.instances - 1) / cell.instances : 0
}
