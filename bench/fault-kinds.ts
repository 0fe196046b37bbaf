// Fault kinds, one table: what each does to a store the harness runs (the provisioners implement
// StoreFaults), and how the report names it. The scenario contract validates each kind's duration.
import type { FaultAction, Scenario } from './contracts/scenario.ts'
import type { StoreFaults } from './stores/run/index.ts'

type Fault = NonNullable<Scenario['faults']>[number]

interface FaultKind {
  /** Schedules the store's actions for this fault, at seconds into the window. */
  schedule(f: Fault, store: StoreFaults, at: (seconds: number, action: () => Promise<void>) => void): void
  /** What the fault does, in words. */
  words: string
}

const FAULT_KINDS = {
  'pause-store': {
    schedule: (f, s, at) => {
      at(f.atSeconds, () => s.pause())
      at(f.atSeconds + f.durationSeconds!, () => s.resume())
    },
    words: 'the store paused (SIGSTOP): connections stay open, nothing answers',
  },
  'kill-store': {
    schedule: (f, s, at) => {
      at(f.atSeconds, () => s.kill())
      if (f.durationSeconds !== undefined) at(f.atSeconds + f.durationSeconds, () => s.ensureUp())
    },
    words: "the store killed (SIGKILL), started again empty after the duration or at the window's end",
  },
  'restart-store': {
    schedule: (f, s, at) => {
      if (f.durationSeconds === undefined) return at(f.atSeconds, () => s.restart())
      at(f.atSeconds, () => s.kill())
      at(f.atSeconds + f.durationSeconds, () => s.ensureUp())
    },
    words: 'the store stopped and started again without persistence: every session, refresh token and denylist entry gone',
  },
  'flush-store': {
    schedule: (f, s, at) => at(f.atSeconds, () => s.flush()),
    words: 'every key dropped (FLUSHALL)',
  },
} satisfies Record<FaultAction, FaultKind>

/** The scenario's faults and the store they act on. */
export interface FaultPlan {
  faults: NonNullable<Scenario['faults']>
  store: StoreFaults
}

/** Runs each fault's actions at their seconds into the window; `stop` cancels what is left and brings the store back up. */
export function injector(plan: FaultPlan): { start(): void; stop(): Promise<void> } {
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
      for (const f of plan.faults) FAULT_KINDS[f.action].schedule(f, plan.store, at)
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      await chain.catch(() => {})
      await plan.store.ensureUp()
    },
  }
}
