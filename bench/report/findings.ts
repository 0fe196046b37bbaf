import { percent, times, us } from '../format.ts'
import type { CellResult, ResultsFile } from '../results.ts'
import { median, medianCi95, medianIntervalCoverage } from '../stats.ts'
import { descriptorOf } from '../strategies/index.ts'
import { lifecycleFindings } from './lifecycle.ts'
import { distanceFindings } from './distance.ts'

/** A sentence generated from the numbers, with the figures it rests on. */
export interface Finding {
  text: string
  figures: string
}

/** Two costs whose paired ratio stays within this share of 1 are "about the same". */
export const EQUIVALENCE = 0.05
/** Fewer rounds than this give no interval worth a sentence. */
export const MIN_ROUNDS_FOR_FINDING = 3

/**
 * Cell a's CPU per request over cell b's, round by round: each cell's ratio to the baseline
 * windows around it, divided, so the machine's drift cancels; then the median and the
 * order-statistic interval of those per-round ratios.
 */
export interface PairedRatio {
  median: number
  interval: [number, number]
  coverage: number
  rounds: number
  verdict: 'higher' | 'lower' | 'same' | 'unclear'
}

export function pairedRatio(a: CellResult, b: CellResult): PairedRatio | null {
  const perRound: number[] = []
  for (const ra of a.rounds) {
    const rb = b.rounds.find((r) => r.round === ra.round && r.ratioToBaseline?.cpu)
    if (ra.ratioToBaseline?.cpu && rb) perRound.push(ra.ratioToBaseline.cpu / rb.ratioToBaseline!.cpu!)
  }
  if (perRound.length === 0) return null
  const interval = medianCi95(perRound)
  const verdict = perRound.length < MIN_ROUNDS_FOR_FINDING ? 'unclear'
    : interval[0] > 1 + EQUIVALENCE ? 'higher'
      : interval[1] < 1 - EQUIVALENCE ? 'lower'
        : interval[0] >= 1 - EQUIVALENCE && interval[1] <= 1 + EQUIVALENCE ? 'same' : 'unclear'
  return { median: median(perRound), interval, coverage: medianIntervalCoverage(perRound.length), rounds: perRound.length, verdict }
}

const describePair = (p: PairedRatio) =>
  `paired per-round ratio ${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])} over ${p.rounds} round${p.rounds === 1 ? '' : 's'} (coverage ${percent(p.coverage)})`

