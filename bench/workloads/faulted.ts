// The scenario's faults as a cell takes them, for every workload that injects them (the lifecycle, the open loop): the store's
// own fault actions and the store host's link, or why the cell cannot take them.
import type { CellPlan } from '../contracts/plan.ts'
import type { Scenario } from '../contracts/scenario.ts'
import { faultsFor, faultsTarget, type FaultPlan } from '../fault-kinds.ts'
import type { TurnContext } from './turn.ts'

/** What a cell's windows inject (its instances come once it is prepared), or null: no fault applies to it. */
type CellFaults = Omit<FaultPlan, 'instances'> | null

/** The faults that act on the cell, with the store and link they act on; `{ skip }`: a reason it cannot take them. */
export function cellFaults(plan: CellPlan, ctx: Pick<TurnContext, 'scenario' | 'prepare'>): { faults: CellFaults } | { skip: string } {
  const faulted = faultsFor(plan, ctx.scenario.faults)
  if (!faulted) return { faults: null }
  const store = faultsTarget(faulted, 'store') ? (ctx.prepare(plan).store?.faults ?? null) : null
  // A partition takes the store host's link down: only a store placed on a host of a namespace topology has one.
  const hosted = ctx.prepare(plan).placement?.storeLink() ?? null
  if (faultsTarget(faulted, 'store') && !store)
    return {
      skip: hosted
        ? 'pause-store, kill-store, restart-store and flush-store act on a store the harness starts on loopback; this run ' +
          'placed the store on a host of its own (a namespace topology), which they do not reach (partition-store cuts its link)'
        : 'faults act only on the private redis-server the harness starts; this run uses a Redis given with --redis-url, which ' +
          'it will not pause, kill or flush',
    }
  const link = faultsTarget(faulted, 'link') ? hosted : null
  if (faultsTarget(faulted, 'link') && !link)
    return {
      skip:
        "partition-store takes the store host's link down; this run placed no store on a host of its own (the namespace " +
        'topology could not be made here, or the store was given with its URL)',
    }
  return { faults: { faults: faulted, store, link } }
}

/** A fault at its place in a window `scale` times as long (a smoke run's). */
export const scaledFault = (f: NonNullable<Scenario['faults']>[number], scale: number): NonNullable<Scenario['faults']>[number] => ({
  ...f,
  atSeconds: f.atSeconds * scale,
  ...(f.durationSeconds === undefined ? {} : { durationSeconds: f.durationSeconds * scale }),
})
