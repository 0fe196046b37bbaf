// The closed-loop figures of a cell, shared by the closed loop and the open loop's capacity
// windows: each window's ratios to the baseline windows that bracket it, and the rounds' summary.
import type { RunEvent } from '../contracts/events.ts'
import type { RoundResult } from '../contracts/results.ts'
import { bracketSpread } from '../noise.ts'
import { ratio } from '../stats.ts'
import { summarizeRounds } from '../summarize.ts'
import type { CellRecord } from './descriptor.ts'

/** Seconds to start, verify, count-check and log in a cell (about 7 s per cell in the default runs here), for the ETA. */
export const PREPARE_SECONDS_ESTIMATE = 7

type Measured = Extract<RunEvent, { type: 'round-measured' }>

/**
 * The rounds of a cell as reported: for the baseline every one of its windows (ratio 1); for any
 * other cell its last window of each round (earlier ones were measured again because their
 * brackets disagreed), with its ratios to the mean of the valid baseline windows just before and
 * after it. A ratio is never taken against a baseline window that was not a valid measurement.
 */
function withRatios(mine: Measured[], baseWindows: Measured[], repeated: (round: number) => number, isBaseline: boolean): RoundResult[] {
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
