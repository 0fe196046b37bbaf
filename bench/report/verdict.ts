// A finding as data (docs/contracts.md, "findings.json"): its type, the paired comparison it rests
// on, its scope, and the words the sentences share. Every workload's findings are built from these.
import type { CellResult, ResultsFile, RoundResult } from '../contracts/results.ts'
import type { WorkloadKind } from '../contracts/scenario.ts'
import type { Line } from '../page/kit.ts'
import { median, medianInterval, medianIntervalCoverage } from '../stats.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import { percent, times } from '../format.ts'

/** Two costs whose paired ratio stays within this share of 1 are "about the same". */
export const EQUIVALENCE = 0.05
/** Fewer rounds than this give no interval worth a comparison. */
export const MIN_ROUNDS_FOR_FINDING = 3
export const FINDINGS_SCHEMA_VERSION = 2
/** The round counts an unresolved comparison is projected to (how many rounds would decide it at the spread it showed). */
const PROJECTED_ROUNDS = [10, 14, 20, 30, 50] as const

/** Where and how what a finding rests on was measured. */
export interface Scope {
  /** Where the store the finding is about ran: none, inside the server's process, another process on this machine, behind an
   * added distance, or a remote target. */
  store: 'none' | 'in-process' | 'same-host' | 'distance' | 'remote'
  storeRttMs: number | null
  instances: number
  route: string
  /**
   * The loop the finding's windows were driven by (the open loop's capacity windows are closed-loop windows); `probe` for a
   * fact one request found (what a copy of a credential got after logout), outside any measured window.
   */
  loop: WorkloadKind | 'probe'
}

/**
 * `ahead`: the interval excludes [1/1.05, 1.05]; `equal`: it lies inside that band (equal within 5%, an equivalence test,
 * not a failure to find a difference); `unresolved`: it straddles a band edge; `fact`: counted, not estimated.
 */
export type Verdict = 'ahead' | 'equal' | 'unresolved' | 'fact'
/** What a comparison's ratio is of: servers' (and the store process's) CPU per request, instructions per request, or p99 latency. */
export type Metric = 'cpu' | 'instructions' | 'p99'
/**
 * How an interval was made: `order-statistic`, the distribution-free interval for the median of the per-round ratios;
 * `count-spread`, a ratio of two counts widened by each count's uncertainty (instructions per request).
 */
type IntervalMethod = 'order-statistic' | 'count-spread'

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
  /** How the interval was made; null for a fact. */
  method: IntervalMethod | null
  /** What the ratio is of; null for a fact. */
  metric: Metric | null
  verdict: Verdict
  /** An unresolved comparison: the round count at which the spread it showed would decide it; null when none up to 50 would. */
  roundsToDecide?: number | null
  scope: Scope
}

/** A finding's comparison fields when it states a counted fact: no ratio, interval or metric to carry. */
export const FACT = { ratio: null, interval: null, coverage: null, method: null, metric: null, verdict: 'fact' } as const

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

/** A comparison of per-round ratios: their median, the order-statistic interval for it, and where that lies against the band. */
export interface PairedRatio {
  median: number
  interval: [number, number]
  coverage: number
  rounds: number
  method: IntervalMethod
  verdict: 'higher' | 'lower' | 'equal' | 'unresolved'
  /** For an unresolved comparison, the round count at which its spread would decide it (null: none up to 50 would). */
  roundsToDecide: number | null
}

const LOW = 1 / (1 + EQUIVALENCE)
const HIGH = 1 + EQUIVALENCE

/** Where an interval lies against the ±5% band. */
function against(interval: readonly [number, number], rounds: number): PairedRatio['verdict'] {
  if (rounds < MIN_ROUNDS_FOR_FINDING) return 'unresolved'
  if (interval[0] > HIGH) return 'higher'
  if (interval[1] < LOW) return 'lower'
  if (interval[0] >= LOW && interval[1] <= HIGH) return 'equal'
  return 'unresolved'
}

/**
 * The smallest round count in PROJECTED_ROUNDS at which an order-statistic interval drawn from the
 * same spread would clear the band one way or the other: the per-round ratios' empirical quantiles
 * at the ranks that interval would use. Null when no count up to 50 would (the median sits on a band edge).
 */
