// plan.html's script, bundled into the page: the form's inputs in, every figure recomputed by the
// planner's own arithmetic, the table and the two plots redrawn. Offline: no request leaves the page.
import { FIGURE_NAMES, fmt, INPUT_FLAGS, plan, RENEWAL_SHARE, writesPerRequest } from './arithmetic.ts'
import type { ChoiceMeasured, Figure, Plan, PlanInputs } from './arithmetic.ts'

// The few DOM members used here, typed locally so the rest of the tree keeps Node's types alone.
interface Node {
  textContent: string | null
  innerHTML: string
  value: string
  addEventListener(type: string, f: () => void): void
}
declare const document: { getElementById(id: string): Node | null; querySelector(sel: string): Node | null }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const data = JSON.parse(document.getElementById('plan-data')!.textContent!) as { choices: ChoiceMeasured[]; inputs: PlanInputs }

function readInputs(): PlanInputs {
  const inputs = { ...data.inputs }
  for (const f of INPUT_FLAGS) inputs[f.key] = Number(document.querySelector(`[name="${f.flag}"]`)!.value)
  return inputs
}

function cell(id: string, name: string, f: Figure): string {
  const attrs = `data-choice="${esc(id)}" data-figure="${name}"`
  if (f.value === null) return `<td ${attrs} data-value="" class="absent" title="${esc(f.absent)}">absent</td>`
  const range = f.interval ? ` <small>[${fmt(f.interval[0])}, ${fmt(f.interval[1])}]</small>` : ''
  return `<td ${attrs} data-value="${f.value}" title="${esc(f.source)}">${fmt(f.value)}${range}</td>`
}

function table(p: Plan): string {
  const head = `<tr><th>choice</th>${FIGURE_NAMES.map((n) => `<th>${n}</th>`).join('')}</tr>`
  const rows = p.choices.map(
    (c) => `<tr><th>${esc(c.label)}<br><code>${esc(c.id)}</code></th>${FIGURE_NAMES.map((n) => cell(c.id, n, c.figures[n])).join('')}</tr>`,
  )
  return `<table>${head}${rows.join('')}</table>`
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']

/** Lines on one plot, x and y linear from 0, with the axes named. */
function plot(series: { name: string; points: [number, number][] }[], xName: string, yName: string, mark?: number, level?: number): string {
  const W = 640
  const H = 280
  const L = 60
  const B = 40
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const xMax = Math.max(...xs, 1e-9)
  const yMax = Math.max(...ys, 1e-9)
  const X = (x: number) => L + (x / xMax) * (W - L - 10)
  const Y = (y: number) => H - B - (y / yMax) * (H - B - 10)
  const lines = series.map(
    (s, i) =>
      `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${s.points
        .map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`)
        .join(' ')}"><title>${esc(s.name)}</title></polyline>`,
  )
  const legend = series.map((s, i) => `<tspan x="${L + 8}" dy="14" fill="${COLORS[i % COLORS.length]}">${esc(s.name)}</tspan>`)
  const markLine =
    mark === undefined ? '' : `<line x1="${X(mark)}" x2="${X(mark)}" y1="10" y2="${H - B}" stroke="#999" stroke-dasharray="4"/>`
  const levelLine =
    level === undefined ? '' : `<line x1="${L}" x2="${W - 10}" y1="${Y(level)}" y2="${Y(level)}" stroke="#999" stroke-dasharray="2"/>`
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">` +
    `<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#333"/>` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(xName)} (0 to ${fmt(xMax)})</text>` +
    `<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yName)} (0 to ${fmt(yMax)})</text>` +
    `${markLine}${levelLine}${lines.join('')}<text y="14">${legend.join('')}</text></svg>`
  )
}

function plots(inputs: PlanInputs): string {
  const rates = Array.from({ length: 11 }, (_, k) => (k / 10) * 2 * inputs.rate)
  const cost = data.choices
    .filter((c) => c.cpuUsPerRequest)
    .map((c) => ({
      name: c.label,
      points: rates.map((r): [number, number] => [r, (r * (c.cpuUsPerRequest!.value + (c.storeCpuUsPerRequest?.value ?? 0))) / 1e6]),
    }))
  const renewing = data.choices.filter((c) => c.renewalIntervalSeconds !== null && (c.storeReadsPerRequest?.value ?? 0) > 0)
  // Wide enough to show the team's own rate and every choice's break-even.
  const evenAt = renewing.map((c) => 60 / (RENEWAL_SHARE * c.storeReadsPerRequest!.value * c.renewalIntervalSeconds!))
  const top = Math.max(4 * inputs.requestsPerUserPerMinute, 1.5 * Math.max(0, ...evenAt))
  const perMinute = Array.from({ length: 81 }, (_, k) => (k / 80) * top)
  const renewal = renewing.map((c) => ({
    name: c.label,
    points: perMinute
      .filter((q) => q > 0)
      .map((q): [number, number] => [q, writesPerRequest(c, { ...inputs, requestsPerUserPerMinute: q })! / c.storeReadsPerRequest!.value]),
  }))
  return (
    `<h3>Cores (servers + store) against the fleet's rate</h3>${plot(cost, 'requests per second', 'cores', inputs.rate)}` +
    (renewal.length
      ? `<h3>Renewal writes over reads against a user's calls (break-even at ${RENEWAL_SHARE * 100}%)</h3>` +
        plot(renewal, 'requests per user per minute', 'writes / reads', inputs.requestsPerUserPerMinute, RENEWAL_SHARE)
      : '')
  )
}

function render(): void {
  const inputs = readInputs()
  const p = plan(data.choices, inputs)
  document.getElementById('figures')!.innerHTML = table(p)
  document.getElementById('break-even')!.innerHTML = p.breakEven
    .map((b) => `<li data-break-even="${b.kind}" data-choice="${esc(b.choice)}" data-value="${b.value}">${esc(b.text)}</li>`)
    .join('')
  document.getElementById('notes')!.innerHTML = p.notes.map((n) => `<p>${esc(n)}</p>`).join('')
  document.getElementById('plots')!.innerHTML = plots(inputs)
}

for (const f of INPUT_FLAGS) document.querySelector(`[name="${f.flag}"]`)!.addEventListener('input', render)
render()
