// The closed loop (autocannon, `connections` in flight): every cell's window between two windows of
// the baseline, the bracket that cancels the host's drift.
import type { Scenario } from '../contracts/scenario.ts'
import { bracketSpread, MAX_REPEATS, repeatReason, windowsPerRound } from '../noise.ts'
import { shuffled } from '../stats.ts'
import { lifecycleOnlyAxes } from './checks.ts'
import { closedFigures, PREPARE_SECONDS_ESTIMATE } from './closed-figures.ts'
import type { WorkloadDescriptor } from './descriptor.ts'
import { cellWindow, type TurnContext } from './turn.ts'

/**
 * One round: the cells in a shuffled order, each between two baseline windows (B X B Y B ...);
 * a cell whose two brackets disagree is measured again with a fresh bracket, a bounded number of times.
 */
async function runRound(round: number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, plans, baseline, random } = ctx
  const order = shuffled(
    plans.filter((p) => p.id !== baseline.id && active.has(p.id) && (!ctx.only || ctx.only.has(p.id))),
    random,
  )
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  let slot = 0
  const live = () => !opts.signal.aborted
  let left = active.has(baseline.id) ? await cellWindow(baseline, round, slot++, ctx) : null
  for (const plan of order) {
    for (let repeats = 0; live() && active.has(plan.id); repeats++) {
      const measured = await cellWindow(plan, round, slot++, ctx)
      if (!measured || !left || !live()) break
      const right = await cellWindow(baseline, round, slot++, ctx)
      if (!right) {
        left = null
        break
      }
      const spread = bracketSpread(left.cpuUsPerRequest, right.cpuUsPerRequest)
      left = right
      const reason = repeatReason(spread)
      // A smoke run checks the output's shape, not its figures: no window is measured again.
      if (!reason || repeats >= (opts.smoke ? 0 : MAX_REPEATS)) break
      emit({ type: 'window-repeated', cell: plan.id, round, slot: slot - 2, spread, reason })
    }
    if (!live()) return
  }
}

export const closedWorkload: WorkloadDescriptor = {
  kind: 'closed',
  smoke: (s: Scenario) => s,
  checkCell: lifecycleOnlyAxes,
  runRound,
  reduce: (cell) => ({ ...closedFigures(cell), openLoop: null, lifecycle: null, timeline: null, recovery: null }),
  bracketed: true,
  progress: {
    windowsPerRound: (active, baseline) => windowsPerRound(active.filter((id) => id !== baseline).length, active.includes(baseline)),
    windowSeconds: (s) => s.load.durationSeconds + 0.6,
    prepareSeconds: (s) => PREPARE_SECONDS_ESTIMATE + s.load.warmupSeconds,
    describe: (s, _cells, perRound, baseline, seed) =>
      `${perRound} windows of ${s.load.durationSeconds}s a round (each cell between two ${baseline} windows, order shuffled with ` +
      `seed ${seed}), ${s.workload.users} users`,
  },
}