function projectedRounds(values: readonly number[], alpha = 0.05): number | null {
  const s = [...values].sort((a, b) => a - b)
  if (s.length < 2) return null
  const quantile = (q: number) => {
    const x = q * (s.length - 1)
    const i = Math.floor(x)
    return i >= s.length - 1 ? s[s.length - 1]! : s[i]! + (x - i) * (s[i + 1]! - s[i]!)
  }
  for (const n of PROJECTED_ROUNDS) {
    if (n <= s.length) continue
    const [lo, hi] = medianInterval(
      Array.from({ length: n }, (_, i) => i),
      alpha,
    )
    const verdict = against([quantile(lo / (n - 1)), quantile(hi / (n - 1))], n)
    if (verdict !== 'unresolved') return n
  }
  return null
}

/**
 * The error rate a run's comparisons are made at: 5%, split evenly across every look when the run
 * added rounds adaptively (`load.moreRounds`), so that looking again does not raise it.
 */
export const alphaOf = (results: ResultsFile): number => 0.05 / (1 + (results.scenario.load.moreRounds?.length ?? 0))

export const bandVerdict = (values: number[], alpha = 0.05): PairedRatio => {
  const interval = medianInterval(values, alpha)
  const verdict = against(interval, values.length)
  return {
    median: median(values),
    interval,
    coverage: medianIntervalCoverage(values.length, alpha),
    rounds: values.length,
    method: 'order-statistic',
    verdict,
    roundsToDecide: verdict === 'unresolved' ? projectedRounds(values, alpha) : null,
  }
}

/** A paired ratio's verdict as a finding states it. */
export const verdictOf = (p: PairedRatio): Verdict =>
  p.verdict === 'higher' || p.verdict === 'lower' ? 'ahead' : p.verdict === 'equal' ? 'equal' : 'unresolved'

/** What would decide an unresolved comparison, in words. */
const undecided = (p: PairedRatio) =>
  p.roundsToDecide === null
    ? `unresolved: at this spread no count of rounds up to ${PROJECTED_ROUNDS[PROJECTED_ROUNDS.length - 1]} would decide it`
    : `unresolved: at this spread about ${p.roundsToDecide} rounds would decide it`

/**
 * Adaptive rounds: the rounds a comparison is judged on. One decided at a look stops there (the rounds
 * the run added later for other comparisons do not move it); one never decided takes every round.
 */
export function roundsFor(results: ResultsFile, id: string): { maxRound: number; words: string } | null {
  const looks = results.noiseControl.looks
  if (!looks) return null
  const decided = looks.taken.find((l) => !l.unresolved.includes(id))
  if (decided) return { maxRound: decided.rounds, words: `decided at the look after ${decided.rounds} rounds` }
  const last = looks.taken[looks.taken.length - 1]
  const why = {
    decided: 'every other comparison was decided',
    'last-look': 'the last look',
    'time-cap': 'its time cap',
    interrupted: 'an interrupt',
  }
  return {
    maxRound: Number.POSITIVE_INFINITY,
    words: `still unresolved after ${last?.rounds ?? 0} rounds, when the run stopped adding rounds (${why[looks.stopped]})`,
  }
}

/** A paired comparison's interval fields of a finding. */
export const comparisonFields = (p: PairedRatio, metric: Metric) => ({
  ratio: p.median,
  interval: p.interval,
  coverage: p.coverage,
  method: p.method,
  metric,
  verdict: verdictOf(p),
  ...(p.verdict === 'unresolved' ? { roundsToDecide: p.roundsToDecide } : {}),
})

/** A window's cost: the servers' CPU per request, with the store process's when asked (the baseline has none). */
const roundCost = (r: RoundResult, store: boolean): number => r.cpuUsPerRequest + (store ? (r.storeCpuUsPerRequest ?? 0) : 0)

/**
 * Cell a's CPU per request over cell b's, round by round (the two windows of a round are seconds
 * apart in one shuffled round, so the machine's slow drift is shared), leaving out every round in
 * which either window was client-bound: no comparison rests on a window the load did not saturate.
 */
