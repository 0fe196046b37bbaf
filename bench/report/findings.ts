import { num, percent, times, us } from '../format.ts'
import { median, medianCi95, medianIntervalCoverage } from '../stats.ts'
import { storeProvisioners } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import { distanceFindings } from './distance.ts'
import { lifecycleFindings } from './lifecycle.ts'
import type { CellResult, ResultsFile, RoundResult } from '../contracts/results.ts'
import { type Line } from '../page/kit.ts'

/**
 * Findings as data (docs/contracts.md, "Findings as data"): every sentence the report states is
 * computed here, once, with the figures, the paired interval and the scope it rests on, and written
 * to findings.json; the page renders these sentences and no other conclusion.
 */

/** Two costs whose paired ratio stays within this share of 1 are "about the same". */
export const EQUIVALENCE = 0.05
/** Fewer rounds than this give no interval worth a comparison. */
export const MIN_ROUNDS_FOR_FINDING = 3
export const FINDINGS_SCHEMA_VERSION = 1

/** Where and how what a finding rests on was measured. */
export interface Scope {
  /** Where the store the finding is about ran: none, inside the server's process, another process on this machine, behind an added distance, or a remote target. */
  store: 'none' | 'in-process' | 'same-host' | 'distance' | 'remote'
  storeRttMs: number | null
  instances: number
  route: string
  loop: 'closed' | 'open' | 'lifecycle'
}

export type Verdict = 'ahead' | 'indistinguishable' | 'fact'

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

const bandVerdict = (values: number[]): PairedRatio => {
  const interval = medianCi95(values)
  const verdict = values.length < MIN_ROUNDS_FOR_FINDING ? 'unclear'
    : interval[0] > 1 + EQUIVALENCE ? 'higher'
      : interval[1] < 1 / (1 + EQUIVALENCE) ? 'lower'
        : interval[0] >= 1 / (1 + EQUIVALENCE) && interval[1] <= 1 + EQUIVALENCE ? 'same' : 'unclear'
  return { median: median(values), interval, coverage: medianIntervalCoverage(values.length), rounds: values.length, verdict }
}

/** A round's ratio to its bracket, the store process's CPU included when asked (the baseline has none). */
const roundRatio = (r: RoundResult, store: boolean): number | null => {
  const cpu = r.ratioToBaseline?.cpu
  if (!cpu) return null
  return store && r.storeCpuUsPerRequest !== null ? cpu * (r.cpuUsPerRequest + r.storeCpuUsPerRequest) / r.cpuUsPerRequest : cpu
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

const describePair = (p: PairedRatio) =>
  `paired per-round ratio ${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])} over ${p.rounds} round${p.rounds === 1 ? '' : 's'} (coverage ${percent(p.coverage)})`

function label(c: CellResult): string {
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  return `${descriptorOf(c).label.cell(c)}${n}`
}
const capitalized = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`
const list = (xs: string[]) => (xs.length <= 2 ? xs.join(' and ') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`)

/** Where a cell's store ran. */
export function storeScope(c: CellResult): Scope['store'] {
  if (c.store === null || descriptorOf(c).state === 'none') return 'none'
  if (c.storeRttMs) return 'distance'
  return storeProvisioners[c.store].placement
}

const WHERE: Record<Scope['store'], string> = {
  none: 'no store',
  'in-process': 'store in the server\'s own process',
  'same-host': 'store in another process on this machine, over a socket',
  distance: 'store behind an added network round trip',
  remote: 'store on a remote host',
}

export function scopeOf(c: CellResult, loop: Scope['loop']): Scope {
  const store = storeScope(c)
  return { store, storeRttMs: store === 'none' ? null : c.storeRttMs ?? 0, instances: c.instances, route: c.workload, loop }
}

