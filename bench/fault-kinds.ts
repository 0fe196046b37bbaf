// Fault kinds, one table: what each acts on (a store the harness runs, whose provisioner implements
// StoreFaults, the cell's app instances behind its balancer, or the store host's link on a namespace
// topology), what it does, and how the report names it. The scenario contract validates each kind's
// duration, the cells an instance fault needs and the topology a partition needs.
import type { CellPlan } from './contracts/plan.ts'
import type { FaultAction, Scenario } from './contracts/scenario.ts'
import { balancerOf } from './fleet/balancers.ts'
import type { InstanceFaults } from './fleet/instance-faults.ts'
import type { LinkFaults } from './fleet/placement.ts'
import { storeDescriptors } from './stores/index.ts'
import type { StoreFaults } from './stores/run/index.ts'

type Fault = NonNullable<Scenario['faults']>[number]

/** What a fault acts on: the cell's store process, its app instances, or the link between the store's host and the others. */
type FaultTarget = 'store' | 'instance' | 'link'

/** What the faults of a window act on; a kind is only scheduled where its target is there. */
interface FaultContext {
  store: StoreFaults | null
  instances: InstanceFaults | null
  link: LinkFaults | null
}

interface FaultKind {
  target: FaultTarget
  /**
   * Schedules the fault's actions at seconds into the window; `note` takes, for an instance fault, how soon the balancer
   * stopped sending to the dead instance (ms after the kill, or null: not within the bound).
   */
  schedule(
    f: Fault,
    ctx: FaultContext,
    at: (seconds: number, action: () => Promise<void>) => void,
    note: (routedAwayMs: Promise<number | null>) => void,
  ): void
  /** What the fault does, in words. */
  words: string
}

const FAULT_KINDS = {
  'pause-store': {
    target: 'store',
    schedule: (f, { store: s }, at) => {
      at(f.atSeconds, () => s!.pause())
      at(f.atSeconds + f.durationSeconds!, () => s!.resume())
    },
    words: 'the store paused (SIGSTOP): connections stay open, nothing answers',
  },
  'kill-store': {
    target: 'store',
    schedule: (f, { store: s }, at) => {
      at(f.atSeconds, () => s!.kill())
      if (f.durationSeconds !== undefined) at(f.atSeconds + f.durationSeconds, () => s!.ensureUp())
    },
    words: "the store killed (SIGKILL), started again empty after the duration or at the window's end",
  },
  'restart-store': {
    target: 'store',
    schedule: (f, { store: s }, at) => {
      if (f.durationSeconds === undefined) return at(f.atSeconds, () => s!.restart())
      at(f.atSeconds, () => s!.kill())
      at(f.atSeconds + f.durationSeconds, () => s!.ensureUp())
    },
    words: 'the store stopped and started again without persistence: every session, refresh token and denylist entry gone',
  },
  'flush-store': {
    target: 'store',
    schedule: (f, { store: s }, at) => at(f.atSeconds, () => s!.flush()),
    words: 'every key dropped (FLUSHALL)',
  },
  'kill-instance': {
    target: 'instance',
    schedule: (f, { instances }, at, note) => {
      at(f.atSeconds, async () => note((await instances!.kill(0)).routedAwayMs))
      at(f.atSeconds + f.durationSeconds!, () => instances!.start(0))
    },
    words:
      'the first app instance killed (SIGKILL) behind HAProxy, whose health checks (every 500 ms, out after 2 failures) stop ' +
      'sending to it; started again with the same flags, port and store after the duration, back in after one passed check',
  },
  'partition-store': {
    target: 'link',
    schedule: (f, { link }, at) => {
      at(f.atSeconds, () => link!.cut())
      at(f.atSeconds + f.durationSeconds!, () => link!.heal())
    },
    words:
      "the store host's link down (its veth's bridge end): nothing reaches the store or leaves it, no connection is refused or " +
      'reset, requests wait for the servers to give up on the store; up again after the duration',
  },
} satisfies Record<FaultAction, FaultKind>

const APPLIES = {
  store: (plan) => plan.store !== null && storeDescriptors[plan.store].supports.faults,
  instance: (plan) => plan.instances >= 2 && balancerOf(plan).fronts,
  // A store in the servers' own processes has no link of its own to lose.
  link: (plan) => plan.store !== null && storeDescriptors[plan.store].placement !== 'in-process',
} satisfies Record<FaultTarget, (plan: Pick<CellPlan, 'store' | 'instances' | 'balancer'>) => boolean>

/**
 * The scenario's faults that act on the cell, in the scenario's order, or null when none does: a store fault on a store that
 * can take faults, an instance fault on 2 or more instances behind a balancer (the scenario contract refuses a kill-instance
 * on any other cell), a partition on a store that is not in the servers' own processes. A scenario may hold several kinds:
 * a cell takes those that apply to it (a kill-instance, not a partition, on a per-process memory store).
 */
export function faultsFor(
  plan: Pick<CellPlan, 'store' | 'instances' | 'balancer'>,
  faults: Scenario['faults'],
): NonNullable<Scenario['faults']> | null {
  const mine = (faults ?? []).filter((f) => APPLIES[FAULT_KINDS[f.action].target](plan))
  return mine.length ? mine : null
}

/** Whether any of the scenario's faults acts on the target: the store, the instances, or the store host's link. */
export const faultsTarget = (faults: NonNullable<Scenario['faults']>, target: FaultTarget) =>
  faults.some((f) => FAULT_KINDS[f.action].target === target)

/** The scenario's faults and what they act on. */
export interface FaultPlan extends FaultContext {
  faults: NonNullable<Scenario['faults']>
}

/**
 * Runs each fault's actions at their seconds into the window; `stop` cancels what is left, brings the store host's link, the
 * store and the instances back up, and resolves with each fault's `routedAwayMs` (in the scenario's order; null: not an instance fault).
 */
export function injector(plan: FaultPlan): { start(): void; stop(): Promise<(number | null)[]> } {
  const noted: (Promise<number | null> | null)[] = plan.faults.map(() => null)
  const timers: NodeJS.Timeout[] = []
  let chain: Promise<void> = Promise.resolve()
  const at = (seconds: number, action: () => Promise<void>) => {
    timers.push(
      setTimeout(() => {
        chain = chain.then(action, action)
      }, seconds * 1000),
    )
  }
  return {
    start() {
      for (const [i, f] of plan.faults.entries())
        FAULT_KINDS[f.action].schedule(f, plan, at, (ms) => {
          noted[i] = ms
        })
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      await chain.catch(() => {})
      await plan.link?.heal()
      await plan.store?.ensureUp()
      await plan.instances?.ensureUp()
      return Promise.all(noted)
    },
  }
}
