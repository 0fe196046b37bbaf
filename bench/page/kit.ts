// The page kit the report and the fleet model's page share: styles, colours, the chart type and
// the scripts that draw it, the finding line. Neither page imports the other through this.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { StrategyKind } from '../../servers/types.ts'
import type { CellResult } from '../contracts/results.ts'
import { esc } from '../format.ts'
import { descriptorOf, strategyDescriptors } from '../strategies/index.ts'

const require = createRequire(import.meta.url)

/** A Chart.js configuration that is plain JSON (no functions), so it can be inlined and re-rendered. */
export interface ChartSpec {
  id: string
  title: string
  caption: string
  config: {
    type: 'bar' | 'line'
    data: { labels?: string[]; datasets: Record<string, unknown>[] }
    options: Record<string, unknown>
  }
}

/** A sentence and its figures in words, as the lifecycle, fault and distance sections compute them. */
export interface Line {
  text: string
  figures: string
}

/** Each strategy's own colour, from its descriptor, consistent across every chart. */
export const STRATEGY_COLOR = Object.fromEntries(Object.values(strategyDescriptors).map((d) => [d.kind, d.colors[0]!])) as Record<
  StrategyKind,
  string
>

/** One shade of its strategy's hue per cell, in order. */
export function cellColors(cells: CellResult[]): string[] {
  const seen = new Map<StrategyKind, number>()
  return cells.map((c) => {
    const shades = descriptorOf(c).colors
    const i = seen.get(c.strategy) ?? 0
    seen.set(c.strategy, i + 1)
    return shades[i % shades.length]!
  })
}

/** JSON safe to inline in a <script> element. */
const inlineJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')

export const CSS = `
:root { --fg: #1d2327; --muted: #5f6b73; --line: #d8dee2; --bg: #fff; --soft: #f5f7f8; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted, figcaption, .note { color: var(--muted); }
.answer { background: var(--soft); border-left: 4px solid ${STRATEGY_COLOR.session}; padding: 12px 16px; margin: 16px 0; }
.answer li { margin: 4px 0; } .figures { display: block; color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top; }
th { background: var(--soft); } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 20px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 12px; break-inside: avoid; }
figure h3 { font-size: 15px; margin: 0 0 6px; } .chart { position: relative; height: 330px; }
figcaption { font-size: 13px; margin-top: 6px; }
.bad { color: #c0392b; font-weight: 600; } .status-ok { color: #1e8449; } .status-invalid, .status-failed { color: #c0392b; \
font-weight: 600; } .status-skipped { color: #7f8c8d; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
code { font-size: 12px; background: var(--soft); padding: 1px 3px; border-radius: 3px; }
.warn { background: #fdf2e9; border: 1px solid #f0b27a; padding: 8px 12px; border-radius: 4px; }
@media print { main { max-width: none; padding: 0; } .grid { grid-template-columns: 1fr 1fr; } .chart { height: 260px; } h2 { break-after: avoid; } }
`

/** Chart.js's browser bundle, to inline (its package exports do not list the file, so resolve beside the entry). */
export function chartJsSource(): string {
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8')
}

/** The charts' data, Chart.js itself and the loop that draws each chart into its canvas: inlined, so the page needs no network. */
export const chartScripts = (
  charts: ChartSpec[],
  chartJsSource: string,
) => `<script type="application/json" id="authbench-charts">${inlineJson(charts.map((c) => ({ id: c.id, config: c.config })))}</script>
<script>${chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>
for (const spec of JSON.parse(document.getElementById('authbench-charts').textContent)) {
  new Chart(document.getElementById('chart-' + spec.id), spec.config);
}
</script>`

export const chartGrid = (charts: ChartSpec[]) => `<div class="grid">
${charts
  .map(
    (c) =>
      `<figure><h3>${esc(c.title)}</h3><div class="chart"><canvas ` +
      `id="chart-${esc(c.id)}" aria-label="${esc(c.title)}" role="img"></canvas></div><figcaption>${esc(c.caption)}</figcaption></figure>`,
  )
  .join('\n')}
</div>`