/** A scope in words, for the page. */
export const scopeWords = (s: Scope) => `${s.route}, ${s.loop === 'closed' ? 'closed loop at saturation' : s.loop === 'open' ? 'open loop' : 'lifecycle'}, ${s.instances} instance${s.instances === 1 ? '' : 's'}${s.store === 'none' ? '' : `, ${WHERE[s.store]}${s.store === 'distance' ? ` (${s.storeRttMs} ms)` : ''}`}`

/** The findings of a run, the answer they give, and what the run did not measure. Pure. */
export function computeFindings(results: ResultsFile): FindingsFile {
  const lifecycle = results.scenario.workload.route === 'lifecycle'
  const findings = lifecycle ? lifecycleFacts(results) : [...distanceFacts(results), ...closedLoopFindings(results), ...openLoopFindings(results)]
  return { schemaVersion: FINDINGS_SCHEMA_VERSION, answer: answerOf(results, findings), findings, notMeasured: notMeasured(results) }
}

/** The sentences alone, in the order the page lists them. */
export function findings(results: ResultsFile): Finding[] {
  return computeFindings(results).findings
}

function fromLines(results: ResultsFile, kind: string, lines: Line[], loop: Scope['loop']): Finding[] {
  return lines.map((l, i) => {
    const cells = results.cells.filter((c) => l.text.includes(c.id) || l.figures.includes(c.id))
    const first = cells[0]
    return {
      id: `${kind}-${i + 1}`, kind, sentence: l.text, cells: cells.map((c) => c.id), figures: {}, detail: l.figures,
      ratio: null, interval: null, coverage: null, verdict: 'fact',
      scope: first ? scopeOf(first, loop) : { store: 'none', storeRttMs: null, instances: 1, route: results.scenario.workload.route, loop },
    }
  })
}

const lifecycleFacts = (r: ResultsFile) => fromLines(r, 'lifecycle', lifecycleFindings(r), 'lifecycle')
const distanceFacts = (r: ResultsFile) => fromLines(r, 'distance', distanceFindings(r), 'open')

function okCells(results: ResultsFile): CellResult[] {
  return results.cells.filter((c) => c.status === 'ok' && c.summary)
}