function label(c: CellResult): string {
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  return `${descriptorOf(c).label.cell(c)}${n}`
}
const capitalized = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`
const noise = (p: PairedRatio) => (p.rounds < MIN_ROUNDS_FOR_FINDING
  ? `with ${p.rounds} round${p.rounds === 1 ? '' : 's'} this run cannot tell them apart`
  : `the difference is within the noise of this run`)

/** Short findings computed from this run's own numbers and workload; a comparison is stated only where its rounds agree. */
export function findings(results: ResultsFile): Finding[] {
  if (results.scenario.workload.route === 'lifecycle') return lifecycleFindings(results)
  const ok = results.cells.filter((c) => c.status === 'ok' && c.summary)
  const out: Finding[] = [...distanceFindings(results)]
  const cpu = (c: CellResult) => c.summary!.cpuUsPerRequest.median
  const reads = (c: CellResult) => c.summary!.storeOpsPerRequest.reads
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1)
  const byRatio = (cells: CellResult[]) => [...cells].sort((a, b) => (a.summary!.ratioToBaseline.cpu ?? cpu(a)) - (b.summary!.ratioToBaseline.cpu ?? cpu(b)))
  const serverState = byRatio(single.filter((c) => descriptorOf(c).state === 'server'))
  const clientState = byRatio(single.filter((c) => descriptorOf(c).state === 'client'))
  const route = results.scenario.workload.route
  const overhead = (c: CellResult) => c.summary!.overheadUs?.median ?? null
  const ratioFigures = (a: CellResult, b: CellResult, p: PairedRatio) =>
    `${describePair(p)}; medians ${a.id} ${us(cpu(a))}, ${b.id} ${us(cpu(b))}${base ? `; overhead over ${base.id} (against the baseline windows around each window): ${overhead(a) === null ? 'n/a' : us(overhead(a)!)} vs ${overhead(b) === null ? 'n/a' : us(overhead(b)!)}` : ''}`

  const auth = byRatio(single.filter((c) => descriptorOf(c).state !== 'none'))
  if (auth.length >= 2) {
    const lo = auth[0]!
    const hi = auth[auth.length - 1]!
    const p = pairedRatio(hi, lo)
    if (p) {
      out.push({
        text: p.verdict === 'higher'
          ? `On ${route}, the cheapest authentication was ${label(lo)} and the most expensive ${label(hi)}: ${times(p.median)} the server CPU per request.`
          : `On ${route}, every authentication cost about the same server CPU per request: between the cheapest (${label(lo)}) and the most expensive (${label(hi)}) ${noise(p)}.`,
        figures: ratioFigures(hi, lo, p),
      })
    }
  }
  // Every client-state cell (tokens, sealed cookies) against the server-side session of reference.
  const reference = serverState.find((c) => c.store === 'sqlite') ?? serverState[0]
  if (reference) {
    for (const j of clientState) {
      const p = pairedRatio(j, reference)
      if (!p) continue
      const name = capitalized(label(j))
      const text = {
        higher: `${name} cost ${times(p.median)} the server CPU per request of ${label(reference)} on ${route}, contrary to the folklore that ${descriptorOf(j).label.family} are the cheap option.`,
        lower: `${name} cost ${times(p.median)} the server CPU per request of ${label(reference)} on ${route}: cheaper, as the folklore says.`,
        same: `${name} cost about the same server CPU per request as ${label(reference)} on ${route} (within ±${EQUIVALENCE * 100}%).`,
        unclear: `${name} against ${label(reference)} on ${route}: ${noise(p)} (${times(p.median)}).`,
      }[p.verdict]
      out.push({ text, figures: ratioFigures(j, reference, p) })
    }
  }
  // Store reads beyond the baseline's (which holds any users-table read of the workload), counted.
  const extra = (c: CellResult) => reads(c) - (base ? reads(base) : 0)
  const plain = clientState.find((c) => extra(c) === 0)
  if (base && reference && plain && extra(reference) > 0) {
    out.push({
      text: `On ${route}, ${label(reference)} read its store ${extra(reference).toFixed(3)} times per request more than the baseline; ${label(plain)} no more than the baseline. Counted, not assumed.`,
      figures: `store reads per request: ${reference.id} ${reads(reference).toFixed(3)}; ${plain.id} ${reads(plain).toFixed(3)}; ${base.id} ${reads(base).toFixed(3)}`,
    })
  }
  const opaque = ok.find((c) => descriptorOf(c).state === 'server' && c.credential?.kind === 'cookie')
  const bearer = ok.find((c) => c.credential?.kind === 'bearer')
  if (opaque && bearer) {
    out.push({
      text: `A JWT travels with every request: the ${bearer.credential!.decoded?.header.alg ?? ''} token's header is ${times(bearer.credential!.bytes / opaque.credential!.bytes)} the size of the session cookie, and anyone holding it can read its claims.`,
      figures: `${bearer.id}: ${bearer.credential!.bytes} bytes; ${opaque.id}: ${opaque.credential!.bytes} bytes; requests ${Math.round(bearer.summary!.bytesPerRequest.request)} vs ${Math.round(opaque.summary!.bytesPerRequest.request)} bytes`,
    })
  }
  const lingering = ok.filter((c) => c.revocationProbe && c.revocationProbe.keepsWorkingSeconds !== 0)
  if (lingering.length > 0) {
    const l = lingering.find((c) => c.revocationProbe!.keepsWorkingSeconds) ?? lingering[0]!
    const ended = ok.filter((c) => c.revocationProbe?.keepsWorkingSeconds === 0)
    out.push({
      text: `After logout, ${lingering.length === 1 ? 'one cell' : `${lingering.length} cells`} kept accepting a copy of the logged-out credential${l.revocationProbe!.keepsWorkingSeconds ? `, for up to ${l.revocationProbe!.keepsWorkingSeconds} s (the access token's remaining lifetime)` : ''}${ended.length ? `; ${ended.map((c) => c.id).join(', ')} ended it at once` : ''}.`,
      figures: lingering.map((c) => `${c.id}: GET /me after logout ${c.revocationProbe!.statusAfterLogout.join(', ')}`).join('; '),
    })
  }
  for (const c of ok.filter((c) => c.instances > 1 && c.summary!.status401Share > 0)) {
    out.push({
      text: `With ${c.instances} instances, ${label({ ...c, instances: 1 })} breaks: ${percent(c.summary!.status401Share)} of requests got 401, because a per-process store is not shared.`,
      figures: `${c.id}: ${c.summary!.non2xx} non-2xx of ${c.rounds.reduce((n, r) => n + r.requests, 0)} requests`,
    })
  }
  out.push(...openLoopFindings(ok))
  if (base && auth.length > 0 && out.length === 0) {
    out.push({ text: 'Too few cells completed to compare strategies.', figures: `${ok.length} cells ok` })
  }
  return out
}