export function pairedRatio(
  a: CellResult,
  b: CellResult,
  opts: { store?: boolean; alpha?: number; maxRound?: number } = {},
): (PairedRatio & { clientBound: number }) | null {
  const perRound: number[] = []
  let clientBound = 0
  for (const ra of a.rounds) {
    if (ra.round > (opts.maxRound ?? Number.POSITIVE_INFINITY)) continue
    const rb = b.rounds.find((r) => r.round === ra.round)
    if (!rb) continue
    if (ra.clientBound || rb.clientBound) {
      clientBound++
      continue
    }
    const y = roundCost(rb, opts.store ?? false)
    if (y > 0) perRound.push(roundCost(ra, opts.store ?? false) / y)
  }
  return perRound.length ? { ...bandVerdict(perRound, opts.alpha), clientBound } : null
}

export function describePair(p: PairedRatio & { clientBound?: number }): string {
  const left = p.clientBound ? `${p.clientBound} round${p.clientBound === 1 ? '' : 's'} left out (a window client-bound); ` : ''
  const rounds = `${p.rounds} round${p.rounds === 1 ? '' : 's'}`
  const interval = `order-statistic interval ${times(p.interval[0])}–${times(p.interval[1])}`
  const open = p.verdict === 'unresolved' ? `; ${undecided(p)}` : ''
  return `${left}paired per-round ratio ${times(p.median)}, ${interval} over ${rounds} (coverage ${percent(p.coverage)})${open}`
}

/** A framework as a cell's label names it (a cell on Fastify, the default, names none). */
const FRAMEWORK_LABELS = { fastify: 'Fastify', express: 'Express' } as const

export function label(c: CellResult): string {
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  const framework = c.framework && c.framework !== 'fastify' ? ` on ${FRAMEWORK_LABELS[c.framework]}` : ''
  return `${descriptorOf(c).label.cell(c)}${framework}${n}${c.runtime ? ` on Node ${c.runtime.slice('node'.length)}` : ''}`
}

/** Whether two cells' servers ran on the same Node (a cell without `runtime`: the harness's own). */
export const sameRuntime = (a: CellResult, b: CellResult): boolean => (a.runtime ?? null) === (b.runtime ?? null)

/** Two cells alike in every setting but the Node their servers ran on. */
/** Two cells' servers on the same framework (a cell that names none is on Fastify). */
const sameFramework = (a: CellResult, b: CellResult): boolean => (a.framework ?? 'fastify') === (b.framework ?? 'fastify')
/** Two cells' servers on the same Node and the same framework: what every other effect holds fixed. */
const samePlatform = (a: CellResult, b: CellResult): boolean => sameRuntime(a, b) && sameFramework(a, b)
/** Two cells on the same session code: the reference (no library) or one library with one preset. */
const sameSessionCode = (a: CellResult, b: CellResult): boolean =>
  (a.sessionLibrary ?? null) === (b.sessionLibrary ?? null) && (a.preset ?? null) === (b.preset ?? null)
/** Two cells that differ in nothing their credential, store or library decides. */
const sameCell = (a: CellResult, b: CellResult): boolean =>
  sameSessionCode(a, b) &&
  a.strategy === b.strategy &&
  a.store === b.store &&
  a.alg === b.alg &&
  a.engine === b.engine &&
  a.keyForm === b.keyForm &&
  (a.verifyCache ?? 0) === (b.verifyCache ?? 0) &&
  sameSessionCache(a, b) &&
  a.revocation === b.revocation
const runtimeAlone = (a: CellResult, b: CellResult): boolean => sameCell(a, b) && sameFramework(a, b) && !sameRuntime(a, b)
const frameworkAlone = (a: CellResult, b: CellResult): boolean => sameCell(a, b) && sameRuntime(a, b) && !sameFramework(a, b)
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
      ...FACT,
      scope: first ? scopeOf(first, loop) : { store: 'none', storeRttMs: null, instances: 1, route: results.scenario.workload.route, loop },
    }
  })
}

/**
 * The effects a run can isolate between two cells of one side (server-side state or client-side):
 * each holds when the two cells differ in that setting alone among those it names (and ran on one Node, but the runtime's own). Findings
 * `cpu-NAME` and `instructions-NAME` compare such pairs, the dearer over the cheaper.
 */
