// The closed loop (autocannon, `connections` in flight): every cell's window between two windows of
// the baseline, the bracket that cancels the host's drift.
import type { RunEvent } from '../contracts/events.ts'
import type { RoundResult } from '../contracts/results.ts'
import type { Scenario } from '../contracts/scenario.ts'
import { bracketSpread, MAX_REPEATS, repeatReason, windowsPerRound } from '../noise.ts'
import { ratio, shuffled } from '../stats.ts'
import { summarizeRounds } from '../summarize.ts'
import { lifecycleOnlyAxes } from './checks.ts'
import type { CellRecord, WorkloadDescriptor } from './index.ts'
import { cellWindow, type TurnContext } from './turn.ts'

/** Seconds to start, verify, count-check and log in a cell (about 7 s per cell in the default runs here), for the ETA. */
export const PREPARE_SECONDS_ESTIMATE = 7

type Measured = Extract<RunEvent, { type: 'round-measured' }>

/**
 * The rounds of a cell as reported: for the baseline every one of its windows (ratio 1); for any
 * other cell its last window of each round (earlier ones were measured again because their
 * brackets disagreed), with its ratios to the mean of the valid baseline windows just before and
 * after it. A ratio is never taken against a baseline window that was not a valid measurement.
 */
export function withRatios(
  mine: Measured[],
  baseWindows: Measured[],
  repeated: (round: number) => number,
  isBaseline: boolean,
): RoundResult[] {
  if (isBaseline) {
    return mine.map(({ measurement: m, problem }) => ({
      ...m,
      ratioToBaseline: problem === null ? { rps: 1, cpu: 1 } : null,
      bracket: null,
    }))
  }
  const last = new Map<number, Measured>()
  for (const w of mine) last.set(w.round, w)
  const bracketOf = (round: number, slot: number) => {
    const at = (s: number) => baseWindows.find((b) => b.round === round && b.slot === s && b.problem === null)?.measurement
    const before = at(slot - 1)
    const after = at(slot + 1)
    return before && after ? { before, after, mean: (k: 'rps' | 'cpuUsPerRequest') => (before[k] + after[k]) / 2 } : null
  }
  return [...last.values()].map(({ measurement: m, round, slot }) => {
    const repeatedWindows = mine
      .filter((w) => w.round === round && w.slot < slot)
      .map((w) => {
        const b = bracketOf(round, w.slot)
        return {
          slot: w.slot,
          cpuUsPerRequest: w.measurement.cpuUsPerRequest,
          rps: w.measurement.rps,
          ratioCpu: b ? ratio(w.measurement.cpuUsPerRequest, b.mean('cpuUsPerRequest')) : null,
          bracketSpread: b ? bracketSpread(b.before.cpuUsPerRequest, b.after.cpuUsPerRequest) : null,
        }
      })
    const b = bracketOf(round, slot)
    if (!b) return { ...m, ratioToBaseline: null, bracket: null, repeatedWindows }
    return {
      ...m,
      ratioToBaseline: { rps: ratio(m.rps, b.mean('rps')), cpu: ratio(m.cpuUsPerRequest, b.mean('cpuUsPerRequest')) },
      bracket: {
        beforeCpuUs: b.before.cpuUsPerRequest,
        afterCpuUs: b.after.cpuUsPerRequest,
        spread: bracketSpread(b.before.cpuUsPerRequest, b.after.cpuUsPerRequest),
        repeats: repeated(round),
      },
      repeatedWindows,
    }
  })
}

/** The rounds and their summary, from a cell's closed-loop windows (shared with the open loop's capacity windows). */
export function closedFigures(cell: CellRecord): { rounds: RoundResult[]; summary: ReturnType<typeof summarizeRounds> } {
  const repeated = (round: number) => cell.events.filter((e) => e.type === 'window-repeated' && e.round === round).length
  const rounds = withRatios(
    cell.events.filter((e): e is Measured => e.type === 'round-measured'),
    cell.baseWindows,
    repeated,
    cell.isBaseline,
  )
  return { rounds, summary: summarizeRounds(rounds) }
}

/**
 * One round: the cells in a shuffled order, each between two baseline windows (B X B Y B ...);
 * a cell whose two brackets disagree is measured again with a fresh bracket, a bounded number of times.
 */
async function runRound(round: number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, plans, baseline, random } = ctx
  const order = shuffled(
    plans.filter((p) => p.id !== baseline.id && active.has(p.id)),
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
      `${perRound} windows of ${s.load.durationSeconds}s a round (each cell between two ${baseline} windows, order shuffled with seed ${seed}), ${s.workload.users} users`,
  },
}
