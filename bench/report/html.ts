import { atYourScaleSection } from './at-your-scale.ts'
import { stacksSection } from './stacks-section.ts'
import { reportOf, workloadReports } from './workloads/index.ts'
import { hostNoise } from '../summarize.ts'
import { endOfLifeSentence } from './runtimes.ts'
import { esc } from '../format.ts'
import { computeFindings } from './findings.ts'
import { forestRows, forestSvg } from './forest.ts'
import { EQUIVALENCE, WHERE, type FindingsFile, type Scope } from './verdict.ts'
import { simulationSection } from '../sim/tables.ts'
import type { Simulation } from '../sim/simulation.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { chartScripts, type ChartSpec, CSS } from '../page/kit.ts'

const loopWords = (s: Scope) => (s.loop === 'probe' ? 'one probe after the measured windows' : workloadReports[s.loop].loopWords)
/** A scope in words, for the page: the loop as its workload names it. */
const scopeWords = (s: Scope) =>
  `${s.route}, ${loopWords(s)}, ${s.instances} instance${s.instances === 1 ? '' : 's'}${
    s.store === 'none' ? '' : `, ${WHERE[s.store]}${s.store === 'distance' ? ` (${s.storeRttMs} ms)` : ''}`
  }`

/** The first screen: the answer per question, what the run did not measure, then every finding with its figures and scope. */
function answerHtml(f: FindingsFile, completed: boolean): string {
  const answer = f.answer.length
    ? `<dl>${f.answer.map((a) => `<dt><strong>${esc(a.asked)}</strong></dt><dd>${esc(a.sentence)}</dd>`).join('\n')}</dl>`
    : completed
      ? '<p>No finding compares the cells of this run.</p>'
      : '<p>No cell completed, so there is nothing to compare.</p>'
  const missing = f.notMeasured.length
    ? `<h3>Not measured in this run</h3><ul>${f.notMeasured
        .map((m) => `<li>${esc(m.what)}: ${esc(m.why)}. To measure it: ` + `<code>${esc(m.command)}</code></li>`)
        .join('\n')}</ul>`
    : ''
  const verdictWord = {
    ahead: `ahead beyond ±${EQUIVALENCE * 100}%`,
    equal: `equal within ±${EQUIVALENCE * 100}%`,
    unresolved: 'unresolved',
    fact: 'counted',
  } as const
  return `<section class="answer" id="answer"><h2 style="margin-top:0">The answer for this run</h2>
<p class="muted">Each sentence is computed from this run's figures (findings.json beside this page holds them with their \
intervals and scope). A comparison's interval is distribution-free: the range between two of its per-round ratios chosen so \
that it holds the true median ratio with the stated coverage (order statistics). The verdict reads that interval against a \
±${EQUIVALENCE * 100}% band: "ahead" where it lies wholly outside, "equal" where it lies wholly inside (the same within \
${EQUIVALENCE * 100}%, not a failure to tell), "unresolved" where it crosses an edge, with how many rounds that spread would need.</p>
${forestSvg(forestRows(f.findings.filter((x) => /^(instructions|cpu)/.test(x.kind) && x.kind !== 'cpu-ranking')))}
${answer}
${missing}
</section>
<details><summary>Every finding (${f.findings.length}), with its figures and scope</summary><ul>
${f.findings
  .map(
    (x) =>
      `<li>${esc(x.sentence)}<span ` +
      `class="figures">${esc(verdictWord[x.verdict])} · ${esc(scopeWords(x.scope))} · ${esc(x.detail)}</span></li>`,
  )
  .join('\n')}
</ul></details>`
}

/** The whole report as one self-contained HTML page (Chart.js and the data inlined). Pure. */
export function renderHtml(
  results: ResultsFile,
  chartJsSource: string,
  charts: ChartSpec[] = reportOf(results).charts(results),
  sim: Simulation | null = null,
  found: FindingsFile = computeFindings(results),
): string {
  const fleetModel = simulationSection(sim, results.scenario.simulate === true)
  const notOk = results.cells.filter((c) => c.status !== 'ok')
  const completed = notOk.length < results.cells.length
  const warnings = [
    results.smoke
      ? 'This is a smoke run (windows of a second or less, one round): its figures show the shape of the output, not trustworthy measurements.'
      : '',
    results.interrupted ? 'This run was interrupted: some cells have fewer rounds or none.' : '',
    hostNoise(results)?.message ?? '',
    endOfLifeSentence(results) ?? '',
    notOk.length
      ? `${notOk.length} cell${notOk.length > 1 ? 's are' : ' is'} not in the ` +
        `charts: ${notOk.map((c) => `${c.id} (${c.status}${c.reason ? `: ${c.reason}` : ''})`).join('; ')}.`
      : '',
  ].filter(Boolean)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>authbench: ${esc(results.scenario.name)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>authbench: ${esc(results.scenario.name)}</h1>
<p class="muted">${esc(results.scenario.description)} · workload <code>${esc(results.scenario.workload.route)}</code> · ${esc(results.startedAt)}</p>
${reportOf(results).lead?.(results) ?? ''}
${warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('\n')}
${answerHtml(found, completed)}
${reportOf(results).sections(results, { charts, fleetModel })}
${stacksSection(results, found)}
${atYourScaleSection(results, sim)}
</main>
${chartScripts(charts, chartJsSource)}
</body></html>
`
}
