// Comparisons by instructions per request (scenario `measure.instructions`): the count the host's
// speed does not move, so a difference of a few percent decides where CPU time's rounds could not.
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { num, times } from '../format.ts'
import { descriptorOf } from '../strategies/index.ts'
import { EFFECTS, EQUIVALENCE, type Finding, label, okCells, sameRuntime, scopeOf, WHERE } from './verdict.ts'

/**
 * How far two separate starts of one cell's lowest batch may disagree: measured on every default
 * cell (docs/measured.md, "Instructions per request", 2026-12-07): within 0.8% for seven cells and
 * 1.4% for session-redis, whose batches were steady; a cell whose own batches spread wider is as
 * uncertain as they are (session-postgres: 195k and 411k in one start).
 */
const INSTRUCTION_START_SPREAD = 0.015

/**
 * A cell's count and its uncertainty. The figure is its lowest counted batch: a batch either holds a
 * late recompile of some function by V8 (millions of instructions once, not per request) or does not,
 * and two starts' lowest batches agree where their means did not (none: 71,345 and 71,347 against
 * means 21% apart). The uncertainty is the larger of the start-to-start bound and its batches' spread.
 */
export function countOf(c: CellResult): { mean: number; spread: number } | null {
  const i = c.summary?.instructionsPerRequest
  if (!i || !(i.low > 0)) return null
  return { mean: i.low, spread: Math.max(INSTRUCTION_START_SPREAD, (i.high - i.low) / i.low) }
}

const LOW = 1 / (1 + EQUIVALENCE)
const HIGH = 1 + EQUIVALENCE

/** a's instructions over b's, the interval widened by both counts' uncertainty, and where it lies against the band. */
function instructionRatio(a: CellResult, b: CellResult) {
  const x = countOf(a)
  const y = countOf(b)
  if (!x || !y) return null
  const ratio = x.mean / y.mean
  const widen = (1 + x.spread) * (1 + y.spread)
  const interval: [number, number] = [ratio / widen, ratio * widen]
  const verdict: Finding['verdict'] =
    interval[0] > HIGH || interval[1] < LOW ? 'ahead' : interval[0] >= LOW && interval[1] <= HIGH ? 'equal' : 'unresolved'
  return { ratio, interval, verdict, a: x, b: y }
}

const what = (c: CellResult, others: CellResult[]) =>
  `${label(c)}${others.some((o) => o.store !== c.store) && descriptorOf(c).state === 'server' ? ` (${WHERE[scopeOf(c, 'closed').store]})` : ''}`

/**
 * Each token or sealed cookie against each session, sessions of one strategy across stores, and tokens of one library
 * across algorithms, by the servers' own instructions per request. The store process's work is not in the count: a
 * session whose store runs apart is compared by its server's share alone, and the sentence says so.
 */
export function instructionFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results).filter((c) => c.instances === 1 && countOf(c))
  const servers = ok.filter((c) => descriptorOf(c).state === 'server')
  const clients = ok.filter((c) => descriptorOf(c).state === 'client')
  const apart = (c: CellResult) => descriptorOf(c).state === 'server' && scopeOf(c, 'closed').store !== 'in-process'
  const pairs: [string, CellResult, CellResult][] = [
    ...servers.flatMap((s) =>
      clients.filter((j) => sameRuntime(j, s)).map((j) => ['instructions', j, s] as [string, CellResult, CellResult]),
    ),
    ...EFFECTS.flatMap((e) => {
      const side = e.side === 'server' ? servers : clients
      return side.flatMap((s, i) =>
        side
          .slice(i + 1)
          .filter((t) => e.isolates(s, t))
          .map((t) => [`instructions-${e.name}`, ...ordered(s, t)] as [string, CellResult, CellResult]),
      )
    }),
  ]
  const out: Finding[] = []
  for (const [kind, a, b] of pairs) {
    const r = instructionRatio(a, b)
    if (!r) continue
    const both = [a, b]
    const missing = both.filter(apart)
    const storeWords = missing.length
      ? `; the server's own work only: ${missing.map((c) => `${c.store}'s process`).join(' and ')} not counted`
      : ''
    const figures = `${times(r.ratio)}, interval ${times(r.interval[0])}–${times(r.interval[1])}`
    const sentence =
      r.verdict === 'ahead'
        ? `On ${a.workload}, ${what(a, both)} took ${times(r.ratio)} the instructions per request of ${what(b, both)} ` +
          `(interval ${times(r.interval[0])}–${times(r.interval[1])}${storeWords}).`
        : r.verdict === 'equal'
          ? `On ${a.workload}, ${what(a, both)} and ${what(b, both)} took the same instructions per request within ` +
            `${EQUIVALENCE * 100}% (${figures}${storeWords}).`
          : `On ${a.workload}, the counts of ${what(a, both)} and ${what(b, both)} lie too near a ${EQUIVALENCE * 100}% edge to ` +
            `call either ahead or the two equal (${figures}${storeWords}).`
    out.push({
      id: `${kind}-${a.id}-vs-${b.id}`,
      kind,
      sentence,
      cells: [a.id, b.id],
      figures: { [`${a.id}.instructions`]: r.a.mean, [`${b.id}.instructions`]: r.b.mean },
      detail:
        `instructions per request (each cell's lowest counted batch) ${a.id} ${num(r.a.mean, 0)}, ${b.id} ${num(r.b.mean, 0)}; ` +
        `interval: the ratio widened by each count's uncertainty (the larger of ${INSTRUCTION_START_SPREAD * 100}%, how far two ` +
        `starts' lowest batches disagreed here, and its batches' ` +
        `spread: ${num(r.a.spread * 100, 2)}% and ${num(r.b.spread * 100, 2)}%)`,
      ratio: r.ratio,
      interval: r.interval,
      coverage: null,
      method: 'count-spread',
      metric: 'instructions',
      verdict: r.verdict,
      scope: scopeOf(b, 'closed'),
    })
  }
  return out
}

/** The dearer of two cells first, by instructions. */
function ordered(a: CellResult, b: CellResult): [CellResult, CellResult] {
  return (countOf(a)?.mean ?? 0) >= (countOf(b)?.mean ?? 0) ? [a, b] : [b, a]
}
