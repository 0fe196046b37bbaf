import type { CellResult, ResultsFile } from './results.ts'
import { hostNoise } from './summarize.ts'

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** One aligned text table; pure, so the CLI prints it and tests read it. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function row(c: CellResult): string[] {
  const s = c.summary
  if (c.status === 'skipped' || c.status === 'failed' || !s) return [c.id, c.status, '-', '-', '-', '-', '-', '-', '-']
  const ops = s.storeOpsPerRequest
  return [
    c.id,
    c.status,
    fmt(s.rps.median, 0),
    fmt(s.cpuUsPerRequest.median),
    `${fmt(s.cpuUsPerRequest.ci95[0])}-${fmt(s.cpuUsPerRequest.ci95[1])}`,
    fmt(s.ratioToBaseline.cpu, 2),
    `${fmt(ops.reads, 2)}/${fmt(ops.writes, 2)}`,
    fmt(s.serverTimeUs.p50, 0),
    fmt(s.bytesPerRequest.request, 0),
  ]
}

/** The compact end-of-run table. */
export function summaryTable(results: ResultsFile): string {
  const headers = ['cell', 'status', 'req/s', 'CPU µs/req', 'CPU 95% CI', 'CPU x base', 'reads/writes', 'srv p50 µs', 'req bytes']
  const text = table(headers, results.cells.map(row))
  const notes = results.cells
    .filter((c) => c.reason || c.note)
    .map((c) => `  ${c.id}: ${c.reason ?? ''}${c.reason && c.note ? '; ' : ''}${c.note ?? ''}`)
  const noise = hostNoise(results)?.message
  if (noise) notes.push(`  ${noise}`)
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text
}