export const EFFECTS: {
  name: 'store' | 'alg' | 'engine' | 'keyform' | 'verifycache' | 'sessioncache' | 'runtime' | 'framework' | 'preset' | 'sessionlibrary'
  side: 'server' | 'client'
  isolates(a: CellResult, b: CellResult): boolean
}[] = [
  {
    name: 'store',
    side: 'server',
    isolates: (a, b) =>
      samePlatform(a, b) && sameSessionCode(a, b) && sameSessionCache(a, b) && a.strategy === b.strategy && a.store !== b.store,
  },
  {
    // One session library as its README configures it and as its maintainers advise: what its settings cost.
    name: 'preset',
    side: 'server',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === b.strategy &&
      a.store === b.store &&
      !!a.sessionLibrary &&
      a.sessionLibrary === b.sessionLibrary &&
      a.preset !== b.preset,
  },
  {
    // The code behind a session on one framework and store: a library (either preset) against the reference, or another library.
    name: 'sessionlibrary',
    side: 'server',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === 'session' &&
      b.strategy === 'session' &&
      a.store === b.store &&
      sameSessionCache(a, b) &&
      (a.sessionLibrary ?? null) !== (b.sessionLibrary ?? null),
  },
  {
    name: 'alg',
    side: 'client',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === b.strategy &&
      a.engine === b.engine &&
      a.keyForm === b.keyForm &&
      sameCache(a, b) &&
      a.revocation === b.revocation &&
      a.alg !== b.alg,
  },
  {
    // Libraries compared as each is best handed its key (jose and fast-jwt take keys only as objects), each checking every signature.
    name: 'engine',
    side: 'client',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === b.strategy &&
      a.alg === b.alg &&
      a.revocation === b.revocation &&
      a.engine !== b.engine &&
      (a.keyForm ?? 'keyobject') === 'keyobject' &&
      (b.keyForm ?? 'keyobject') === 'keyobject' &&
      !a.verifyCache &&
      !b.verifyCache,
  },
  {
    name: 'keyform',
    side: 'client',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === b.strategy &&
      a.alg === b.alg &&
      a.engine === b.engine &&
      sameCache(a, b) &&
      a.revocation === b.revocation &&
      a.keyForm !== b.keyForm,
  },
  {
    // One library with its verified-token cache off and on (or of two sizes).
    name: 'verifycache',
    side: 'client',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      a.strategy === b.strategy &&
      a.alg === b.alg &&
      a.engine === b.engine &&
      a.keyForm === b.keyForm &&
      a.revocation === b.revocation &&
      !sameCache(a, b),
  },
  {
    // One session on one store with its in-process cache off and on (or of two sizes or TTLs): CPU and store reads per request.
    name: 'sessioncache',
    side: 'server',
    isolates: (a, b) =>
      samePlatform(a, b) &&
      sameSessionCode(a, b) &&
      a.strategy === b.strategy &&
      a.store === b.store &&
      a.storeRttMs === b.storeRttMs &&
      !sameSessionCache(a, b),
  },
  // The Node major, on either side: the same cell on two runtimes.
  { name: 'runtime', side: 'server', isolates: runtimeAlone },
  { name: 'runtime', side: 'client', isolates: runtimeAlone },
  // The HTTP framework, on either side: the same cell on Fastify and on Express.
  { name: 'framework', side: 'server', isolates: frameworkAlone },
  { name: 'framework', side: 'client', isolates: frameworkAlone },
]

/** Two cells' session caches agree (both off, or the same entries and TTL). */
const sameSessionCache = (a: CellResult, b: CellResult): boolean =>
  (a.sessionCache?.entries ?? 0) === (b.sessionCache?.entries ?? 0) &&
  (a.sessionCache?.ttlSeconds ?? 0) === (b.sessionCache?.ttlSeconds ?? 0)

/** Two cells' verify caches agree: a cell of an engine without one (null) is as one with it off (0). */
const sameCache = (a: CellResult, b: CellResult): boolean => (a.verifyCache ?? 0) === (b.verifyCache ?? 0)

export function okCells(results: ResultsFile): CellResult[] {
  return results.cells.filter((c) => c.status === 'ok' && c.summary)
}
