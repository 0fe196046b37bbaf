// The run's side of each balancer, keyed as the registry (balancers.ts) is: the process the harness
// starts for it, whether that can start on this machine, and how; null for a balancer with no process.
import type { Balance, Balancer } from '../contracts/scenario.ts'
import type { ProcessGroup } from '../processes.ts'
import type { BalancerFloorPoint } from '../contracts/results.ts'
import { measureBalancerFloor, type BalancerFloorOptions } from './balancer-floor.ts'
import { DEFAULT_BALANCER } from './balancers.ts'
import { HAPROXY_MISSING, haproxyInstalled, startHaproxy, type Balancer as StartedBalancer } from './haproxy.ts'

export interface BalancerProcess {
  /** Why it cannot start here (its binary missing, with the fix), or null. */
  unavailable(): string | null
  /** Starts it in front of `backends` (on `cpus`, on a host of a topology when given) and waits until it accepts connections. */
  start(
    group: ProcessGroup,
    o: {
      backends: string[]
      balance: Balance
      /** The cookie that carries the credential (sticky keys on it); null for a credential in a header. */
      stickyCookie: string | null
      cpus: string | null
      host?: string
      wrap?: (argv: string[]) => string[]
    },
  ): Promise<StartedBalancer>
  /** Its own cost per request at a ladder of rates with nothing behind it to wait on (the run's results, `balancerFloor`). */
  floor(o: BalancerFloorOptions): Promise<BalancerFloorPoint[]>
}

export const balancerProcesses = {
  none: null,
  haproxy: { unavailable: () => (haproxyInstalled() ? null : HAPROXY_MISSING), start: startHaproxy, floor: measureBalancerFloor },
} satisfies Record<Balancer, BalancerProcess | null>

/** The process a cell's balancer needs, or null. */
export const balancerProcessOf = (c: { balancer?: Balancer | undefined }): BalancerProcess | null =>
  balancerProcesses[c.balancer ?? DEFAULT_BALANCER]
