import type { CellResult, Interval, ResultsFile } from '../results.ts'
import { signedPercent as pct, table } from '../format.ts'
import { esc } from './html.ts'

export interface CellChange {
  id: string
  metric: 'cpuUsPerRequest' | 'rps'
  old: Interval
  new: Interval
  /** (new - old) / old. */
  change: number
  /** The 95% intervals do not overlap: a change larger than the noise. */
  beyondNoise: boolean
  /** Worse by more than the threshold and beyond the noise. */
  regression: boolean
}

export interface Comparison {
  changes: CellChange[]
  onlyOld: string[]
  onlyNew: string[]
  thresholdPercent: number
}

const overlaps = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1]

/** Per-cell change of CPU per request and throughput between two runs (pure). */
export function compareResults(oldRun: ResultsFile, newRun: ResultsFile, thresholdPercent = 10): Comparison {
  const ok = (cells: CellResult[]) => new Map(cells.filter((c) => c.status === 'ok' && c.summary).map((c) => [c.id, c]))
  const a = ok(oldRun.cells)
  const b = ok(newRun.cells)
  const changes: CellChange[] = []
  for (const [id, n] of b) {
    const o = a.get(id)
    if (!o) continue
    for (const metric of ['cpuUsPerRequest', 'rps'] as const) {
      const oi = o.summary![metric]
      const ni = n.summary![metric]
      const change = (ni.median - oi.median) / oi.median
      const beyondNoise = !overlaps(oi.ci95, ni.ci95)
      const worse = metric === 'cpuUsPerRequest' ? change : -change
      changes.push({ id, metric, old: oi, new: ni, change, beyondNoise, regression: beyondNoise && worse * 100 > thresholdPercent })
    }
  }
  return {
    changes,
    onlyOld: [...a.keys()].filter((k) => !b.has(k)),
    onlyNew: [...b.keys()].filter((k) => !a.has(k)),
    thresholdPercent,
  }
}

const iv = (i: Interval, d: number) => `${i.median.toFixed(d)} [${i.ci95[0].toFixed(d)}-${i.ci95[1].toFixed(d)}]`
const verdict = (c: CellChange) => (c.regression ? 'REGRESSION' : c.beyondNoise ? 'changed' : 'within noise')

export function compareText(cmp: Comparison): string {
  const rows = cmp.changes.map((c) => [c.id, c.metric === 'rps' ? 'req/s' : 'CPU µs/req', iv(c.old, c.metric === 'rps' ? 0 : 1), iv(c.new, c.metric === 'rps' ? 0 : 1), pct(c.change), verdict(c)])
  const extra = [
    cmp.onlyOld.length ? `only in OLD: ${cmp.onlyOld.join(', ')}` : '',
    cmp.onlyNew.length ? `only in NEW: ${cmp.onlyNew.join(', ')}` : '',
    `a regression is worse by more than ${cmp.thresholdPercent}% with non-overlapping 95% intervals`,
  ].filter(Boolean)
  return `${table(['cell', 'figure', 'old (95% CI)', 'new (95% CI)', 'change', 'verdict'], rows)}\n\n${extra.join('\n')}`
}

export function compareHtml(cmp: Comparison, oldLabel: string, newLabel: string): string {
  const rows = cmp.changes.map((c) => `<tr><td>${esc(c.id)}</td><td>${c.metric === 'rps' ? 'req/s' : 'CPU µs/req'}</td><td class="n">${esc(iv(c.old, c.metric === 'rps' ? 0 : 1))}</td><td class="n">${esc(iv(c.new, c.metric === 'rps' ? 0 : 1))}</td><td class="n">${pct(c.change)}</td><td class="${c.regression ? 'bad' : ''}">${verdict(c)}</td></tr>`)
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authbench compare</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d8dee2;padding:5px 7px}th{background:#f5f7f8}.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#c0392b;font-weight:600}</style></head>
<body><h1>authbench: compare</h1><p>OLD <code>${esc(oldLabel)}</code> → NEW <code>${esc(newLabel)}</code>. A regression is worse by more than ${cmp.thresholdPercent}% with non-overlapping 95% intervals.</p>
<table><thead><tr><th>cell</th><th>figure</th><th>old (95% CI)</th><th>new (95% CI)</th><th>change</th><th>verdict</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
${cmp.onlyOld.length ? `<p>Only in OLD: ${esc(cmp.onlyOld.join(', '))}</p>` : ''}${cmp.onlyNew.length ? `<p>Only in NEW: ${esc(cmp.onlyNew.join(', '))}</p>` : ''}
</body></html>
`
}
