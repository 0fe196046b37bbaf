// A finding as data (docs/contracts.md, "findings.json"): its type, the paired comparison it rests
// on, its scope, and the words the sentences share. Every workload's findings are built from these.
import type { CellResult, ResultsFile, RoundResult } from '../contracts/results.ts'
import type { WorkloadKind } from '../contracts/scenario.ts'
import type { Line } from '../page/kit.ts'
import { median, medianCi95, medianIntervalCoverage } from '../stats.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import { percent, times } from '../format.ts'

/** Two costs whose paired ratio stays within this share of 1 are "about the same". */
export const EQUIVALENCE = 0.05
/** Fewer rounds than this give no interval worth a comparison. */
export const MIN_ROUNDS_FOR_FINDING = 3
export const FINDINGS_SCHEMA_VERSION = 1

/** Where and how what a finding rests on was measured. */
export interface Scope {
  /** Where the store the finding is about ran: none, inside the server's process, another process on this machine, behind an
   * added distance, or a remote target. */
  store: 'none' | 'in-process' | 'same-host' | 'distance' | 'remote'
  storeRttMs: number | null
  instances: number
  route: string
  /** The loop the finding's windows were driven by (the open loop's capacity windows are closed-loop windows). */
  loop: WorkloadKind
}

type Verdict = 'ahead' | 'indistinguishable' | 'fact'

export interface Finding {
  id: string
  kind: string
  sentence: string
  cells: string[]
  figures: Record<string, number | string | null>
  /** The figures in words, as the page shows them under the sentence. */
  detail: string
  ratio: number | null
  interval: [number, number] | null
  coverage: number | null
  /** `ahead` only where the paired interval excludes [1/1.05, 1.05]; `fact` for counted things. */
  verdict: Verdict
  scope: Scope
}

export interface AnswerLine {
  question: 'cpu' | 'store-load' | 'bytes' | 'latency' | 'logout' | 'instances' | string
  /** The question as a team asks it. */
  asked: string
  sentence: string
  findings: string[]
}

export interface NotMeasured {
  what: string
  why: string
  command: string
}

export interface FindingsFile {
  schemaVersion: typeof FINDINGS_SCHEMA_VERSION
  answer: AnswerLine[]
  findings: Finding[]
  notMeasured: NotMeasured[]
}

/**
 * Cell a's cost over cell b's, round by round: each cell's ratio to the baseline windows around
 * it, divided, so the machine's drift cancels; then the median and the order-statistic interval
 * of those per-round ratios. With `store`, the store process's CPU is added on each side.
 */
export interface PairedRatio {
  median: number
  interval: [number, number]
  coverage: number
  rounds: number
  verdict: 'higher' | 'lower' | 'same' | 'unclear'
}

export const bandVerdict = (values: number[]): PairedRatio => {
  const interval = medianCi95(values)
  const verdict =
    values.length < MIN_ROUNDS_FOR_FINDING
      ? 'unclear'
      : interval[0] > 1 + EQUIVALENCE
        ? 'higher'
        : interval[1] < 1 / (1 + EQUIVALENCE)
          ? 'lower'
          : interval[0] >= 1 / (1 + EQUIVALENCE) && interval[1] <= 1 + EQUIVALENCE
            ? 'same'
            : 'unclear'
  return { median: median(values), interval, coverage: medianIntervalCoverage(values.length), rounds: values.length, verdict }
}

/** A round's ratio to its bracket, the store process's CPU included when asked (the baseline has none). */
const roundRatio = (r: RoundResult, store: boolean): number | null => {
  const cpu = r.ratioToBaseline?.cpu
  if (!cpu) return null
  return store && r.storeCpuUsPerRequest !== null ? (cpu * (r.cpuUsPerRequest + r.storeCpuUsPerRequest)) / r.cpuUsPerRequest : cpu
}

export function pairedRatio(a: CellResult, b: CellResult, opts: { store?: boolean } = {}): PairedRatio | null {
  const perRound: number[] = []
  for (const ra of a.rounds) {
    const rb = b.rounds.find((r) => r.round === ra.round)
    const x = roundRatio(ra, opts.store ?? false)
    const y = rb ? roundRatio(rb, opts.store ?? false) : null
    if (x !== null && y !== null) perRound.push(x / y)
  }
  return perRound.length ? bandVerdict(perRound) : null
}

export const describePair = (p: PairedRatio) =>
  `paired per-round ratio ${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])} over ${p.rounds} round${
    p.rounds === 1 ? '' : 's'
  } (coverage ${percent(p.coverage)})`

export function label(c: CellResult): string {
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  return `${descriptorOf(c).label.cell(c)}${n}`
}
export const capitalized = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`
export const list = (xs: string[]) => (xs.length <= 2 ? xs.join(' and ') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`)

/** Whether the run's requests present the credential (GET routes); a login presents a password and holds none yet. */
export const presentsCredential = (r: ResultsFile) => r.scenario.workload.route.startsWith('GET')

/** Where a cell's store ran. */
export function storeScope(c: CellResult): Scope['store'] {
  if (c.store === null || descriptorOf(c).state === 'none') return 'none'
  if (c.storeRttMs) return 'distance'
  return storeDescriptors[c.store].placement
}

/** Where a scope's store ran, in words. */
export const WHERE: Record<Scope['store'], string> = {
  none: 'no store',
  'in-process': "store in the server's own process",
  'same-host': 'store in another process on this machine, over a socket',
  distance: 'store behind an added network round trip',
  remote: 'store on a remote host',
}

export function scopeOf(c: CellResult, loop: Scope['loop']): Scope {
  const store = storeScope(c)
  return { store, storeRttMs: store === 'none' ? null : (c.storeRttMs ?? 0), instances: c.instances, route: c.workload, loop }
}

/** Lines the lifecycle, fault and distance sections compute, as facts of the run. */
export function fromLines(results: ResultsFile, kind: string, lines: Line[], loop: Scope['loop']): Finding[] {
  return lines.map((l, i) => {
    // A cell named as a whole id: "session-redis" is not named by "session-redis-rtt1ms".
    const names = (c: CellResult) =>
      new RegExp(`(^|[^\\w-])${c.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-]*\\w)`).test(`${l.text} ${l.figures}`)
    const cells = results.cells.filter(names)
    const first = cells[0]
    return {
      id: `${kind}-${i + 1}`,
      kind,
      sentence: l.text,
      cells: cells.map((c) => c.id),
      figures: {},
      detail: l.figures,
      ratio: null,
      interval: null,
      coverage: null,
      verdict: 'fact',
      scope: first ? scopeOf(first, loop) : { store: 'none', storeRttMs: null, instances: 1, route: results.scenario.workload.route, loop },
    }
  })
}

export function okCells(results: ResultsFile): CellResult[] {
  return results.cells.filter((c) => c.status === 'ok' && c.summary)
}
