import { esc, num, signedPercent as pct, table } from '../format.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { countOf } from './instruction-findings.ts'

/**
 * How far two runs of the same code apart can disagree on this machine: the largest per-cell
 * difference of CPU per request relative to the bracketing baseline between two back-to-back
 * runs of scenarios/default.ts (see README, "What it measured here"). Within-run intervals say
 * nothing about this, so a change smaller than it is never called a regression.
 */
export const RUN_TO_RUN_SPREAD = {
  percent: 24,
  measured:
    "the largest per-cell difference between two back-to-back default runs, in two such pairs on this project's 2-core machine (18.3% and 23.7%, 2026-11-27)",
}

/** A cell's figure in both runs. */
interface CellChange {
  id: string
  /**
   * `instructions`: instructions per request, the figure that gates where both runs counted it; `cpuRatio`: CPU per request
   * over the bracketing baseline (gates where they did not); `cpuUs`, `rps`: shown for information.
   */
  metric: 'instructions' | 'cpuRatio' | 'cpuUs' | 'rps'
  old: number
  new: number
  /** (new - old) / old. */
  change: number
  /** Worse by more than the figure's limit (the gating figure only). */
  regression: boolean
  /** This figure gates the cell. */
  gates: boolean
  /** What a change must exceed to be a regression, percent: the two counts' own uncertainty for instructions. */
  limitPercent: number
}

export interface Comparison {
  changes: CellChange[]
  onlyOld: string[]
  onlyNew: string[]
  thresholdPercent: number
  spread: { percent: number; measured: string }
  /** The larger of the threshold and the spread: what a regression must exceed. */
  limitPercent: number
}

/** Per-cell change between two runs (pure). */
export function compareResults(oldRun: ResultsFile, newRun: ResultsFile, thresholdPercent = 10, spread = RUN_TO_RUN_SPREAD): Comparison {
  const ok = (cells: CellResult[]) => new Map(cells.filter((c) => c.status === 'ok' && c.summary).map((c) => [c.id, c]))
  const a = ok(oldRun.cells)
  const b = ok(newRun.cells)
  const limitPercent = Math.max(thresholdPercent, spread.percent)
  const changes: CellChange[] = []
  for (const [id, n] of b) {
    const o = a.get(id)
    if (!o) continue
    const counts = [countOf(o), countOf(n)] as const
    const counted = counts[0] !== null && counts[1] !== null
    // Two counts of the same code differ by at most their own uncertainties: a change beyond their sum is real.
    const countLimit = counted ? 100 * (counts[0]!.spread + counts[1]!.spread) : 0
    const figures: [CellChange['metric'], number | null, number | null][] = [
      ['instructions', counts[0]?.mean ?? null, counts[1]?.mean ?? null],
      [
        'cpuRatio',
        id === oldRun.scenario.baseline ? null : o.summary!.ratioToBaseline.cpu,
        id === newRun.scenario.baseline ? null : n.summary!.ratioToBaseline.cpu,
      ],
      ['cpuUs', o.summary!.cpuUsPerRequest.median, n.summary!.cpuUsPerRequest.median],
      ['rps', o.summary!.rps.median, n.summary!.rps.median],
    ]
    for (const [metric, before, after] of figures) {
      if (before === null || after === null) continue
      const change = (after - before) / before
      const gates = metric === 'instructions' || (metric === 'cpuRatio' && !counted)
      const limit = metric === 'instructions' ? countLimit : limitPercent
      changes.push({ id, metric, old: before, new: after, change, regression: gates && change * 100 > limit, gates, limitPercent: limit })
    }
  }
  return {
    changes,
    onlyOld: [...a.keys()].filter((k) => !b.has(k)),
    onlyNew: [...b.keys()].filter((k) => !a.has(k)),
    thresholdPercent,
    spread,
    limitPercent,
  }
}

const LABEL = { instructions: 'instructions/req', cpuRatio: 'CPU x baseline', cpuUs: 'CPU µs/req', rps: 'req/s' } as const
const DIGITS = { instructions: 0, cpuRatio: 3, cpuUs: 1, rps: 0 } as const
const verdict = (c: CellChange) =>
  c.regression
    ? `REGRESSION (beyond ${c.limitPercent.toFixed(1)}%)`
    : !c.gates
      ? 'for information'
      : Math.abs(c.change) * 100 > c.limitPercent
        ? 'better'
        : `within ${c.metric === 'instructions' ? "the counts' own spread" : 'run-to-run spread'} (${c.limitPercent.toFixed(1)}%)`

const rule = (cmp: Comparison) =>
  (cmp.changes.some((c) => c.metric === 'instructions' && c.gates)
    ? `Where both runs counted a cell's instructions per request, that count gates it: a regression is a count higher by ` +
      `more than the two counts' own uncertainty (each the larger of 1.5% and its batches' spread; the lowest batch is the figure). Elsewhere, a`
    : 'A') +
  ` regression is CPU per request over the bracketing baseline (the figure that cancels the machine's drift) worse by more ` +
  `than ${cmp.limitPercent}%: the larger of --threshold ${cmp.thresholdPercent}% and the run-to-run ` +
  `spread ${cmp.spread.percent}% (${cmp.spread.measured}). Absolute CPU and requests/s move with the machine between runs ` +
  `and are shown for information only.`

export function compareText(cmp: Comparison): string {
  const rows = cmp.changes.map((c) => [
    c.id,
    LABEL[c.metric],
    num(c.old, DIGITS[c.metric]),
    num(c.new, DIGITS[c.metric]),
    pct(c.change),
    verdict(c),
  ])
  const extra = [
    cmp.onlyOld.length ? `only in OLD: ${cmp.onlyOld.join(', ')}` : '',
    cmp.onlyNew.length ? `only in NEW: ${cmp.onlyNew.join(', ')}` : '',
    rule(cmp),
  ].filter(Boolean)
  return `${table(['cell', 'figure', 'old', 'new', 'change', 'verdict'], rows)}\n\n${extra.join('\n')}`
}

export function compareHtml(cmp: Comparison, oldLabel: string, newLabel: string): string {
  const rows = cmp.changes.map(
    (c) =>
      `<tr><td>${esc(c.id)}</td><td>${LABEL[c.metric]}</td><td class="n">${num(c.old, DIGITS[c.metric])}</td><td ` +
      `class="n">${num(c.new, DIGITS[c.metric])}</td><td class="n">${pct(c.change)}</td><td ` +
      `class="${c.regression ? 'bad' : ''}">${verdict(c)}</td></tr>`,
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authbench compare</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 \
16px}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d8dee2;padding:5px \
7px}th{background:#f5f7f8}.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#c0392b;font-weight:600}</style></head>
<body><h1>authbench: compare</h1><p>OLD <code>${esc(oldLabel)}</code> → NEW <code>${esc(newLabel)}</code>. ${esc(rule(cmp))}</p>
<table><thead><tr><th>cell</th><th>figure</th><th>old</th><th>new</th><th>change</th><th>verdict</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
${cmp.onlyOld.length ? `<p>Only in OLD: ${esc(cmp.onlyOld.join(', '))}</p>` : ''}${
  cmp.onlyNew.length ? `<p>Only in ` + `NEW: ${esc(cmp.onlyNew.join(', '))}</p>` : ''
}
</body></html>
`
}
