// plan.html: the team's inputs as a form, the measured choices inlined as JSON, and the planner's
// own arithmetic bundled in (esbuild), so the page recomputes every figure offline.
import { buildSync } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { esc } from '../format.ts'
import { INPUT_FLAGS, type ChoiceMeasured, type PlanInputs } from './arithmetic.ts'

/** The page's script: page-main.ts and the arithmetic it imports, one browser script. */
function bundlePageScript(): string {
  const out = buildSync({
    entryPoints: [fileURLToPath(new URL('./page-main.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
  })
  return out.outputFiles[0]!.text
}

// JSON and a script inlined in <script> must not close it early.
const inline = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')

export function planHtml(choices: ChoiceMeasured[], inputs: PlanInputs, runs: string[]): string {
  const fields = INPUT_FLAGS.map(
    (f) =>
      `<label>${esc(f.label)} <input type="number" name="${f.flag}" value="${inputs[f.key]}" min="${f.min}" max="${f.max}" step="any"></label>`,
  ).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authbench plan: your scale</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;max-width:1400px}
form{display:grid;grid-template-columns:repeat(3,minmax(14em,1fr));gap:.5em 1.5em;margin:1em 0}
label{display:flex;flex-direction:column}input{font:inherit;padding:.2em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:right;vertical-align:top}
th{text-align:left}td.absent{color:#999}small{color:#666}code{font-size:90%}
</style></head><body>
<h1>What each measured choice costs at your scale</h1>
<p>Figures per request as measured in ${runs.map((r) => `<code>${esc(r)}</code>`).join(', ')}, times your rate.
Hover a figure for what it rests on; an absent figure says why. Intervals are the runs' own, scaled.</p>
<form id="inputs" onsubmit="return false">
${fields}
</form>
<div id="notes"></div>
<div id="figures"></div>
<h2>Break-even points</h2>
<ul id="break-even"></ul>
<div id="plots"></div>
<script type="application/json" id="plan-data">${inline(JSON.stringify({ choices, inputs }))}</script>
<script>${inline(bundlePageScript())}</script>
</body></html>
`
}