/** Two p99s differ when every round says so by at least this much. */
export const LATENCY_DIFFERENCE = 0.1

/**
 * At each fixed rate (equal load), the lowest and the highest p99 among the cells, and each
 * client-state cell against the server-side session of reference: stated only where every round
 * agrees on the order by at least LATENCY_DIFFERENCE, otherwise said to be within the noise.
 */
function openLoopFindings(ok: CellResult[]): Finding[] {
  const out: Finding[] = []
  const rates = [...new Set(ok.flatMap((c) => (c.openLoop ?? []).filter((o) => o.fraction === null).map((o) => o.rate)))].sort((a, b) => a - b)
  const at = (c: CellResult, rate: number) => c.openLoop?.find((o) => o.fraction === null && o.rate === rate)
  const ms = (v: number) => `${(v / 1000).toFixed(2)} ms`
  for (const rate of rates) {
    const cells = ok.filter((c) => at(c, rate)).sort((a, b) => at(a, rate)!.latencyUs.p99 - at(b, rate)!.latencyUs.p99)
    if (cells.length < 2) continue
    const compare = (hi: CellResult, lo: CellResult): Finding => {
      const h = at(hi, rate)!
      const l = at(lo, rate)!
      const rounds = h.rounds.map((r) => [r.latencyUs.p99, l.rounds.find((x) => x.round === r.round)?.latencyUs.p99] as const).filter(([, y]) => y !== undefined)
      const agree = rounds.length >= 2 && rounds.every(([x, y]) => x > y! * (1 + LATENCY_DIFFERENCE))
      const notHeld = [hi, lo].filter((c) => at(c, rate)!.heldRounds < at(c, rate)!.rounds.length).map((c) => c.id)
      return {
        text: agree
          ? `At ${rate.toLocaleString('en-US')} requests/s (open loop), a user of ${label(hi)} saw a p99 of ${ms(h.latencyUs.p99)} against ${ms(l.latencyUs.p99)} for ${label(lo)}.`
          : `At ${rate.toLocaleString('en-US')} requests/s (open loop), the p99 of ${label(hi)} (${ms(h.latencyUs.p99)}) and of ${label(lo)} (${ms(l.latencyUs.p99)}) are within the noise of this run: its rounds do not agree.`,
        figures: `p99 per round: ${hi.id} ${h.rounds.map((r) => ms(r.latencyUs.p99)).join(', ')}; ${lo.id} ${l.rounds.map((r) => ms(r.latencyUs.p99)).join(', ')}; p50 ${ms(h.latencyUs.p50)} vs ${ms(l.latencyUs.p50)}; CPU per request at this equal load ${us(h.cpuUsPerRequest)} vs ${us(l.cpuUsPerRequest)}${notHeld.length ? `; rate not held in some rounds for ${notHeld.join(', ')}` : ''}`,
      }
    }
    out.push(compare(cells[cells.length - 1]!, cells[0]!))
  }
  return out
}
