import type { StrategyKind } from '../../../common/kinds.ts'
import type { Credential, LifecycleClient } from '../../contracts/client.ts'
import type { MicroTask } from '../../contracts/results.ts'
import type { CellSpec } from '../../contracts/plan.ts'

/**
 * How the harness runs one strategy: its servers' flags and shared keys, how a client logs in and
 * lives with its credential, and its micro-benchmark tasks. What the page reads about it is its
 * descriptor (`bench/strategies/NAME.ts`).
 */
export interface StrategyRunner {
  kind: StrategyKind
  /** Server flags of the strategy's own axes. */
  serverArgs(c: CellSpec): string[]
  /** Key material every instance of a cell must share, written into the cell's folder; flags to pass. */
  sharedKeyArgs(c: CellSpec, dir: string): string[]
  login(url: string, user: number): Promise<Credential>
  /**
   * Headers every client of the cell sends besides its credential, logins included: a library session's servers are
   * behind a TLS-terminating proxy as far as they know (`x-forwarded-proto: https`). Absent: none.
   */
  requestHeaders?: Record<string, string>
  /** The cookie that carries the credential (a sticky balancer keys on it); null for a credential in a header, or none. */
  cookieName: string | null
  /** How a virtual user of the lifecycle workload logs in, presents, refreshes and logs out; absent: no credential to live with. */
  lifecycle?: LifecycleClient
  /** This strategy's primitives, timed by the micro-benchmarks. */
  micro?(): Promise<{ tasks: MicroTask[]; close(): Promise<void> }>
}
