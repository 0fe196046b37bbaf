// The report of `npm run observe`: a fleet under load from outside, read from its servers' own
// metrics. Requests per second, CPU per request, store operations per request and server-side
// latency per instance, per cell and in total; nothing the load's client alone knows.
import type { CellResult, ResultsFile } from '../../contracts/results.ts'
import { esc, num, table } from '../../format.ts'
import { chartGrid } from '../../page/kit.ts'
import { median } from '../../stats.ts'
import { closedCharts } from '../charts.ts'
import { closedLoopFindings } from '../closed-findings.ts'
import type { WorkloadReport } from './report.ts'

/** One row of figures: an instance, a cell's instances together, or the whole fleet. */
interface Row {
  name: string
  requests: number
  rps: number
  cpuUsPerRequest: number | null
  ops: { reads: number; writes: number; deletes: number } | null
  serverP50Us: number | null
  serverP99Us: number | null
}

const ratio = (n: number, d: number) => (d === 0 ? null : n / d)
const opsPer = (o: { reads: number; writes: number; deletes: number }, requests: number) =>
  requests === 0 ? null : { reads: o.reads / requests, writes: o.writes / requests, deletes: o.deletes / requests }

/** Each of a cell's instances over its windows: sums of what it counted, the median of its windows' request-time quantiles. */
function instanceRows(c: CellResult): Row[] {
  const urls = [...new Set(c.rounds.flatMap((r) => (r.instanceWindows ?? []).map((w) => w.url)))]
  return urls.map((url) => {
    const windows = c.rounds.flatMap((r) =>
      (r.instanceWindows ?? []).filter((w) => w.url === url).map((w) => ({ w, s: r.durationSeconds })),
    )
    const requests = windows.reduce((n, x) => n + x.w.requests, 0)
    const seconds = windows.reduce((n, x) => n + x.s, 0)
    const served = windows.filter((x) => x.w.requests > 0)
    const sum = (k: 'reads' | 'writes' | 'deletes') => windows.reduce((n, x) => n + x.w.ops[k], 0)
    return {
      name: url,
      requests,
      rps: seconds ? requests / seconds : 0,
      cpuUsPerRequest: ratio(
        windows.reduce((n, x) => n + x.w.cpuUs, 0),
        requests,
      ),
      ops: opsPer({ reads: sum('reads'), writes: sum('writes'), deletes: sum('deletes') }, requests),
      serverP50Us: served.length ? median(served.map((x) => x.w.serverTimeUs.p50)) : null,
      serverP99Us: served.length ? median(served.map((x) => x.w.serverTimeUs.p99)) : null,
    }
  })
}

/**
 * A cell's instances together, pooled over its windows as an instance's are (its CPU over its requests);
 * the request time is its summary's, the median of its windows' quantiles.
 */
function cellRow(c: CellResult): Row {
  const s = c.summary
  const requests = c.rounds.reduce((n, r) => n + r.requests, 0)
  const seconds = c.rounds.reduce((n, r) => n + r.durationSeconds, 0)
  return {
    name: `${c.id} (${c.instances} instance${c.instances === 1 ? '' : 's'})`,
    requests,
    rps: seconds ? requests / seconds : 0,
    cpuUsPerRequest: ratio(
      c.rounds.reduce((n, r) => n + r.cpuUsPerRequest * r.requests, 0),
      requests,
    ),
    ops: s && requests ? s.storeOpsPerRequest : null,
    serverP50Us: s && requests ? s.serverTimeUs.p50 : null,
    serverP99Us: s && requests ? s.serverTimeUs.p99 : null,
  }
}

/** Every cell's windows together: the fleet's requests per second and its CPU and store operations per request. */
function fleetRow(results: ResultsFile): Row {
  const rounds = results.cells.flatMap((c) => c.rounds)
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const windows = new Set(rounds.map((r) => r.round)).size
  const seconds = median(results.cells.filter((c) => c.rounds.length).map((c) => c.rounds.reduce((n, r) => n + r.durationSeconds, 0)))
  const sum = (pick: (r: (typeof rounds)[number]) => number) => rounds.reduce((n, r) => n + pick(r) * r.requests, 0)
  return {
    name: `fleet (${windows} window${windows === 1 ? '' : 's'})`,
    requests,
    rps: seconds ? requests / seconds : 0,
    cpuUsPerRequest: ratio(
      sum((r) => r.cpuUsPerRequest),
      requests,
    ),
    ops: opsPer(
      {
        reads: sum((r) => r.storeOpsPerRequest.reads),
        writes: sum((r) => r.storeOpsPerRequest.writes),
        deletes: sum((r) => r.storeOpsPerRequest.deletes),
      },
      requests,
    ),
    serverP50Us: null,
    serverP99Us: null,
  }
}

