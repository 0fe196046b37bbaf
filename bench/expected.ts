import type { CellPlan } from './plan.ts'

/** Exact store operations one request does in steady state (DESIGN.md, "Server contract"). */
export interface ExpectedOps {
  /** Reads of session, refresh-token or denylist state (the cell's store). */
  stateReads: number
  /** Reads of the users table (always SQLite). */
  userReads: number
  writes: number
  deletes: number
  /**
   * Sessions renew their idle timeout with one write at most once a minute each, so a GET window
   * may add up to one write per session per started minute on top of `writes`.
   */
  renewals: boolean
}

/** The most renewal writes a window can hold: each session at most once per 60 s, per instance. */
export function renewalWriteBound(sessions: number, instances: number, windowSeconds: number): number {
  return sessions * instances * (Math.floor(windowSeconds / 60) + 1)
}

export function expectedOps(cell: Pick<CellPlan, 'strategy' | 'revocation' | 'workload'>): ExpectedOps {
  const checksStore = cell.strategy === 'session' || cell.revocation === 'denylist'
  const renewals = cell.strategy === 'session'
  switch (cell.workload) {
    case 'GET /me':
      return { stateReads: checksStore ? 1 : 0, userReads: 0, writes: 0, deletes: 0, renewals }
    case 'GET /profile':
      return { stateReads: checksStore ? 1 : 0, userReads: 1, writes: 0, deletes: 0, renewals }
    case 'POST /login':
      // The user row, then a new session (session) or a recorded refresh token (jwt).
      return { stateReads: 0, userReads: 1, writes: cell.strategy === 'none' ? 0 : 1, deletes: 0, renewals: false }
  }
}

/**
 * The share of 401s a cell is expected to answer: sessions in a per-process store are unknown to
 * every other instance, so with n instances (n - 1) / n of spread requests fail. 0 elsewhere.
 */
export function expected401Share(cell: Pick<CellPlan, 'strategy' | 'store' | 'workload' | 'instances'>): number {
  const perProcess = cell.store === 'memory' && cell.strategy === 'session' && cell.workload !== 'POST /login'
  return perProcess ? (cell.instances - 1) / cell.instances : 0
}
