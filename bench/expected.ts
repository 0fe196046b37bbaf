import type { CellPlan } from './plan.ts'

/** Exact store operations one request does in steady state (DESIGN.md, "Server contract"). */
export interface ExpectedOps {
  /** Reads of session, refresh-token or denylist state (the cell's store). */
  stateReads: number
  /** Reads of the users table (always SQLite). */
  userReads: number
  writes: number
  deletes: number
}

export function expectedOps(cell: Pick<CellPlan, 'strategy' | 'revocation' | 'workload'>): ExpectedOps {
  const checksStore = cell.strategy === 'session' || cell.revocation === 'denylist'
  switch (cell.workload) {
    case 'GET /me':
      return { stateReads: checksStore ? 1 : 0, userReads: 0, writes: 0, deletes: 0 }
    case 'GET /profile':
      return { stateReads: checksStore ? 1 : 0, userReads: 1, writes: 0, deletes: 0 }
    case 'POST /login':
      // The user row, then a new session (session) or a recorded refresh token (jwt).
      return { stateReads: 0, userReads: 1, writes: cell.strategy === 'none' ? 0 : 1, deletes: 0 }
  }
}
