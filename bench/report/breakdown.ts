import { descriptorOf } from '../strategies/index.ts'
import type { CellResult, MicroTaskResult, ResultsFile } from '../contracts/results.ts'

interface CostPart {
  label: string
  /** The micro-benchmark task the figure comes from; null for the measured baseline cell. */
  task: string | null
  us: number
}

/** A cell's measured CPU per request next to the sum of its parts, the remainder shown. */
export interface CellBreakdown {
  id: string
  measuredUs: number
  /** The cell's overhead over the baseline (`summary.overheadUs`: against the bracketing baseline windows), the one figure the page uses. */
  overheadUs: number | null
  parts: CostPart[]
  explainedUs: number
  remainderUs: number
  /** Remainder (overhead minus the strategy's parts) as a share of the overhead (null for the baseline itself). */
  remainderShareOfOverhead: number | null
  /** The remainder is large enough to be a finding about the implementation. */
  large: boolean
  /** Why there is no breakdown (missing micro task, login workload...), else null. */
  missing: string | null
}

/** A remainder above this share of the overhead and above LARGE_REMAINDER_MIN_US even at the low end of the overhead's interval is called out. */
export const LARGE_REMAINDER_SHARE = 0.5
export const LARGE_REMAINDER_MIN_US = 5

function partsFor(c: CellResult): { label: string; task: string }[] | string {
  if (c.workload === 'POST /login')
    return 'no breakdown for POST /login: the password hash dominates and store writes are not micro-benchmarked'
  return descriptorOf(c).breakdown(c)
}

/**
 * Explains each cell: the framework baseline (the baseline cell's measured CPU per request on the
 * same workload, so a /profile users read is in it), plus the primitives the strategy adds.
 */
export function costBreakdown(results: ResultsFile): CellBreakdown[] {
  const micro = results.micro
  if (!micro) return []
  const byId = new Map<string, MicroTaskResult>(micro.tasks.map((t) => [t.id, t]))
  const base = results.cells.find((c) => c.id === results.scenario.baseline)
  const baseUs = base?.status === 'ok' ? (base.summary?.cpuUsPerRequest.median ?? null) : null
  const out: CellBreakdown[] = []
  for (const c of results.cells) {
    if (c.status !== 'ok' || !c.summary) continue
    const measuredUs = c.summary.cpuUsPerRequest.median
    const empty = {
      id: c.id,
      measuredUs,
      overheadUs: null,
      parts: [],
      explainedUs: 0,
      remainderUs: 0,
      remainderShareOfOverhead: null,
      large: false,
    }
    const wanted = partsFor(c)
    if (typeof wanted === 'string') {
      out.push({ ...empty, missing: wanted })
      continue
    }
    if (baseUs === null) {
      out.push({ ...empty, missing: 'the baseline cell has no figures' })
      continue
    }
    const missingTasks = wanted.filter((w) => byId.get(w.task)?.status !== 'ok').map((w) => w.task)
    if (missingTasks.length) {
      out.push({ ...empty, missing: `micro-benchmark missing or skipped: ${missingTasks.join(', ')}` })
      continue
    }
    const parts: CostPart[] = [
      { label: `framework baseline (${base!.id})`, task: null, us: baseUs },
      // CPU per operation, not wall time: jose and Redis wait on other threads or processes.
      ...wanted.map((w) => ({ label: w.label, task: w.task, us: byId.get(w.task)!.cpuUs ?? byId.get(w.task)!.meanUs! })),
    ]
    const explainedUs = parts.reduce((n, p) => n + p.us, 0)
    const overheadUs = c.summary.overheadUs?.median ?? null
    if (overheadUs === null) {
      out.push({ ...empty, missing: 'no round of this cell was bracketed by valid baseline windows' })
      continue
    }
    const remainderUs = overheadUs - (explainedUs - baseUs)
    const share = c.id === base!.id || overheadUs <= 0 ? null : remainderUs / overheadUs
    out.push({
      id: c.id,
      measuredUs,
      overheadUs,
      parts,
      explainedUs,
      remainderUs,
      remainderShareOfOverhead: share,
      large:
        share !== null &&
        share > LARGE_REMAINDER_SHARE &&
        remainderUs > LARGE_REMAINDER_MIN_US &&
        (c.summary.overheadUs?.ci95[0] ?? overheadUs) - (explainedUs - baseUs) > LARGE_REMAINDER_MIN_US,
      missing: null,
    })
  }
  return out
}
