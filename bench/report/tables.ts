// The end-of-run tables on the terminal, one layout per workload (pure: results in, text out).
import { CLIENT_BOUND_SHARE, type CellResult, type ResultsFile } from '../contracts/results.ts'
import { num, table } from '../format.ts'
import { hostNoise } from '../summarize.ts'
import { endOfLifeSentence } from './runtimes.ts'

function row(c: CellResult, counted: boolean): string[] {
  const s = c.summary
  if (c.status === 'skipped' || c.status === 'failed' || !s) return [c.id, c.status, ...Array<string>(counted ? 10 : 9).fill('–')]
  const ops = s.storeOpsPerRequest
  const i = s.instructionsPerRequest
  return [
    c.id,
    c.status,
    num(s.rps.median, 0),
    ...(counted ? [i ? num(i.mean, 0) : '–'] : []),
    num(s.cpuUsPerRequest.median),
    `${num(s.cpuUsPerRequest.ci95[0])}-${num(s.cpuUsPerRequest.ci95[1])}`,
    num(s.ratioToBaseline.cpu, 2),
    s.storeCpuUsPerRequest ? num(s.storeCpuUsPerRequest.median) : '–',
    `${num(s.serverBusyShare * 100, 0)}%${s.clientBoundRounds ? '!' : ''}`,
    `${num(ops.reads, 2)}/${num(ops.writes, 2)}`,
    num(s.serverTimeUs.p50, 0),
    num(s.bytesPerRequest.request, 0),
  ]
}

function lifecycleRow(c: CellResult): string[] {
  const l = c.lifecycle
  if (!l) return [c.id, c.status, '–', '–', '–', '–', '–', '–', '–', '–']
  const ops = l.storeOpsPerSecond
  const lag = (v: number | null) => (v === null ? '–' : num(v, v < 10 ? 2 : 0))
  return [
    c.id,
    c.status,
    l.accessTtlSeconds === null ? '–' : String(l.accessTtlSeconds),
    String(l.requests),
    `${l.refreshes}${l.expected.refreshes === null ? '' : ` (${num(l.expected.refreshes, 0)})`}`,
    `${l.logins}/${l.logouts}`,
    `${num(ops.reads, 0)}/${num(ops.writes, 0)}/${num(ops.deletes, 0)}`,
    `${lag(l.revocationLagMs.p50)}/${lag(l.revocationLagMs.p99)} (${lag(l.expected.lagMedianMs)})`,
    l.races.attempted ? `${l.races.familyRevoked}/${l.races.attempted}` : '–',
    `${num(l.latencyUs.requests.p50 / 1000, 2)}/${num(l.latencyUs.requests.p99 / 1000, 2)}`,
  ]
}

export function lifecycleTable(results: ResultsFile): string {
  const headers = [
    'cell',
    'status',
    'TTL s',
    'GETs',
    'refreshes (expected)',
    'logins/logouts',
    'store r/w/d per s',
    'lag p50/p99 ms (expected p50)',
    'races revoked',
    'GET p50/p99 ms',
  ]
  const notes = results.cells.filter((c) => c.reason || c.lifecycle?.reason).map((c) => `  ${c.id}: ${c.reason ?? c.lifecycle?.reason}`)
  const text = table(headers, results.cells.map(lifecycleRow))
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text
}

export function closedTable(results: ResultsFile): string {
  const counted = results.cells.some((c) => c.summary?.instructionsPerRequest)
  const headers = [
    'cell',
    'status',
    'req/s',
    ...(counted ? ['instr/req'] : []),
    'CPU µs/req',
    'CPU interval',
    'CPU x base',
    'store µs',
    'busy',
    'reads/writes',
    'srv p50 µs',
    'req bytes',
  ]
  const text = table(
    headers,
    results.cells.map((c) => row(c, counted)),
  )
  const notes = results.cells
    .filter((c) => c.reason || c.note)
    .map((c) => `  ${c.id}: ${c.reason ?? ''}${c.reason && c.note ? '; ' : ''}${c.note ?? ''}`)
  const noise = hostNoise(results)?.message
  if (noise) notes.push(`  ${noise}`)
  const endOfLife = endOfLifeSentence(results)
  if (endOfLife) notes.push(`  ${endOfLife}`)
  if (results.cells.some((c) => c.summary?.clientBoundRounds))
    notes.push(
      `  busy!: some windows kept the servers under ${CLIENT_BOUND_SHARE * 100}% busy (client-bound): their CPU per request was measured below saturation`,
    )
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text
}
