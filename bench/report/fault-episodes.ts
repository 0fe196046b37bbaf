// The fault episodes of a lifecycle run: what failed, for how long, how soon the users were back,
// who had to log in again; its findings, charts and page section.
import { esc, num } from '../format.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import type { ChartSpec, Line } from '../page/kit.ts'
import { lifecycleLines, lineOptions } from './credential-lifetime.ts'

const faultedCells = (r: ResultsFile) => r.cells.filter((c) => c.status === 'ok' && c.timeline && c.recovery)
const describeFault = (e: { action: string; faultAtMs: number; storeBackAtMs: number | null }) =>
  `${e.action} at ${num(e.faultAtMs / 1000, 1)} s${
    e.storeBackAtMs !== null && e.storeBackAtMs > e.faultAtMs ? ` until ${num(e.storeBackAtMs / 1000, 1)} s` : ''
  }`

/** One sentence per cell and fault: what failed, for how long, how soon after the store was back the users were, and who had to log in again. */
export function faultFindings(r: ResultsFile): Line[] {
  const out: Line[] = []
  for (const c of faultedCells(r)) {
    for (const e of c.recovery!.episodes) {
      const when = (ms: number | null) => (ms === null ? '–' : `${num(ms / 1000, 1)} s`)
      const failedFor =
        e.firstErrorMs === null ? 'no GET failed' : `GETs failed from ${when(e.firstErrorMs)} to ${when(e.lastErrorMs! + 100)}`
      const back =
        e.storeBackAtMs === null
          ? 'the store stayed down'
          : e.recoveryMs === null
            ? 'not back to normal within the window'
            : `back to normal ${num(e.recoveryMs, 0)} ms after the ${e.action === 'kill-instance' ? 'instance' : 'store'} was`
      const routed =
        e.routedAwayMs == null ? '' : `; HAProxy stopped routing to the dead instance ${num(e.routedAwayMs, 0)} ms after the kill`
      out.push({
        text: `${c.id}, ${describeFault(e)}: ${failedFor}${routed}; ${back}${
          e.forcedLogins ? `; ${e.forcedLogins} forced logins ` + `(peak ${num(e.loginStormPeakPerSecond, 0)}/s)` : ''
        }.`,
        figures:
          `100 ms buckets of users' GETs (open loop); a failure is a 401, a 503, another 5xx or no answer; "normal": 5 ` +
          `clean buckets in a row with p99 near its level before the first fault`,
      })
    }
    if (c.recovery!.sessionsLost)
      out.push({
        text:
          `${c.id}: ${c.recovery!.sessionsLost} of ${r.scenario.workload.users} users had to log in again in the window ` +
          '(state lost with the store or the instance).',
        figures: 'users forced to log in, each counted once',
      })
  }
  return out
}

/** The faults' timelines: failed GETs per second and GET p99 latency, one line per cell. */
export function faultCharts(r: ResultsFile): ChartSpec[] {
  const cells = faultedCells(r)
  if (cells.length === 0) return []
  const colors = new Map(lifecycleLines(r).flatMap((l) => l.cells.map((c) => [c.id, l.color] as const)))
  const faults = (r.scenario.faults ?? [])
    .map((f) => `${f.action} at ${f.atSeconds} s${f.durationSeconds ? ` for ${f.durationSeconds} s` : ''}`)
    .join(', ')
  const line = (c: CellResult, y: (b: NonNullable<CellResult['timeline']>[number]) => number) => ({
    label: c.id,
    data: c.timeline!.map((b) => ({ x: b.tMs / 1000, y: y(b) })),
    borderColor: colors.get(c.id),
    backgroundColor: colors.get(c.id),
    showLine: true,
    fill: false,
    pointRadius: 0,
  })
  const axes = (y: string) => ({
    ...lineOptions(y),
    scales: {
      x: { type: 'linear', title: { display: true, text: 'seconds into the measured window' } },
      y: { beginAtZero: true, title: { display: true, text: y } },
    },
  })
  return [
    {
      id: 'faults-failures',
      title: 'Failed GETs per second during the faults',
      caption:
        `Users' GETs answered 401, 503, another 5xx or not at all, in each 100 ms as a rate (open loop: the users keep ` +
        `their schedule through the fault). Faults: ${faults}. A 503 is the server failing closed while the store cannot answer; ` +
        `a 401 after a restart is a session lost with the store.`,
      config: {
        type: 'line',
        data: { datasets: cells.map((c) => line(c, (b) => (b.status401 + b.status502 + b.status503 + b.status5xx + b.errors) * 10)) },
        options: axes('failed GETs per second'),
      },
    },
    {
      id: 'faults-latency',
      title: 'GET latency p99 during the faults',
      caption:
        "The 99th percentile of the users' GETs due in each 100 ms, from their due time, in ms: while the store is paused " +
        'requests wait until the servers give up on it (503 after 0.5 s) or it resumes.',
      config: {
        type: 'line',
        data: { datasets: cells.map((c) => line(c, (b) => b.latencyUsP99 / 1000)) },
        options: axes('GET latency p99, ms'),
      },
    },
  ]
}

/** The faults section: one row per cell and fault. */
export function faultHtml(r: ResultsFile): string {
  const cells = faultedCells(r)
  if (cells.length === 0) return ''
  const when = (ms: number | null) => (ms === null ? '–' : num(ms / 1000, 1))
  const rows = cells.flatMap((c) =>
    c.recovery!.episodes.map(
      (e) =>
        `<tr><td>${esc(c.id)}</td><td>${esc(describeFault(e))}</td><td class="n">${when(e.firstErrorMs)}</td><td ` +
        `class="n">${e.lastErrorMs === null ? '–' : when(e.lastErrorMs + 100)}</td><td ` +
        `class="n">${e.recoveryMs === null ? '–' : num(e.recoveryMs, 0)}</td><td ` +
        `class="n">${e.forcedLogins} (${num(e.loginStormPeakPerSecond, 0)}/s)</td><td ` +
        `class="n">${e.routedAwayMs === null || e.routedAwayMs === undefined ? '–' : num(e.routedAwayMs, 0)}</td></tr>`,
    ),
  )
  return `<h2>Faults</h2>
<p>These faults hit the measured window of every cell they apply to (a store fault: the cells whose store is the private one \
the harness started; kill-instance: one of a cell's instances behind HAProxy, killed and started again): ${esc(
    (r.scenario.faults ?? [])
      .map((f) => `${f.action} at ${f.atSeconds} s${f.durationSeconds ? ` for ${f.durationSeconds} s` : ''}`)
      .join('; '),
  )}. The users kept their schedule (open loop), so every request due during the fault is counted. Restarts are \
without persistence: every session, refresh token and denylist entry is gone. A killed instance loses what it kept in its own \
memory; HAProxy's health checks (every 500 ms, out after two failures) stop sending to it, and a request whose connection it \
refused goes to another instance.</p>
<table><thead><tr><th>cell</th><th>fault</th><th>first failed GET, s</th><th>failures end, s</th><th>back to normal after the \
store or instance, ms</th><th>forced logins (peak)</th><th>HAProxy stopped routing to it after, ms</th></tr></thead>\
<tbody>${rows.join('\n')}</tbody></table>`
}
