// The fault episodes of a lifecycle run: what failed, for how long, how soon the users were back,
// who had to log in again; its findings, charts and page section.
import { esc, num } from '../format.ts'
import type { CellResult, Episode, ResultsFile, TimelinePoint } from '../contracts/results.ts'
import type { ChartSpec, Line } from '../page/kit.ts'
import { storeTimeoutMsOf } from '../server-defaults.ts'
import { lifecycleLines, lineOptions } from './credential-lifetime.ts'

const faultedCells = (r: ResultsFile) => r.cells.filter((c) => c.status === 'ok' && c.timeline && c.recovery)
const describeFault = (e: { action: string; faultAtMs: number; storeBackAtMs: number | null }) =>
  `${e.action} at ${num(e.faultAtMs / 1000, 1)} s${
    e.storeBackAtMs !== null && e.storeBackAtMs > e.faultAtMs ? ` until ${num(e.storeBackAtMs / 1000, 1)} s` : ''
  }`

/**
 * What a partition did to a cell's GETs while the link was down, read off its figures. The verdict is read on the 100 ms
 * buckets wholly inside it (a GET due in the first bucket may be answered before the link goes down): "kept answering" when
 * none got a 503 (a 401 is a token that expired), "failed closed" when none got a 200, "mixed" otherwise; any other 5xx or
 * no answer makes it "mixed"; no such bucket (a partition under 200 ms, as a smoke run's): "too short to read". The words
 * give every GET due while the link was down.
 */
function partitionVerdict(
  e: Pick<Episode, 'during' | 'faultAtMs' | 'storeBackAtMs'>,
  timeline: TimelinePoint[],
): { verdict: 'kept answering' | 'failed closed' | 'mixed' | 'too short to read'; words: string } {
  const d = e.during
  const inside = timeline.filter((b) => b.tMs >= e.faultAtMs + 100 && b.tMs + 100 <= (e.storeBackAtMs ?? Infinity))
  const sum = (k: 'ok' | 'status503' | 'status502' | 'status5xx' | 'errors') => inside.reduce((n, b) => n + b[k], 0)
  const other = sum('status502') + sum('status5xx') + sum('errors')
  const share = (n: number) => `${num((100 * n) / Math.max(1, d.requests), 0)}%`
  const counts =
    `${d.ok} of ${d.requests} GETs answered 200, ${d.status503} 503, ${d.status401} 401` +
    (d.status502 + d.status5xx + d.errors ? `, ${d.status502 + d.status5xx + d.errors} another 5xx or no answer` : '')
  if (inside.length === 0) return { verdict: 'too short to read', words: `too short to read (${counts})` }
  if (other === 0 && sum('status503') === 0)
    return { verdict: 'kept answering', words: `kept answering without the store (${counts}; a 401 is a token that expired)` }
  if (other === 0 && sum('ok') === 0) return { verdict: 'failed closed', words: `failed closed (${counts})` }
  return { verdict: 'mixed', words: `${share(d.ok)} answered 200, ${share(d.status503)} 503 (${counts})` }
}

/** One sentence per cell and partition: what its GETs got while the store was cut off, how long the slowest waited against the
 * servers' store timeout, how soon after the link came back they were good again, and the refreshes that failed closed. */
function partitionLine(r: ResultsFile, c: CellResult, e: Episode): Line {
  const timeout = storeTimeoutMsOf(r.smoke)
  const slowest =
    e.slowestDuringMs === null || e.slowestDuringMs === undefined
      ? ''
      : `; the slowest GET took ${num(e.slowestDuringMs, 0)} ms (store timeout ${num(timeout, 0)} ms)`
  const back = e.recoveryMs === null ? 'not good again within the window' : `good again ${num(e.recoveryMs, 0)} ms after the link came back`
  const by = c.lifecycle?.refreshFailuresBy
  // A refresh the server gave up on can still reach the store once the link is back: the token rotated, and the retry with
  // the old one is refused as reuse.
  const refreshes = by?.unavailable
    ? `; ${by.unavailable} refreshes failed closed (503) in the window` +
      (by.invalidGrantAfterUnavailable
        ? `, and ${by.invalidGrantAfterUnavailable} retried after a 503 were refused as reuse (the rotation the server gave up on ` +
          'reached the store once the link was back): those users logged in again'
        : '')
    : ''
  return {
    text: `${c.id}, ${describeFault(e)}: ${partitionVerdict(e, c.timeline!).words}${slowest}; ${back}${refreshes}.`,
    figures:
      'users\' GETs due while the store host\'s link was down, by status; the slowest from its due time; "good again": 5 clean ' +
      '100 ms buckets in a row with p99 near its level before the fault',
  }
}

