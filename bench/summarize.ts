import { median, medianCi95, medianIntervalCoverage } from './stats.ts'
import type { CellSummary, Interval, OpenLoopPoint, ResultsFile, RoundResult } from './contracts/results.ts'

const interval = (values: number[]): Interval => ({
  median: median(values),
  ci95: medianCi95(values),
  coverage: medianIntervalCoverage(values.length),
})

function medianOrNull(values: (number | null | undefined)[]): number | null {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  return present.length ? median(present) : null
}

/**
 * The one figure for "what this cell costs over the baseline": per round, its CPU per request less
 * the mean of the two baseline windows around it (the bracket), so drift slower than a window
 * cancels; the median and interval over the rounds. 0 for the baseline itself, null without a
 * bracketed round. The table, the findings, the charts and the breakdown all read this one.
 */
function overheadOf(rounds: RoundResult[]): Interval | null {
  const diffs = rounds.flatMap((r) => (r.bracket ? [r.cpuUsPerRequest - (r.bracket.beforeCpuUs + r.bracket.afterCpuUs) / 2] : []))
  if (diffs.length) return interval(diffs)
  return rounds.every((r) => r.bracket === null && r.ratioToBaseline?.cpu === 1) ? interval([0]) : null
}

/** Summarizes a cell's rounds: medians with their order-statistic intervals (and coverage), exact op counts over every round. */
export function summarizeRounds(rounds: RoundResult[]): CellSummary | null {
  if (rounds.length === 0) return null
  const col = <T>(pick: (r: RoundResult) => T) => rounds.map(pick)
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const weighted = (pick: (r: RoundResult) => number) =>
    requests === 0 ? 0 : rounds.reduce((n, r) => n + pick(r) * r.requests, 0) / requests
  return {
    rps: interval(col((r) => r.rps)),
    latencyMs: {
      p50: median(col((r) => r.latencyMs.p50)),
      p90: median(col((r) => r.latencyMs.p90)),
      p99: median(col((r) => r.latencyMs.p99)),
      max: Math.max(...col((r) => r.latencyMs.max)),
    },
    serverTimeUs: {
      p50: median(col((r) => r.serverTimeUs.p50)),
      p90: median(col((r) => r.serverTimeUs.p90)),
      p99: median(col((r) => r.serverTimeUs.p99)),
      max: Math.max(...col((r) => r.serverTimeUs.max)),
    },
    cpuUsPerRequest: interval(col((r) => r.cpuUsPerRequest)),
    storeCpuUsPerRequest: rounds.every((r) => r.storeCpuUsPerRequest !== null) ? interval(col((r) => r.storeCpuUsPerRequest!)) : null,
    totalCpuUsPerRequest: interval(col((r) => r.totalCpuUsPerRequest)),
    serverBusyShare: median(col((r) => r.serverBusyShare)),
    clientBoundRounds: rounds.filter((r) => r.clientBound).length,
    storeOpsPerRequest: {
      reads: weighted((r) => r.storeOpsPerRequest.reads),
      writes: weighted((r) => r.storeOpsPerRequest.writes),
      deletes: weighted((r) => r.storeOpsPerRequest.deletes),
    },
    bytesPerRequest: { request: median(col((r) => r.bytesPerRequest.request)), response: median(col((r) => r.bytesPerRequest.response)) },
    non2xx: col((r) => r.non2xx).reduce((a, b) => a + b, 0),
    errors: col((r) => r.errors + r.timeouts).reduce((a, b) => a + b, 0),
    status401Share: median(col((r) => r.status401Share)),
    rssBytes: Math.max(...col((r) => r.rssBytes)),
    overheadUs: overheadOf(rounds),
    ratioToBaseline: {
      rps: medianOrNull(col((r) => r.ratioToBaseline?.rps)),
      cpu: medianOrNull(col((r) => r.ratioToBaseline?.cpu)),
    },
  }
}

/** Above this max/min spread of the baseline's CPU per request across its windows, the run is called noisy. */
const NOISY_SPREAD = 1.25

/**
 * How much the machine itself moved during the run: the baseline cell does the same work in every
 * window, so the spread of its CPU per request across its windows measures the host's noise.
 */
export function hostNoise(
  results: ResultsFile,
): { minUs: number; maxUs: number; spread: number; noisy: boolean; message: string | null } | null {
  const base = results.cells.find((c) => c.id === results.scenario.baseline)
  const cpu = base?.rounds.map((r) => r.cpuUsPerRequest).filter((v) => v > 0) ?? []
  if (cpu.length < 2) return null
  const first = cpu[0]!
  const minUs = Math.min(...cpu)
  const maxUs = Math.max(...cpu)
  const spread = maxUs / minUs
  const noisy = spread > NOISY_SPREAD
  return {
    minUs,
    maxUs,
    spread,
    noisy,
    message: noisy
      ? `The machine was noisy during this run: the baseline (${base!.id}) served the same request in each of \
its ${cpu.length} windows yet its CPU per request ranged \
from ${minUs.toFixed(1)} to ${maxUs.toFixed(1)} µs (${spread.toFixed(2)}x${
          first === maxUs ? ', the highest in its first window, the coldest' : ''
        }). Absolute figures move with the machine. Each comparison below pairs two cells' windows round by round and gives \
its verdict from the interval of those per-round ratios: "unresolved" where the rounds did not agree enough to decide.`
      : null,
  }
}

/** An open-loop point's figures over its rounds: each the median of the rounds' (the longest latency their maximum). */
export function roundMedians(
  rounds: readonly OpenLoopPoint['rounds'][number][],
): Pick<OpenLoopPoint, 'latencyUs' | 'cpuUsPerRequest' | 'serverBusyShare'> {
  const med = (pick: (r: OpenLoopPoint['rounds'][number]) => number) => median(rounds.map(pick))
  return {
    latencyUs: {
      p50: med((r) => r.latencyUs.p50),
      p90: med((r) => r.latencyUs.p90),
      p99: med((r) => r.latencyUs.p99),
      p999: med((r) => r.latencyUs.p999),
      max: Math.max(...rounds.map((r) => r.latencyUs.max)),
    },
    cpuUsPerRequest: med((r) => r.cpuUsPerRequest),
    serverBusyShare: med((r) => r.serverBusyShare),
  }
}