function closedLoopFindings(results: ResultsFile): Finding[] {
  if (results.scenario.load.mode === 'open') return factFindings(results)
  const ok = okCells(results)
  const out: Finding[] = []
  const cpu = (c: CellResult) => c.summary!.cpuUsPerRequest.median
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1)
  const servers = single.filter((c) => descriptorOf(c).state === 'server')
  const clients = single.filter((c) => descriptorOf(c).state === 'client')
  const overhead = (c: CellResult) => c.summary!.overheadUs?.median ?? null
  const store = (c: CellResult) => c.summary!.storeCpuUsPerRequest?.median ?? null
  const figuresOf = (a: CellResult, b: CellResult, p: PairedRatio) => ({
    [`${a.id}.cpuUs`]: cpu(a), [`${b.id}.cpuUs`]: cpu(b), [`${a.id}.overheadUs`]: overhead(a), [`${b.id}.overheadUs`]: overhead(b),
    [`${a.id}.storeCpuUs`]: store(a), [`${b.id}.storeCpuUs`]: store(b), rounds: p.rounds,
  })
  const detailOf = (a: CellResult, b: CellResult, p: PairedRatio) => {
    const o = (c: CellResult) => (overhead(c) === null ? 'n/a' : us(overhead(c)!))
    const st = (c: CellResult) => (store(c) === null ? '' : ` + ${us(store(c)!)} in the store process`)
    return `${describePair(p)}; servers' medians ${a.id} ${us(cpu(a))}${st(a)}, ${b.id} ${us(cpu(b))}${st(b)}${base ? `; overhead over ${base.id} (against the baseline windows around each window): ${o(a)} vs ${o(b)}` : ''}`
  }
  const compared = (kind: string, a: CellResult, b: CellResult, p: PairedRatio, sentence: string, scope: Scope): Finding => ({
    id: `${kind}-${a.id}-vs-${b.id}`, kind, sentence, cells: [a.id, b.id], figures: figuresOf(a, b, p), detail: detailOf(a, b, p),
    ratio: p.median, interval: p.interval, coverage: p.coverage,
    verdict: p.verdict === 'higher' || p.verdict === 'lower' ? 'ahead' : 'indistinguishable', scope,
  })

  // Each token or sealed cookie against each server-side session, the store process's CPU counted on the session's side.
  for (const s of servers) {
    for (const j of clients) {
      const p = pairedRatio(j, s, { store: true })
      if (!p) continue
      const scope = scopeOf(s, 'closed')
      const where = `${label(s)} (${WHERE[scope.store]})`
      const withStore = store(s) === null ? '' : ', the store process\'s CPU counted'
      const sentence = p.verdict === 'higher' || p.verdict === 'lower'
        ? `On ${s.workload}, ${label(j)} cost ${times(p.median)} the CPU per request of ${where}${withStore}: ${p.verdict === 'higher' ? 'the session was cheaper' : 'the token was cheaper'} in this run (closed loop at saturation, one instance).`
        : `On ${s.workload}, ${label(j)} and ${where} are not distinguishable in this run (${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}${p.rounds < MIN_ROUNDS_FOR_FINDING ? `, ${p.rounds} round${p.rounds === 1 ? '' : 's'}` : ''}).`
      out.push(compared('cpu', j, s, p, sentence, scope))
    }
  }
  // A ranking only where the rounds support it: the cheapest (or dearest) must be ahead of every other.
  const auth = single.filter((c) => descriptorOf(c).state !== 'none')
  if (auth.length >= 3) {
    const byRatio = [...auth].sort((a, b) => (a.summary!.ratioToBaseline.cpu ?? cpu(a)) - (b.summary!.ratioToBaseline.cpu ?? cpu(b)))
    for (const [end, word] of [[byRatio[0]!, 'cheapest'], [byRatio[byRatio.length - 1]!, 'most expensive']] as const) {
      const others = auth.filter((c) => c !== end)
      const pairs = others.map((o) => ({ o, p: pairedRatio(o, end) }))
      const unclear = pairs.filter(({ p }) => !p || (word === 'cheapest' ? p.verdict !== 'higher' : p.verdict !== 'lower'))
      const scope = { ...scopeOf(end, 'closed'), store: 'none' as const, storeRttMs: null }
      const nearest = pairs.filter((x) => x.p).sort((x, y) => Math.abs(Math.log(x.p!.median)) - Math.abs(Math.log(y.p!.median)))[0]
      if (!nearest) continue
      const p = nearest.p!
      out.push({
        id: `rank-${word === 'cheapest' ? 'cheapest' : 'dearest'}`, kind: 'cpu-ranking', cells: [end.id, ...others.map((o) => o.id)],
        sentence: unclear.length === 0
          ? `On ${end.workload}, the ${word} authentication by servers' CPU per request was ${label(end)}: every other cell's paired interval lies ${word === 'cheapest' ? 'above' : 'below'} it by more than ${EQUIVALENCE * 100}% (nearest: ${label(nearest.o)}, ${times(p.median)}).`
          : `On ${end.workload}, no single ${word} authentication: ${label(end)} has the ${word === 'cheapest' ? 'lowest' : 'highest'} median, but ${list(unclear.map((u) => label(u.o)))} ${unclear.length === 1 ? 'is' : 'are'} not distinguishable from it in this run.`,
        figures: Object.fromEntries(pairs.map(({ o, p: q }) => [`${o.id}/${end.id}`, q ? q.median : null])),
        detail: pairs.map(({ o, p: q }) => `${o.id}: ${q ? `${times(q.median)} (${times(q.interval[0])}–${times(q.interval[1])})` : 'no paired rounds'}`).join('; '),
        ratio: p.median, interval: p.interval, coverage: p.coverage, verdict: unclear.length === 0 ? 'ahead' : 'indistinguishable', scope,
      })
    }
  }
  out.push(...factFindings(results))
  return out
}

