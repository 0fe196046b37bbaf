// "What does my stack cost?": each session library cell as the run measured it, beside its own library's other preset
// and the reference session on the same store and framework, from the findings (the CPU verdicts, the preset facts)
// and the cells' counted figures. Shown only where a library cell ran.
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { esc, num, times } from '../format.ts'
import type { Finding, FindingsFile } from './verdict.ts'

const verdictWords = (f: Finding | undefined, other: string) => {
  if (!f || f.ratio === null || f.interval === null) return '–'
  const [a] = f.cells
  // A finding's ratio is its first cell over its second: read it from this row's side.
  const mine = a === other ? 1 / f.ratio : f.ratio
  const lo = a === other ? 1 / f.interval[1] : f.interval[0]
  const hi = a === other ? 1 / f.interval[0] : f.interval[1]
  return `${times(mine)} (${times(lo)}–${times(hi)}): ${f.verdict}`
}

/** Answers that carried a Set-Cookie over every answer of the cell's windows; null where a window did not read it. */
function setCookieShare(c: CellResult): number | null {
  if (c.rounds.length === 0 || c.rounds.some((r) => typeof r.setCookieShare !== 'number')) return null
  const requests = c.rounds.reduce((n, r) => n + r.requests, 0)
  return requests ? c.rounds.reduce((n, r) => n + r.setCookieShare! * r.requests, 0) / requests : null
}

export function stacksSection(results: ResultsFile, found: FindingsFile): string {
  const ok = results.cells.filter((c) => c.status === 'ok' && c.summary)
  const libraries = ok.filter((c) => c.library)
  if (libraries.length === 0) return ''
  const comparison = (kind: string, c: CellResult, other: CellResult | undefined) =>
    other ? found.findings.find((f) => f.kind === kind && f.cells.includes(c.id) && f.cells.includes(other.id)) : undefined
  const sameStack = (a: CellResult, b: CellResult) =>
    a.store === b.store && (a.framework ?? 'fastify') === (b.framework ?? 'fastify') && (a.runtime ?? null) === (b.runtime ?? null)
  const rows = libraries.map((c) => {
    const s = c.summary!
    const otherPreset = libraries.find((o) => o !== c && o.sessionLibrary === c.sessionLibrary && sameStack(o, c))
    const reference = ok.find((o) => o.strategy === 'session' && !o.library && sameStack(o, c) && o.instances === c.instances)
    const cpu = s.cpuUsPerRequest.median + (s.storeCpuUsPerRequest?.median ?? 0)
    const cookies = setCookieShare(c)
    return (
      `<tr><td>${esc(c.library!.library)}</td><td>${esc(c.preset ?? '')}</td><td>${esc(c.library!.adapter)}</td>` +
      `<td class="num">${num(s.storeOpsPerRequest.reads, 2)}</td><td class="num">${num(s.storeOpsPerRequest.writes, 2)}</td>` +
      `<td class="num">${cookies === null ? '–' : num(cookies, 2)}</td>` +
      `<td class="num">${num(cpu, 1)}</td><td class="num">${num(s.bytesPerRequest.request, 0)} / ${num(s.bytesPerRequest.response, 0)}</td>` +
      `<td>${otherPreset ? `${esc(otherPreset.preset ?? '')}: ${esc(verdictWords(comparison('cpu-preset', c, otherPreset), otherPreset.id))}` : '–'}</td>` +
      `<td>${reference ? esc(verdictWords(comparison('cpu-sessionlibrary', c, reference), reference.id)) : '–'}</td></tr>`
    )
  })
  const facts = found.findings.filter((f) => f.kind === 'library-preset')
  return `<h2>What does my stack cost?</h2>
<p>Each session library as the run served it on <code>${esc(results.scenario.workload.route)}</code>: store operations per request
counted by the servers and checked against the
store's own statistics, the share of answers that carried a <code>Set-Cookie</code> (counted by the servers), CPU per
request (the servers' and the store process's, medians), bytes per request and response, and its CPU against its other
preset and against the reference session on the same store and framework (the paired ratio of this row's cell over the
other, its interval and verdict, as in the findings).</p>
<table><thead><tr><th>library</th><th>preset</th><th>store adapter</th><th class="num">reads/req</th><th class="num">writes/req</th>\
<th class="num">Set-Cookie/answer</th>\
<th class="num">CPU µs/req</th><th class="num">bytes req / resp</th><th>CPU against its other preset</th>\
<th>CPU against the reference session</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${facts.length ? `<ul>${facts.map((f) => `<li>${esc(f.sentence)}</li>`).join('\n')}</ul>` : ''}`
}
