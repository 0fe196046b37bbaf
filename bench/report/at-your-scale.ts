// The report's "at your scale" section: this run's per-request figures turned into a fleet's by the
// planner's own arithmetic at its default inputs, and plan.html beside the report, where a team
// types its own rate, users and token lifetime (npm run plan combines several runs).
import { writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { DEFAULT_INPUTS, fmt, INPUT_FLAGS, plan, type ChoiceMeasured, type Figure, type FigureName } from '../capacity/arithmetic.ts'
import { measuredChoices } from '../capacity/measured.ts'
import { planHtml } from '../capacity/page.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { esc } from '../format.ts'
import type { Simulation } from '../sim/simulation.ts'

/** The page beside the report. */
const PLAN_PAGE = 'plan.html'

/** The choices this run measured, as the planner reads them (none for a run that measured no cell). */
const choicesOf = (results: ResultsFile, sim: Simulation | null): ChoiceMeasured[] =>
  measuredChoices([{ dir: '.', results, simulation: sim }])

/** Writes DIR/plan.html when the run measured a choice; returns whether it did. */
export function writePlanPage(results: ResultsFile, sim: Simulation | null, dir: string): boolean {
  const choices = choicesOf(results, sim)
  if (choices.length === 0) return false
  writeFileSync(join(dir, PLAN_PAGE), planHtml(choices, DEFAULT_INPUTS, [basename(dir)]))
  return true
}

const SHOWN: [FigureName, string][] = [
  ['serverCores', 'server cores'],
  ['storeCores', 'store cores'],
  ['storeReadsPerSecond', 'store reads/s'],
  ['storeWritesPerSecond', 'store writes/s'],
  ['revocationLagSeconds', 'revocation lag, s'],
]

const cell = (f: Figure) =>
  f.value === null
    ? `<td class="n muted" title="${esc(f.absent)}">absent</td>`
    : `<td class="n" title="${esc(f.source)}">${fmt(f.value)}${f.interval ? ` <small>(${fmt(f.interval[0])}–${fmt(f.interval[1])})</small>` : ''}</td>`

/** The section, or '' when the run measured no choice (and so wrote no plan.html). */
export function atYourScaleSection(results: ResultsFile, sim: Simulation | null): string {
  const choices = choicesOf(results, sim)
  if (choices.length === 0) return ''
  const p = plan(choices, DEFAULT_INPUTS)
  const inputs = INPUT_FLAGS.map((f) => `${f.label} ${fmt(DEFAULT_INPUTS[f.key])}`).join(', ')
  // The routes whose windows gave the per-request figures (the planner reads no login window as a request).
  const routes = [
    ...new Set(results.cells.filter((c) => c.status === 'ok' && c.summary && c.workload !== 'POST /login').map((c) => c.workload)),
  ]
  const per = routes.length
    ? `per ${routes.join(' and ')} request`
    : `per request (none here: its ${esc(results.scenario.workload.route)} windows are not an authenticated request's, so each ` +
      'per-request figure is absent and says why)'
  return `<h2>At your scale</h2>
<p>This run's figures ${per}, times a fleet's load, by the planner's arithmetic at its default inputs (${esc(inputs)}).
These inputs are an example, not a measurement: open <a href="${PLAN_PAGE}">${PLAN_PAGE}</a> to type your own (it recomputes every
figure in the page, offline), or run <code>npm run plan -- RUN_DIR [RUN_DIR...] --rate R --users U</code> on this
run's folder and others (a lifecycle run for refreshes, a latency run for p50 and p99). Hover a figure for the finding it
comes from; an absent one says why.</p>
<table><thead><tr><th>choice</th>${SHOWN.map(([, h]) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${p.choices.map((c) => `<tr><th>${esc(c.label)}</th>${SHOWN.map(([k]) => cell(c.figures[k])).join('')}</tr>`).join('\n')}
</tbody></table>
${p.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join('\n')}`
}
