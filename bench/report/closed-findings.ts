// The closed loop's comparisons: each token or sealed cookie against each session, paired round by round, and a ranking only where the intervals carry it.
import { CLIENT_BOUND_SHARE, type CellResult, type ResultsFile } from '../contracts/results.ts'
import { num, times, us } from '../format.ts'
import { descriptorOf } from '../strategies/index.ts'
import {
  describePair,
  EQUIVALENCE,
  label,
  list,
  alphaOf,
  comparisonFields,
  EFFECTS,
  MIN_ROUNDS_FOR_FINDING,
  okCells,
  pairedRatio,
  roundsFor,
  sameRuntime,
  scopeOf,
  WHERE,
  type Finding,
  type PairedRatio,
  type Scope,
  verdictOf,
} from './verdict.ts'
import { factFindings } from './facts.ts'
import { instructionFindings } from './instruction-findings.ts'

export function closedLoopFindings(results: ResultsFile): Finding[] {
  const ok = okCells(results)
  const out: Finding[] = []
  const cpu = (c: CellResult) => c.summary!.cpuUsPerRequest.median
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1)
  const servers = single.filter((c) => descriptorOf(c).state === 'server')
  const clients = single.filter((c) => descriptorOf(c).state === 'client')
  const overhead = (c: CellResult) => c.summary!.overheadUs?.median ?? null
  const store = (c: CellResult) => c.summary!.storeCpuUsPerRequest?.median ?? null
  const figuresOf = (a: CellResult, b: CellResult, p: PairedRatio & { clientBound: number }) => ({
    [`${a.id}.cpuUs`]: cpu(a),
    [`${b.id}.cpuUs`]: cpu(b),
    [`${a.id}.overheadUs`]: overhead(a),
    [`${b.id}.overheadUs`]: overhead(b),
    [`${a.id}.storeCpuUs`]: store(a),
    [`${b.id}.storeCpuUs`]: store(b),
    rounds: p.rounds,
    clientBoundRounds: p.clientBound,
  })
  const detailOf = (a: CellResult, b: CellResult, p: PairedRatio) => {
    const o = (c: CellResult) => (overhead(c) === null ? 'n/a' : us(overhead(c)!))
    const st = (c: CellResult) => (store(c) === null ? '' : ` + ${us(store(c)!)} in the store process`)
    return (
      `${describePair(p)}; servers' ` +
      `medians ${a.id} ${us(cpu(a))}${st(a)}, ${b.id} ${us(cpu(b))}${st(b)}${
        base ? `; overhead over ${base.id} (against the ` + `baseline windows around each window): ${o(a)} vs ${o(b)}` : ''
      }`
    )
  }
  // Adaptive rounds: each comparison judged at the look that decided it, at the run's error rate per look.
  const alpha = alphaOf(results)
  const judged = (kind: string, a: CellResult, b: CellResult, store: boolean) =>
    pairedRatio(a, b, { store, alpha, maxRound: roundsFor(results, `${kind}-${a.id}-vs-${b.id}`)?.maxRound ?? Number.POSITIVE_INFINITY })
  const looked = (id: string) => {
    const r = roundsFor(results, id)
    return r ? `; ${r.words}` : ''
  }
  const compared = (
    kind: string,
    a: CellResult,
    b: CellResult,
    p: PairedRatio & { clientBound: number },
    sentence: string,
    scope: Scope,
  ): Finding => ({
    id: `${kind}-${a.id}-vs-${b.id}`,
    kind,
    sentence,
    cells: [a.id, b.id],
    figures: figuresOf(a, b, p),
    detail: `${detailOf(a, b, p)}${looked(`${kind}-${a.id}-vs-${b.id}`)}`,
    ...comparisonFields(p, 'cpu'),
    scope,
  })

  // Two cells every one of whose paired rounds had a client-bound window: not compared by CPU, and said so.
  const unpaired = (kind: string, a: CellResult, b: CellResult): Finding | null => {
    const rounds = a.rounds.filter((ra) => b.rounds.some((rb) => rb.round === ra.round))
    if (rounds.length === 0) return null
    const bound = rounds.filter((ra) => ra.clientBound || b.rounds.find((rb) => rb.round === ra.round)!.clientBound).length
    if (bound < rounds.length) return null
    return {
      id: `${kind}-${a.id}-vs-${b.id}`,
      kind,
      sentence:
        `On ${a.workload}, ${label(a)} and ${label(b)} were not compared by CPU per request: in each of the ${rounds.length} ` +
        `rounds one of their windows was client-bound (the load generator did not keep the servers ${CLIENT_BOUND_SHARE * 100}% ` +
        'busy), so no pair of windows ran at saturation. Instructions per request (npm run bench -- --instructions) compare ' +
        'them without it.',
      cells: [a.id, b.id],
      figures: { clientBoundRounds: bound },
      detail: `${bound} of ${rounds.length} paired rounds had a client-bound window`,
      ratio: null,
      interval: null,
      coverage: null,
      method: null,
      metric: 'cpu',
      verdict: 'unresolved',
      roundsToDecide: null,
      scope: scopeOf(b, 'closed'),
    }
  }

  // Each token or sealed cookie against each server-side session, the store process's CPU counted on the session's side.
  for (const s of servers) {
    for (const j of clients.filter((c) => sameRuntime(c, s))) {
      const p = judged('cpu', j, s, true)
      if (!p) {
        const none = unpaired('cpu', j, s)
        if (none) out.push(none)
        continue
      }
      const scope = scopeOf(s, 'closed')
      const where = `${label(s)} (${WHERE[scope.store]})`
      const withStore = store(s) === null ? '' : ", the store process's CPU counted"
      const sentence =
        p.verdict === 'higher' || p.verdict === 'lower'
          ? `On ${s.workload}, ${label(j)} cost ${times(p.median)} the CPU per request ` +
            `of ${where}${withStore}: ${p.verdict === 'higher' ? 'the session was cheaper' : 'the token was cheaper'} in this ` +
            `run (one instance).`
          : p.verdict === 'equal'
            ? `On ${s.workload}, ${label(j)} and ${where} cost the same CPU per request within ${EQUIVALENCE * 100}%${withStore} ` +
              `(${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}; one instance).`
            : `On ${s.workload}, this run could not tell whether ${label(j)} or ${where} costs more CPU per request, or ` +
              `whether they cost the same (${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}${
                p.rounds < MIN_ROUNDS_FOR_FINDING ? `, ${p.rounds} round${p.rounds === 1 ? '' : 's'}` : ''
              }).`
      out.push(compared('cpu', j, s, p, sentence, scope))
    }
  }
  // The two effects that usually dominate: where a session's store runs, and which algorithm signs a token (same library).
  const pairsOf = (xs: CellResult[], same: (a: CellResult, b: CellResult) => boolean) =>
    xs.flatMap((a, i) =>
      xs
        .slice(i + 1)
        .filter((b) => same(a, b))
        .map((b) => (cpu(a) >= cpu(b) ? ([a, b] as const) : ([b, a] as const))),
    )
  for (const [kind, pairs, withStore] of EFFECTS.map(
    (e) => [`cpu-${e.name}`, pairsOf(e.side === 'server' ? servers : clients, e.isolates), e.side === 'server'] as const,
  )) {
    for (const [a, b] of pairs) {
      const p = judged(kind, a, b, withStore)
      if (!p) {
        const none = unpaired(kind, a, b)
        if (none) out.push(none)
        continue
      }
      const where = (c: CellResult) => (kind === 'cpu-store' ? ` (${WHERE[scopeOf(c, 'closed').store]})` : '')
      const counted = withStore && (store(a) !== null || store(b) !== null) ? ", the store process's CPU counted" : ''
      const figures = `${times(p.median)}, interval ${times(p.interval[0])}–${times(p.interval[1])}`
      const sentence =
        p.verdict === 'higher' || p.verdict === 'lower'
          ? `On ${a.workload}, ${label(a)}${where(a)} cost ${times(p.median)} the CPU per request of ${label(b)}${where(b)}${counted} ` +
            `(interval ${times(p.interval[0])}–${times(p.interval[1])}; one instance).`
          : p.verdict === 'equal'
            ? `On ${a.workload}, ${label(a)}${where(a)} and ${label(b)}${where(b)} cost the same CPU per request within ` +
              `${EQUIVALENCE * 100}%${counted} (${figures}).`
            : `On ${a.workload}, this run could not tell ${label(a)}${where(a)} and ${label(b)}${where(b)} apart by CPU per request ` +
              `or call them equal (${figures}).`
      // A cache trades the store read for a revocation lag: the reads it saved are part of the effect.
      const reads = (c: CellResult) => `${num(c.summary!.storeOpsPerRequest.reads, 4)} (${label(c)})`
      const saved = kind === 'cpu-sessioncache' ? ` Store reads per request: ${reads(a)} against ${reads(b)}.` : ''
      out.push(compared(kind, a, b, p, `${sentence}${saved}`, scopeOf(a, 'closed')))
    }
  }
  // A ranking only where the rounds support it: the cheapest (or dearest) must be ahead of every other.
  const auth = single.filter((c) => descriptorOf(c).state !== 'none')
  if (auth.length >= 3) {
    const byRatio = [...auth].sort((a, b) => cpu(a) - cpu(b))
    for (const [end, word] of [
      [byRatio[0]!, 'cheapest'],
      [byRatio[byRatio.length - 1]!, 'most expensive'],
    ] as const) {
      const others = auth.filter((c) => c !== end)
      const pairs = others.map((o) => ({ o, p: pairedRatio(o, end, { alpha }) }))
      const unclear = pairs.filter(({ p }) => !p || (word === 'cheapest' ? p.verdict !== 'higher' : p.verdict !== 'lower'))
      const scope = { ...scopeOf(end, 'closed'), store: 'none' as const, storeRttMs: null }
      const nearest = pairs.filter((x) => x.p).sort((x, y) => Math.abs(Math.log(x.p!.median)) - Math.abs(Math.log(y.p!.median)))[0]
      if (!nearest) continue
      const p = nearest.p!
      out.push({
        id: `rank-${word === 'cheapest' ? 'cheapest' : 'dearest'}`,
        kind: 'cpu-ranking',
        cells: [end.id, ...others.map((o) => o.id)],
        sentence:
          unclear.length === 0
            ? `On ${end.workload}, the ${word} authentication by servers' CPU per request was ${label(end)}: every other cell's ` +
              `paired interval lies ${word === 'cheapest' ? 'above' : 'below'} it by more ` +
              `than ${EQUIVALENCE * 100}% (nearest: ${label(nearest.o)}, ${times(p.median)}).`
            : `On ${end.workload}, no single ${word} authentication: ${label(end)} has the ${word === 'cheapest' ? 'lowest' : 'highest'} median, ` +
              `but ${list(unclear.map((u) => label(u.o)))} ${unclear.length === 1 ? 'is' : 'are'} not ahead of it by more than ` +
              `${EQUIVALENCE * 100}% in this run.`,
        figures: Object.fromEntries(pairs.map(({ o, p: q }) => [`${o.id}/${end.id}`, q ? q.median : null])),
        detail: pairs
          .map(
            ({ o, p: q }) => `${o.id}: ${q ? `${times(q.median)} (${times(q.interval[0])}–${times(q.interval[1])})` : 'no paired rounds'}`,
          )
          .join('; '),
        ...comparisonFields(p, 'cpu'),
        verdict: unclear.length === 0 ? 'ahead' : verdictOf(p) === 'equal' ? 'equal' : 'unresolved',
        scope,
      })
    }
  }
  out.push(...instructionFindings(results))
  out.push(...factFindings(results))
  return out
}

/** The kinds of comparison adaptive rounds add rounds for. */
const ADAPTIVE_KINDS = ['cpu', ...new Set(EFFECTS.map((e) => `cpu-${e.name}`))]

/** The CPU comparisons still unresolved in a run so far, and the cells they compare: what the next look measures. */
export function unresolvedComparisons(results: ResultsFile): { comparisons: string[]; cells: string[] } {
  const open = closedLoopFindings(results).filter((f) => ADAPTIVE_KINDS.includes(f.kind) && f.verdict === 'unresolved')
  return { comparisons: open.map((f) => f.id), cells: [...new Set(open.flatMap((f) => f.cells))] }
}