/** Counted things: store reads, bytes, what logout does, what several instances did. */
function factFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results)
  const loop = results.scenario.load.mode === 'open' ? 'open' : 'closed'
  const out: Finding[] = []
  const reads = (c: CellResult) => c.summary!.storeOpsPerRequest.reads
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1 && descriptorOf(c).state !== 'none')
  // Reads answer the GET questions; a login's cost is its hash and its writes, which the CPU findings carry.
  if (single.length && results.scenario.workload.route.startsWith('GET')) {
    const extra = (c: CellResult) => reads(c) - (base ? reads(base) : 0)
    const route = results.scenario.workload.route
    const reading = single.filter((c) => extra(c) > 0.0005)
    const none = single.filter((c) => extra(c) <= 0.0005)
    out.push({
      id: 'store-reads', kind: 'store-reads', cells: single.map((c) => c.id),
      sentence: `On ${route}, counted per request${base ? ` beyond the baseline's ${num(reads(base), 3)}` : ''}: ${[
        ...reading.map((c) => `${label(c)} read its store ${num(extra(c), 3)} times`),
        ...(none.length ? [`${list(none.map(label))} did not read it`] : []),
      ].join('; ')}.`,
      figures: Object.fromEntries(single.map((c) => [c.id, reads(c)])), detail: single.map((c) => `${c.id} ${num(reads(c), 3)} reads/request`).join('; '),
      ratio: null, interval: null, coverage: null, verdict: 'fact', scope: { store: 'none', storeRttMs: null, instances: 1, route, loop },
    })
  }
  const carried = single.filter((c) => c.credential && c.credential.kind !== 'none')
  if (carried.length >= 2) {
    out.push({
      id: 'bytes', kind: 'bytes', cells: carried.map((c) => c.id),
      sentence: `What each request carries: ${carried.map((c) => `${label(c)} ${c.credential!.bytes} bytes in its ${c.credential!.header} header (${c.credential!.clientReadable ? 'readable by the client' : 'opaque to the client'})`).join('; ')}.`,
      figures: Object.fromEntries(carried.flatMap((c) => [[`${c.id}.credentialBytes`, c.credential!.bytes], [`${c.id}.requestBytes`, c.summary!.bytesPerRequest.request], [`${c.id}.responseBytes`, c.summary!.bytesPerRequest.response]])),
      detail: carried.map((c) => `${c.id}: requests ${num(c.summary!.bytesPerRequest.request, 0)} bytes, answers ${num(c.summary!.bytesPerRequest.response, 0)} bytes`).join('; '),
      ratio: null, interval: null, coverage: null, verdict: 'fact', scope: { store: 'none', storeRttMs: null, instances: 1, route: results.scenario.workload.route, loop },
    })
  }
  const probed = ok.filter((c) => c.revocationProbe && descriptorOf(c).state !== 'none')
  if (probed.length) {
    const ended = probed.filter((c) => c.revocationProbe!.keepsWorkingSeconds === 0)
    const lingering = probed.filter((c) => c.revocationProbe!.keepsWorkingSeconds !== 0)
    out.push({
      id: 'logout', kind: 'logout', cells: probed.map((c) => c.id),
      sentence: `After logout, ${[
        ...(ended.length ? [`${list(ended.map(label))} refused a copy of the credential at once`] : []),
        ...lingering.map((c) => `with ${label(c)} a copy kept working ${descriptorOf(c).label.copyLives(c, c.revocationProbe!.keepsWorkingSeconds)}`),
      ].join('; ')}.`,
      figures: Object.fromEntries(probed.map((c) => [c.id, c.revocationProbe!.keepsWorkingSeconds])),
      detail: probed.map((c) => `${c.id}: GET /me after logout ${c.revocationProbe!.statusAfterLogout.join(', ')}`).join('; '),
      ratio: null, interval: null, coverage: null, verdict: 'fact', scope: { store: 'none', storeRttMs: null, instances: Math.max(...probed.map((c) => c.instances)), route: 'POST /logout', loop },
    })
  }
  for (const c of ok.filter((x) => x.instances > 1 && descriptorOf(x).state !== 'none')) {
    const share = c.summary!.status401Share
    out.push({
      id: `instances-${c.id}`, kind: 'instances', cells: [c.id],
      sentence: share > 0
        ? `With ${c.instances} instances, ${label({ ...c, instances: 1 })} broke: ${percent(share)} of requests got 401${c.store && !storeProvisioners[c.store].sharedAcrossInstances ? `, because its store is ${storeProvisioners[c.store].sharing}` : ''}.`
        : `With ${c.instances} instances, ${label({ ...c, instances: 1 })} answered every request (0% 401; ${c.store === null ? 'no server-side state' : `state in ${storeProvisioners[c.store].sharing}`}).`,
      figures: { status401Share: share, instances: c.instances }, detail: `${c.id}: ${c.summary!.non2xx} non-2xx of ${c.rounds.reduce((n, r) => n + r.requests, 0)} requests`,
      ratio: null, interval: null, coverage: null, verdict: 'fact', scope: scopeOf(c, loop),
    })
  }
  return out
}

/**
 * At each fixed rate (equal load), each client-state cell against each server-side session:
 * p99 and CPU per request, paired round by round, stated as ahead only where the interval of the
 * per-round ratios excludes ±5%.
 */
function openLoopFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results)
  const out: Finding[] = []
  const rates = [...new Set(ok.flatMap((c) => (c.openLoop ?? []).filter((o) => o.fraction === null).map((o) => o.rate)))].sort((a, b) => a - b)
  const at = (c: CellResult, rate: number) => c.openLoop?.find((o) => o.fraction === null && o.rate === rate)
  const ms = (v: number) => `${(v / 1000).toFixed(2)} ms`
  const servers = ok.filter((c) => descriptorOf(c).state === 'server' && c.instances === 1)
  const clients = ok.filter((c) => descriptorOf(c).state === 'client' && c.instances === 1)
  for (const rate of rates) {
    for (const s of servers.filter((x) => at(x, rate))) {
      for (const j of clients.filter((x) => at(x, rate))) {
        const a = at(j, rate)!
        const b = at(s, rate)!
        const pair = (pick: (r: (typeof a.rounds)[number]) => number) => a.rounds.flatMap((r) => {
          const y = b.rounds.find((x) => x.round === r.round)
          return y && pick(y) > 0 && r.held && y.held ? [pick(r) / pick(y)] : []
        })
        const p99 = pair((r) => r.latencyUs.p99)
        const cpu = pair((r) => r.cpuUsPerRequest + (r.storeCpuUsPerRequest ?? 0))
        const scope = scopeOf(s, 'open')
        const r = `${rate.toLocaleString('en-US')} requests/s`
        for (const [kind, values, what] of [['latency', p99, 'p99 latency'], ['cpu-equal-load', cpu, 'CPU per request (servers and store)']] as const) {
          if (values.length === 0) continue
          const p = bandVerdict(values)
          const ahead = p.verdict === 'higher' || p.verdict === 'lower'
          out.push({
            id: `${kind}-${rate}-${j.id}-vs-${s.id}`, kind, cells: [j.id, s.id],
            sentence: ahead
              ? `At ${r} (open loop, equal load), ${label(j)} had ${times(p.median)} the ${what} of ${label(s)} (${WHERE[scope.store]}).`
              : `At ${r} (open loop, equal load), the ${what} of ${label(j)} and of ${label(s)} are not distinguishable in this run (${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}).`,
            figures: kind === 'latency' ? { [`${j.id}.p99Us`]: a.latencyUs.p99, [`${s.id}.p99Us`]: b.latencyUs.p99, rounds: values.length } : { [`${j.id}.cpuUs`]: a.cpuUsPerRequest, [`${s.id}.cpuUs`]: b.cpuUsPerRequest, rounds: values.length },
            detail: kind === 'latency'
              ? `p99 per round: ${j.id} ${a.rounds.map((x) => ms(x.latencyUs.p99)).join(', ')}; ${s.id} ${b.rounds.map((x) => ms(x.latencyUs.p99)).join(', ')}; p50 ${ms(a.latencyUs.p50)} vs ${ms(b.latencyUs.p50)}; rounds where the driver held both rates only`
              : `servers' CPU per request at this rate ${us(a.cpuUsPerRequest)} vs ${us(b.cpuUsPerRequest)} (medians; the session's store process added per round)`,
            ratio: p.median, interval: p.interval, coverage: p.coverage, verdict: ahead ? 'ahead' : 'indistinguishable', scope,
          })
        }
      }
    }
  }
  return out
}

const QUESTIONS: Record<string, string> = {
  cpu: 'What does identifying a caller cost in CPU per request?',
  'store-load': 'What load does each put on the store?',
  bytes: 'What travels with every request?',
  latency: 'What latency does a user see at the same load?',
  logout: 'What does logout do, and how long does a stolen credential live?',
  instances: 'What happens with several instances?',
  lifecycle: 'What does a credential\'s whole lifetime cost?',
  distance: 'What does a store at a distance add?',
}

/** The page's first screen: per question a team asks, which choice was ahead in this run, by how much, and under which scope. */
function answerOf(results: ResultsFile, all: Finding[]): AnswerLine[] {
  const out: AnswerLine[] = []
  const by = (kind: string) => all.filter((f) => f.kind === kind)
  const line = (question: string, sentence: string, fs: Finding[]) => out.push({ question, asked: QUESTIONS[question] ?? question, sentence, findings: fs.map((f) => f.id) })
  const cpu = by('cpu')
  const cellOf = (id: string) => results.cells.find((c) => c.id === id)!
  if (cpu.length) {
    // One clause per session store: which tokens were dearer, which cheaper, which not distinguishable.
    const sessions = [...new Set(cpu.map((f) => f.cells[1]!))]
    const clauses = sessions.map((sid) => {
      const fs = cpu.filter((f) => f.cells[1] === sid)
      const s = cellOf(sid)
      const dearer = fs.filter((f) => f.verdict === 'ahead' && f.ratio! > 1)
      const cheaper = fs.filter((f) => f.verdict === 'ahead' && f.ratio! < 1)
      const same = fs.filter((f) => f.verdict === 'indistinguishable')
      const range = (xs: Finding[]) => {
        const rs = xs.map((f) => f.ratio!).sort((a, b) => a - b)
        return rs.length === 1 ? times(rs[0]!) : `${times(rs[0]!)}–${times(rs[rs.length - 1]!)}`
      }
      const parts = [
        ...(dearer.length ? [`the session was cheaper than ${list(dearer.map((f) => label(cellOf(f.cells[0]!))))} (they cost ${range(dearer)} its CPU)`] : []),
        ...(cheaper.length ? [`${list(cheaper.map((f) => label(cellOf(f.cells[0]!))))} ${cheaper.length === 1 ? 'was' : 'were'} cheaper (${range(cheaper)} its CPU)`] : []),
        ...(same.length ? [`${list(same.map((f) => label(cellOf(f.cells[0]!))))} ${same.length === 1 ? 'was' : 'were'} not distinguishable from it`] : []),
      ]
      return `against ${label(s)} (${WHERE[fs[0]!.scope.store]}), ${parts.join('; ')}`
    })
    const scope = cpu[0]!.scope
    line('cpu', `${capitalized(clauses.join('. And '))}. Scope: ${scope.route}, closed loop at saturation, one instance, servers' CPU plus the store process's where it has one; at saturation a slower cell answers fewer requests per event-loop turn and pays more per answer (Node batches), so these ratios are of busy servers.`, cpu)
  }
  const equalLoad = by('cpu-equal-load')
  if (equalLoad.length) {
    const ahead = equalLoad.filter((f) => f.verdict === 'ahead')
    line('cpu', `At equal offered load (open loop): ${ahead.length ? ahead.map((f) => f.sentence.replace(/^At [^,]+ \(open loop, equal load\), /, '')).join(' ') : 'no pair of a token and a session differed in CPU per request beyond the ±5% band.'}`, equalLoad)
  }
  const reads = by('store-reads')
  if (reads.length) line('store-load', reads[0]!.sentence, reads)
  const bytes = by('bytes')
  if (bytes.length) line('bytes', bytes[0]!.sentence, bytes)
  const latency = by('latency')
  if (latency.length) {
    const ahead = latency.filter((f) => f.verdict === 'ahead')
    line('latency', ahead.length ? ahead.map((f) => f.sentence).join(' ') : `At every fixed rate measured, no token and session pair differed in p99 beyond the ±5% band in this run (${latency.length} comparison${latency.length === 1 ? '' : 's'}).`, latency)
  }
  const logout = by('logout')
  if (logout.length) line('logout', logout[0]!.sentence, logout)
  const instances = by('instances')
  if (instances.length) line('instances', instances.map((f) => f.sentence).join(' '), instances)
  for (const kind of ['lifecycle', 'distance']) {
    const fs = by(kind)
    if (fs.length) line(kind, fs.slice(0, 3).map((f) => f.sentence).join(' '), fs.slice(0, 3))
  }
  return out
}

/** Every configuration the session-or-JWT question depends on that this run lacked, with the command that measures it. */
export function notMeasured(results: ResultsFile): NotMeasured[] {
  const out: NotMeasured[] = []
  const cells = results.cells
  const ok = okCells(results)
  const skipped = cells.filter((c) => c.status === 'skipped')
  for (const c of skipped) {
    out.push({ what: `${label(c)} (${c.id})`, why: `skipped: ${c.reason ?? 'no reason given'}`, command: c.store && storeProvisioners[c.store].placement !== 'in-process' ? 'npm run setup, then npm run bench again (or npm run bench -- --redis-url URL)' : 'npm run bench again' })
  }
  const sessions = ok.filter((c) => descriptorOf(c).state === 'server')
  const lifecycle = results.scenario.workload.route === 'lifecycle'
  if (!sessions.some((c) => storeScope(c) !== 'in-process')) {
    out.push({
      what: 'a session store in another process, reached over a socket (the configuration the "sessions need a database hit" argument is about)',
      why: sessions.length ? `every session measured kept its store in the server's own process (${list(sessions.map((c) => c.id))})` : 'no session cell completed',
      command: 'npm run setup (installs redis-server), then npm run bench',
    })
  }
  if (!ok.some((c) => c.instances > 1)) out.push({ what: 'several server instances sharing one store', why: 'every cell ran one instance', command: 'npm run bench -- scenarios/scaling.ts' })
  if (!ok.some((c) => (c.storeRttMs ?? 0) > 0)) out.push({ what: 'a store across a network hop (an added round trip per store call)', why: 'no cell had a store distance (storeRttMs)', command: 'npm run bench -- scenarios/distance.ts' })
  if (results.scenario.load.mode !== 'open' && !lifecycle) out.push({ what: 'latency at equal offered load (open loop)', why: 'this run was closed loop: it measures cost at saturation, not what a user waits at a given load', command: 'npm run bench -- scenarios/latency.ts' })
  if (!lifecycle) out.push({ what: 'a credential\'s whole lifetime: refreshes, logouts, revocation lag', why: 'this run measured one route, not users living with their credentials', command: 'npm run bench -- scenarios/lifecycle.ts' })
  return out
}