const HEADERS = ['', 'requests', 'req/s', 'CPU µs/req', 'reads/writes/deletes per req', 'srv p50 µs', 'srv p99 µs']
const cellsOfRow = (r: Row) => [
  r.name,
  String(r.requests),
  num(r.rps, 0),
  r.requests ? num(r.cpuUsPerRequest) : 'served nothing',
  r.ops ? `${num(r.ops.reads, 2)}/${num(r.ops.writes, 2)}/${num(r.ops.deletes, 2)}` : '–',
  r.serverP50Us === null ? '–' : num(r.serverP50Us, 0),
  r.serverP99Us === null ? '–' : num(r.serverP99Us, 0),
]

/** Per cell its instances then the cell, and the fleet last; a cell whose windows failed says why. */
function rows(results: ResultsFile): { row: Row; cell: CellResult | null; level: 'instance' | 'cell' | 'fleet' }[] {
  return [
    ...results.cells.flatMap((c) => [
      ...instanceRows(c).map((row) => ({ row, cell: c, level: 'instance' as const })),
      { row: cellRow(c), cell: c, level: 'cell' as const },
    ]),
    { row: fleetRow(results), cell: null, level: 'fleet' as const },
  ]
}

/**
 * The page's first words for an observed run: what was read, and what could not be (only the load's client knows it),
 * before any answer is given.
 */
function observedLead(results: ResultsFile): string {
  const targets = results.cells.reduce((n, c) => n + c.instances, 0)
  const { rounds, durationSeconds } = results.scenario.load
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const observed =
    `Observed: ${plural(targets, 'server')} in ${plural(results.cells.length, 'cell')} under load from outside (another engine ` +
    `drove it; authbench sent no request), read from each server\u2019s own metrics at the edges of ${plural(rounds, 'window')} of ` +
    `${durationSeconds} s: the requests it served, its CPU, its store operations and its own request time (the exported buckets: ` +
    '15 bounds from 50 µs to 2.5 s).'
  const notObserved =
    'Not observed: client-side latency (what a user waits, the network included), the offered rate and the answers by status. ' +
    'Only the load\u2019s client knows them: read them from the summary of the engine that drove the load.'
  return `<p><strong>${esc(observed)}</strong></p>\n<p class="warn">${esc(notObserved)}</p>`
}

const observedSections: WorkloadReport['sections'] = (results, ctx) => {
  const body = rows(results)
    .map(({ row, cell, level }) => {
      const tds = cellsOfRow(row)
        .map((v, i) => (i === 0 ? `<td>${level === 'instance' ? '&nbsp;&nbsp;' : ''}${esc(v)}</td>` : `<td class="num">${esc(v)}</td>`))
        .join('')
      const failed = level === 'cell' && cell?.reason ? `<tr><td colspan="7" class="warn">${esc(cell.reason)}</td></tr>` : ''
      return `<tr${level === 'instance' ? '' : ' style="font-weight:600"'}>${tds}</tr>${failed}`
    })
    .join('\n')
  return `<h2>Per instance and in total</h2>
<table><thead><tr>${HEADERS.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${body}
</tbody></table>
<h2>Charts</h2>
${chartGrid(ctx.charts)}`
}

function observedTable(results: ResultsFile): string {
  const text = table(
    HEADERS,
    rows(results).map(({ row, level }) => cellsOfRow({ ...row, name: `${level === 'instance' ? '  ' : ''}${row.name}` })),
  )
  const notes = results.cells.filter((c) => c.reason).map((c) => `  ${c.id}: ${c.reason}`)
  return [text, '  load from outside: no client-side latency, offered rate or statuses', ...notes].join('\n')
}

/** The closed loop's comparisons, paired window by window (the cells' windows share their edges), in the words of load from outside. */
const observedFindings: WorkloadReport['findings'] = (results) =>
  closedLoopFindings(results).map((f) => ({
    ...f,
    sentence: f.sentence.replace(/^On observed,/, 'Under the load from outside,'),
    scope: { ...f.scope, loop: 'observed' },
  }))

/** The closed loop's charts of what the servers count (not the request's bytes or the ratios to a bracket: they need the harness's client). */
const OBSERVED_CHARTS = new Set(['rps', 'cpu', 'store-ops'])
const STORE_OPS_CAPTION =
  'Store reads, writes and deletes per request in the observed windows (users table included), as the servers count them; ' +
  "the requests are the outside load's own mix, so no count is expected of them."

export const observedReport: WorkloadReport = {
  kind: 'observed',
  loopWords: 'load from outside',
  findings: observedFindings,
  lead: observedLead,
  charts: (results) =>
    closedCharts(results)
      .filter((c) => OBSERVED_CHARTS.has(c.id))
      .map((c) => (c.id === 'store-ops' ? { ...c, caption: STORE_OPS_CAPTION } : c)),
  sections: observedSections,
  table: observedTable,
  measures: { openLoop: false, lifecycle: false, loadFromOutside: true },
}
