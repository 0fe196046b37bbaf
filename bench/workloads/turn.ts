// What one round of any workload works with: the run's options, the cells still active, their
// running servers, and the two steps every workload shares (a cell's closed-loop window, and
// retiring a cell's servers).
import { VerificationError } from '../contracts/errors.ts'
import type { StoreKind } from '../../servers/types.ts'
import { checkRound } from '../check.ts'
import { measureRound } from '../collect.ts'
import type { Driver } from '../drive/closed.ts'
import type { RunListener } from '../contracts/events.ts'
import type { CellPlan } from '../contracts/plan.ts'
import type { RoundMeasurement } from '../contracts/results.ts'
import type { Scenario } from '../contracts/scenario.ts'
import type { ProcessGroup } from '../processes.ts'
import type { Fleet } from '../remote/fleet.ts'
import type { OpenDriver } from '../drive/open.ts'
import { prepareCell, type CellRuntime, type PrepareOptions } from '../verify.ts'

export interface RunOptions {
  scenario: Scenario
  file: string
  smoke: boolean
  /** Stores the user runs, by kind (`--redis-url`); the others are started privately when a cell needs them. */
  storeUrls: Partial<Record<StoreKind, string>>
  group: ProcessGroup
  signal: AbortSignal
  listeners: RunListener[]
  /** Pin the harness (load generator, Redis) and the servers to separate CPUs. Default true. */
  pin?: boolean
  /** The load driver (tests give a scripted one); autocannon by default. */
  driver?: Driver
  /** The open-loop driver: several processes' merged (load.drivers, a namespace topology); the harness's own by default. */
  openDriver?: OpenDriver
  /** Seed of the per-round shuffle of the cell order; random (and recorded) when absent. */
  seed?: number
  /** Remote mode (`--targets`): servers the harness did not start, and the store they share. */
  targets?: Fleet | null
}

/** What a workload's round is handed. */
export interface TurnContext {
  opts: RunOptions
  scenario: Scenario
  emit: RunListener
  runtimes: Map<string, CellRuntime>
  active: Set<string>
  /** Every cell of the run, and the baseline. */
  plans: CellPlan[]
  baseline: CellPlan
  random: () => number
  prepare(plan: CellPlan): PrepareOptions
  /** Adaptive rounds: when set, a round measures only these cells (and the baseline around them). */
  only?: Set<string> | null
}

/** Stops a cell's servers (and its delay proxy, after reporting what the proxy forwarded and what it cost). */
export async function retire(id: string, runtimes: Map<string, CellRuntime>, emit: RunListener): Promise<void> {
  const rt = runtimes.get(id)
  if (!rt) return
  runtimes.delete(id)
  const proxy = await rt.proxyStats().catch(() => null)
  if (proxy) emit({ type: 'proxy-measured', cell: id, cpuUs: proxy.cpuUs, forwarded: proxy.forwarded })
  await rt.close()
}

/**
 * One window of a cell: prepared before its first window, then one measured, checked window (of the
 * scenario's length, or `durationSeconds` when given).
 * Returns the measurement, or null when the cell ends here (invalid or failed) or the run was interrupted.
 */
export async function cellWindow(
  plan: CellPlan,
  round: number,
  slot: number,
  ctx: TurnContext,
  durationSeconds?: number,
): Promise<RoundMeasurement | null> {
  const { opts, scenario, emit, runtimes } = ctx
  let rt = runtimes.get(plan.id)
  emit({ type: 'round-started', cell: plan.id, round, slot, prepare: !rt })
  try {
    const warmup = !rt
    if (!rt) {
      rt = await prepareCell(plan, ctx.prepare(plan))
      runtimes.set(plan.id, rt)
      emit({ type: 'cell-prepared', cell: plan.id, credential: rt.credential, revocationProbe: rt.revocationProbe, storeRtt: rt.storeRtt })
    }
    const load = durationSeconds === undefined ? scenario.load : { ...scenario.load, durationSeconds }
    const measurement = await measureRound(rt, { round, slot, warmup }, load, opts.signal, opts.driver)
    if (opts.signal.aborted) return null
    const problem = checkRound(measurement, rt.expected, rt.expected401Share, rt.renewalBound, rt.readBound)
    emit({ type: 'round-measured', cell: plan.id, round, slot, measurement, problem })
    if (problem === null) return measurement
    emit({ type: 'cell-invalid', cell: plan.id, round, status: 'invalid', reason: problem })
  } catch (err) {
    if (opts.signal.aborted) return null
    emit({
      type: 'cell-invalid',
      cell: plan.id,
      round,
      status: err instanceof VerificationError ? 'invalid' : 'failed',
      reason: (err as Error).message,
    })
  }
  ctx.active.delete(plan.id)
  await retire(plan.id, runtimes, emit)
  return null
}
