import { percent, times, us } from '../format.ts'
import type { CellResult, ResultsFile } from '../results.ts'
import { descriptorOf } from '../strategies/index.ts'

/** A sentence generated from the numbers, with the figures it rests on. */
export interface Finding {
  text: string
  figures: string
}

function label(c: CellResult): string {
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  return `${descriptorOf(c).label.cell(c)}${n}`
}
const capitalized = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`

/** Short findings computed from the summaries: only what this run measured. */
export function findings(results: ResultsFile): Finding[] {
  const ok = results.cells.filter((c) => c.status === 'ok' && c.summary)
  const out: Finding[] = []
  const cpu = (c: CellResult) => c.summary!.cpuUsPerRequest.median
  const reads = (c: CellResult) => c.summary!.storeOpsPerRequest.reads
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1)
  const byCpu = (cells: CellResult[]) => [...cells].sort((a, b) => cpu(a) - cpu(b))
  const serverState = byCpu(single.filter((c) => descriptorOf(c).state === 'server'))
  const clientState = byCpu(single.filter((c) => descriptorOf(c).state === 'client'))
  const route = results.scenario.workload.route

  const auth = byCpu(single.filter((c) => descriptorOf(c).state !== 'none'))
  if (auth.length >= 2) {
    const lo = auth[0]!
    const hi = auth[auth.length - 1]!
    out.push({
      text: `On ${route}, the cheapest authentication was ${label(lo)} and the most expensive ${label(hi)}: ${times(cpu(hi) / cpu(lo))} the server CPU per request.`,
      figures: `${lo.id} ${us(cpu(lo))}, ${hi.id} ${us(cpu(hi))}${base ? `; ${base.id} ${us(cpu(base))}` : ''} (medians of ${results.scenario.load.rounds} rounds)`,
    })
  }
  // Every client-state cell (tokens, sealed cookies) against the server-side session of reference.
  const reference = serverState.find((c) => c.store === 'sqlite') ?? serverState[0]
  if (reference) {
    for (const j of clientState) {
      const r = cpu(j) / cpu(reference)
      const name = capitalized(label(j))
      const text = r > 1.1
        ? `${name} costs ${times(r)} the server CPU per request of ${label(reference)}, contrary to the folklore that ${descriptorOf(j).label.family} are the cheap option.`
        : r >= 0.9
          ? `${name} costs about the same server CPU per request as ${label(reference)} (${times(r)}).`
          : `${name} costs ${times(r)} the server CPU per request of ${label(reference)}: cheaper, as the folklore says.`
      out.push({
        text,
        figures: `${j.id} ${us(cpu(j))} vs ${reference.id} ${us(cpu(reference))}${base ? `; overhead over ${base.id}: ${us(cpu(j) - cpu(base))} vs ${us(cpu(reference) - cpu(base))}` : ''}`,
      })
    }
  }
  // Store reads beyond the baseline's (which holds any users-table read of the workload), counted.
  const plain = clientState.find((c) => reads(c) === (base ? reads(base) : 0))
  if (base && reference && plain && reads(reference) > reads(base)) {
    out.push({
      text: `On ${route}, ${label(reference)} read the store ${(reads(reference) - reads(base)).toFixed(3)} more times per request than the baseline; ${label(plain)} no more than the baseline. Counted, not assumed.`,
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
  if (base && auth.length > 0 && out.length === 0) {
    out.push({ text: 'Too few cells completed to compare strategies.', figures: `${ok.length} cells ok` })
  }
  return out
}
