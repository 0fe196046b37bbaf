/** Number, duration and table formatting for the terminal and the report: one place, one style. */

/** `v` with exactly `digits` decimals and thousands separators; '–' for a missing or non-finite value. */
export function num(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? '–'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Microseconds with one decimal, e.g. `12.3 µs`. */
export const us = (v: number) => `${v.toFixed(1)} µs`

/** A ratio, e.g. `1.56x`. */
export const times = (v: number) => `${v.toFixed(2)}x`

/** A share as a percentage with one decimal, e.g. `50.0%`. */
export const percent = (share: number) => `${(share * 100).toFixed(1)}%`

/** A relative change with its sign, e.g. `+25.0%`. */
export const signedPercent = (change: number) => `${change >= 0 ? '+' : ''}${percent(change)}`

/** Text made safe for HTML. */
export const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** `42s` or `2m05s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/** One aligned text table, first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