/** One sentence per cell and fault: what failed, for how long, how soon after the store was back the users were, and who had to log in again. */
export function faultFindings(r: ResultsFile): Line[] {
  const out: Line[] = []
  for (const c of faultedCells(r)) {
    for (const e of c.recovery!.episodes) {
      if (e.action === 'partition-store') {
        out.push(partitionLine(r, c, e))
        continue
      }
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

/** What a partition did to each cell: its GETs by status while the link was down, the slowest, the recovery, the verdict. */
function partitionHtml(r: ResultsFile, cells: CellResult[]): string {
  const rows = cells.flatMap((c) =>
    c
      .recovery!.episodes.filter((e) => e.action === 'partition-store')
      .map((e) => {
        const d = e.during
        const cell = (v: string | number) => `<td class="n">${typeof v === 'number' ? num(v, 0) : v}</td>`
        return (
          `<tr><td>${esc(c.id)}</td><td>${esc(partitionVerdict(e, c.timeline!).verdict)}</td>${cell(d.requests)}${cell(d.ok)}` +
          `${cell(d.status503)}${cell(d.status401)}${cell(d.status502 + d.status5xx)}${cell(d.errors)}` +
          `${cell(e.slowestDuringMs === null || e.slowestDuringMs === undefined ? '–' : num(e.slowestDuringMs, 0))}` +
          `${cell(e.recoveryMs === null ? '–' : num(e.recoveryMs, 0))}${cell(c.lifecycle?.refreshFailuresBy.unavailable ?? 0)}` +
          `${cell(c.lifecycle?.refreshFailuresBy.invalidGrantAfterUnavailable ?? 0)}</tr>`
        )
      }),
  )
  if (rows.length === 0) return ''
  return `<h3>What a partition does to each strategy</h3>
<p>The store host's link went down (its switch port: nothing reached the store, no connection was refused) and came up \
again; the app hosts and the users stayed connected. Each row is read off the cell's own figures, on the 100 ms buckets \
wholly inside the partition: "kept \
answering" when no GET got a 503 (a 401 there is a token that expired), "failed closed" when none got a 200, "mixed" otherwise. \
A server gives up on its store after ${num(storeTimeoutMsOf(r.smoke), 0)} ms; once the link is back, the servers' connections \
wait for TCP's next retransmission, so answers are good again some time after it. What a server sent into the partition is \
not lost: it reaches the store then, so a refresh it answered 503 may have rotated the token after all (the refresh columns \
count the whole window).</p>
<table><thead><tr><th>cell</th><th>while cut off</th><th>GETs</th><th>200</th><th>503</th><th>401</th><th>other 5xx</th>\
<th>no answer</th><th>slowest, ms</th><th>good again after the link, ms</th><th>refreshes failed closed</th><th>retried \
refreshes refused as reuse</th></tr></thead>\
<tbody>${rows.join('\n')}</tbody></table>`
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
the harness started; kill-instance: one of a cell's instances behind HAProxy, killed and started again; partition-store: the \
cells whose store is on the store host of a namespace topology, cut off from the app hosts): ${esc(
    (r.scenario.faults ?? [])
      .map((f) => `${f.action} at ${f.atSeconds} s${f.durationSeconds ? ` for ${f.durationSeconds} s` : ''}`)
      .join('; '),
  )}. The users kept their schedule (open loop), so every request due during the fault is counted. Restarts are \
without persistence: every session, refresh token and denylist entry is gone. A killed instance loses what it kept in its own \
memory; HAProxy's health checks (every 500 ms, out after two failures) stop sending to it, and a request whose connection it \
refused goes to another instance.</p>
<table><thead><tr><th>cell</th><th>fault</th><th>first failed GET, s</th><th>failures end, s</th><th>back to normal after the \
store, instance or link, ms</th><th>forced logins (peak)</th><th>HAProxy stopped routing to it after, ms</th></tr></thead>\
<tbody>${rows.join('\n')}</tbody></table>
${partitionHtml(r, cells)}`
}
