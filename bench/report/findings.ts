import type { CellResult, ResultsFile } from '../results.ts'

/** A sentence generated from the numbers, with the figures it rests on. */
export interface Finding {
  text: string
  figures: string
}

const us = (v: number) => `${v.toFixed(1)} µs`
const x = (v: number) => `${v.toFixed(2)}x`

function label(c: CellResult): string {
  if (c.strategy === 'none') return 'no authentication'
  const n = c.instances > 1 ? `, ${c.instances} instances` : ''
  if (c.strategy === 'session') return `a ${c.store} session lookup${n}`
  const rev = c.revocation === 'denylist' ? ` with a ${c.store} denylist` : ''
  return `JWT ${c.alg} with ${c.engine}${rev}${n}`
}

/** Short findings computed from the summaries: only what this run measured. */
export function findings(results: ResultsFile): Finding[] {
  const ok = results.cells.filter((c) => c.status === 'ok' && c.summary)
  const out: Finding[] = []
  const cpu = (c: CellResult) => c.summary!.cpuUsPerRequest.median
  const base = ok.find((c) => c.id === results.scenario.baseline)
  const single = ok.filter((c) => c.instances === 1)
  const sessions = single.filter((c) => c.strategy === 'session').sort((a, b) => cpu(a) - cpu(b))
  const jwts = single.filter((c) => c.strategy === 'jwt').sort((a, b) => cpu(a) - cpu(b))
  const route = results.scenario.workload.route

  const auth = single.filter((c) => c.strategy !== 'none').sort((a, b) => cpu(a) - cpu(b))
  if (auth.length >= 2) {
    const lo = auth[0]!
    const hi = auth[auth.length - 1]!
    out.push({
      text: `On ${route}, the cheapest authentication was ${label(lo)} and the most expensive ${label(hi)}: ${x(cpu(hi) / cpu(lo))} the server CPU per request.`,
      figures: `${lo.id} ${us(cpu(lo))}, ${hi.id} ${us(cpu(hi))}${base ? `; ${base.id} ${us(cpu(base))}` : ''} (medians of ${results.scenario.load.rounds} rounds)`,
    })
  }
  const session = sessions.find((c) => c.store === 'sqlite') ?? sessions[0]
  if (session) {
    for (const j of jwts) {
      const r = cpu(j) / cpu(session)
      const name = `${label(j)[0]!.toUpperCase()}${label(j).slice(1)}`
      const text = r > 1.1
        ? `${name} costs ${x(r)} the server CPU per request of ${label(session)}, contrary to the folklore that JWTs are the cheap option.`
        : r >= 0.9
          ? `${name} costs about the same server CPU per request as ${label(session)} (${x(r)}).`
          : `${name} costs ${x(r)} the server CPU per request of ${label(session)}: cheaper, as the folklore says.`
      out.push({
        text,
        figures: `${j.id} ${us(cpu(j))} vs ${session.id} ${us(cpu(session))}${base ? `; overhead over ${base.id}: ${us(cpu(j) - cpu(base))} vs ${us(cpu(session) - cpu(base))}` : ''}`,
      })
    }
  }
  const readsSession = sessions[0]?.summary!.storeOpsPerRequest.reads
  const plainJwt = jwts.find((c) => c.revocation !== 'denylist')
  if (readsSession !== undefined && plainJwt) {
    out.push({
      text: `Sessions read the store on every request; plain JWTs do not. Counted, not assumed.`,
      figures: `${sessions[0]!.id}: ${readsSession.toFixed(3)} reads/request; ${plainJwt.id}: ${plainJwt.summary!.storeOpsPerRequest.reads.toFixed(3)} reads/request`,
    })
  }
  const cookie = ok.find((c) => c.credential?.kind === 'cookie')
  const bearer = ok.find((c) => c.credential?.kind === 'bearer')
  if (cookie && bearer) {
    out.push({
      text: `A JWT travels with every request: the ${bearer.credential!.decoded?.header.alg ?? ''} token's header is ${x(bearer.credential!.bytes / cookie.credential!.bytes)} the size of the session cookie, and anyone holding it can read its claims.`,
      figures: `${bearer.id}: ${bearer.credential!.bytes} bytes; ${cookie.id}: ${cookie.credential!.bytes} bytes; requests ${Math.round(bearer.summary!.bytesPerRequest.request)} vs ${Math.round(cookie.summary!.bytesPerRequest.request)} bytes`,
    })
  }
  const lingering = ok.filter((c) => c.revocationProbe && c.revocationProbe.keepsWorkingSeconds !== 0)
  if (lingering.length > 0) {
    const l = lingering[0]!
    out.push({
      text: `After logout, ${lingering.length === 1 ? 'one cell' : `${lingering.length} cells`} kept accepting the logged-out credential${l.revocationProbe!.keepsWorkingSeconds ? `, for up to ${l.revocationProbe!.keepsWorkingSeconds} s (the access token's remaining lifetime)` : ''}; sessions${results.cells.some((c) => c.revocation === 'denylist') ? ' and shared denylists' : ''} ended it at once.`,
      figures: lingering.map((c) => `${c.id}: GET /me after logout ${c.revocationProbe!.statusAfterLogout.join(', ')}`).join('; '),
    })
  }
  for (const c of ok.filter((c) => c.instances > 1 && c.summary!.status401Share > 0)) {
    out.push({
      text: `With ${c.instances} instances, ${label({ ...c, instances: 1 })} breaks: ${(c.summary!.status401Share * 100).toFixed(1)}% of requests got 401, because a per-process store is not shared.`,
      figures: `${c.id}: ${c.summary!.non2xx} non-2xx of ${c.rounds.reduce((n, r) => n + r.requests, 0)} requests`,
    })
  }
  if (base && jwts.length + sessions.length > 0 && out.length === 0) {
    out.push({ text: 'Too few cells completed to compare strategies.', figures: `${ok.length} cells ok` })
  }
  return out
}
