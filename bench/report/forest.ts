// The first screen's picture: every comparison's ratio with its interval on a log scale, the ±5% band
// shaded, each coloured by its verdict. Inline SVG: no script, prints, works from file://.
import { esc } from '../format.ts'
import { EQUIVALENCE, type Finding } from './verdict.ts'

const COLOR = { ahead: '#1f77b4', equal: '#2ca02c', unresolved: '#8c8c8c', fact: '#000' } as const
const ROW = 22
const LABEL = 470
const PLOT = 400
const TOP = 24

/** The comparisons a forest shows: findings with an interval, in the order given. */
export function forestRows(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.interval !== null && f.ratio !== null && f.verdict !== 'fact')
}

/** An SVG forest plot of `rows` (ratio of the first cell over the second), or '' when there is nothing to draw. */
export function forestSvg(rows: Finding[]): string {
  if (!rows.length) return ''
  const lo = Math.min(1 / (1 + 2 * EQUIVALENCE), ...rows.map((f) => f.interval![0]))
  const hi = Math.max(1 + 2 * EQUIVALENCE, ...rows.map((f) => f.interval![1]))
  const [a, b] = [Math.log(lo), Math.log(hi)]
  const x = (v: number) => LABEL + ((Math.log(v) - a) / (b - a)) * PLOT
  const height = TOP + rows.length * ROW + 10
  const band = `<rect x="${x(1 / (1 + EQUIVALENCE)).toFixed(1)}" y="${TOP - 6}" width="${(x(1 + EQUIVALENCE) - x(1 / (1 + EQUIVALENCE))).toFixed(1)}" \
height="${rows.length * ROW + 6}" fill="#2ca02c" opacity="0.12"/>`
  const ticks = [0.25, 0.5, 0.8, 1, 1.25, 2, 4, 8, 16]
    .filter((t) => t >= lo && t <= hi)
    .map(
      (t) =>
        `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${TOP - 6}" y2="${height - 10}" stroke="${t === 1 ? '#555' : '#ddd'}"/>` +
        `<text x="${x(t).toFixed(1)}" y="${TOP - 10}" font-size="11" text-anchor="middle">${t}x</text>`,
    )
  const body = rows.map((f, i) => {
    const y = TOP + i * ROW + ROW / 2
    const c = COLOR[f.verdict]
    const name = `${f.cells[0]} vs ${f.cells[1]} (${f.metric ?? ''})`
    return (
      `<text x="${LABEL - 8}" y="${y + 4}" font-size="11" text-anchor="end">${esc(name)}</text>` +
      `<line x1="${x(f.interval![0]).toFixed(1)}" x2="${x(f.interval![1]).toFixed(1)}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="3"/>` +
      `<circle cx="${x(f.ratio!).toFixed(1)}" cy="${y}" r="4" fill="${c}"><title>${esc(f.sentence)}</title></circle>`
    )
  })
  return `<svg class="forest" role="img" aria-label="Each comparison's ratio and interval against the ±${EQUIVALENCE * 100}% band" \
width="${LABEL + PLOT + 20}" height="${height}" viewBox="0 0 ${LABEL + PLOT + 20} ${height}" font-family="system-ui, sans-serif">\
${band}${ticks.join('')}${body.join('')}</svg>
<p class="muted">Each row: the first cell's cost over the second's (dot: median of the per-round ratios; bar: its interval), on a \
log scale; the green band is ±${EQUIVALENCE * 100}%. Blue: ahead; green: equal within ${EQUIVALENCE * 100}%; grey: unresolved.</p>`
}
