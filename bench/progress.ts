import { formatDuration, num, table } from './format.ts'
import { workloadOf } from './workloads/index.ts'
import { workloadKind, type Scenario, type WorkloadKind } from './contracts/scenario.ts'
import { hostNoise } from './summarize.ts'
import { CLIENT_BOUND_SHARE, type CellResult, type ResultsFile } from './contracts/results.ts'
import type { RunEvent, RunListener } from './contracts/events.ts'

type Measured = Extract<RunEvent, { type: 'round-measured' | 'open-measured' | 'lifecycle-measured' }>

/** What one measured window showed, in a line (pure). */
export function measuredLine(e: Measured): string {
  if (e.type === 'round-measured') return `${num(e.measurement.rps, 0).padStart(7)} req/s  ${e.measurement.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req`
  if (e.type === 'open-measured') {
    const m = e.measurement
    return `open ${num(m.rate, 0).padStart(7)}/s${m.fraction === null ? '' : ` (${Math.round(m.fraction * 100)}% of capacity)`}: p50 ${num(m.latencyUs.p50 / 1000, 2)} ms, p99 ${num(m.latencyUs.p99 / 1000, 2)} ms${m.held ? '' : ' (rate not held)'}`
  }
  const m = e.measurement
  const lag = m.revocationLagMs.p50 === null ? 'no lag samples' : `revocation lag p50 ${num(m.revocationLagMs.p50, 1)} ms`
  return `${m.requests} GETs, ${m.refreshes} refreshes, ${m.logouts} logouts, store ${num(m.storeOpsPerSecond.reads, 0)}/${num(m.storeOpsPerSecond.writes, 0)}/${num(m.storeOpsPerSecond.deletes, 0)} r/w/d per s, ${lag}${m.held ? '' : ' (schedule not held)'}`
}

/**
 * A listener that prints progress lines with the elapsed time and an ETA. The ETA counts what is
 * left: measured windows of every cell still active, and the cells not yet started.
 */
export function progressPrinter(print: (line: string) => void, now: () => number = () => performance.now()): RunListener {
  const t0 = now()
  let rounds = 0
  let stepSeconds = 0
  let prepareSeconds = 0
  let baseline = ''
  let round = 0
  let doneThisRound = 0
  let done = 0
  let scenario: Scenario | null = null
  const unprepared = new Set<string>()
  const active = new Set<string>()
  const perRound = () => (scenario ? workloadOf(scenario).progress.windowsPerRound([...active], baseline, scenario) : 0)
  const left = () => Math.max(0, perRound() - doneThisRound) + Math.max(0, rounds - Math.max(round, 1)) * perRound()
  const elapsed = () => formatDuration((now() - t0) / 1000)
  const eta = () => formatDuration(left() * stepSeconds + unprepared.size * prepareSeconds)
  const end = (id: string) => { active.delete(id); unprepared.delete(id) }

  return (e: RunEvent) => {
    switch (e.type) {
      case 'run-started': {
        scenario = e.scenario
        const progress = workloadOf(e.scenario).progress
        rounds = e.scenario.load.rounds
        baseline = e.baseline
        stepSeconds = progress.windowSeconds(e.scenario, e.cells)
        prepareSeconds = progress.prepareSeconds(e.scenario)
        for (const c of e.cells) { active.add(c.id); unprepared.add(c.id) }
        print(e.affinity
          ? `CPUs: load generator and Redis on ${e.affinity.client}, servers on ${e.affinity.server}`
          : 'CPUs: not pinned (one CPU, taskset missing, or --no-pin): CPU per request will be noisier')
        print(`${e.scenario.name}: ${e.cells.length} cells x ${rounds} rounds, ${progress.describe(e.scenario, e.cells, perRound(), baseline, e.seed)}, about ${eta()}`)
        return
      }
      case 'store-ready':
        if (e.description) print(e.description)
        return
      case 'cell-skipped':
        end(e.cell)
        print(`  ${e.cell} skipped: ${e.reason}`)
        return
      case 'round-order':
        round = e.round
        doneThisRound = 0
        return
      case 'round-started':
        if (e.prepare) print(`${e.cell}: starting its servers, verifying, checking its counts, logging in its users`)
        return
      case 'cell-prepared':
        unprepared.delete(e.cell)
        return
      case 'round-measured':
      case 'open-measured':
      case 'lifecycle-measured':
        done++
        doneThisRound++
        print(`[${done}/${done + left()}] round ${e.round}/${rounds} ${e.cell.padEnd(32)} ${measuredLine(e)}  elapsed ${elapsed()}, ETA ${eta()}`)
        return
      case 'window-repeated':
        print(`  ${e.cell}: ${e.reason}: measuring it again`)
        return
      case 'cell-invalid':
        end(e.cell)
        print(`  ${e.cell} ${e.status}: ${e.reason}`)
        return
      case 'micro-started':
        print('micro-benchmarks (quick)')
        return
      case 'run-finished':
        print(`${e.interrupted ? 'interrupted' : 'done'} after ${elapsed()}`)
    }
  }
}

function row(c: CellResult): string[] {
  const s = c.summary
  if (c.status === 'skipped' || c.status === 'failed' || !s) return [c.id, c.status, '–', '–', '–', '–', '–', '–', '–', '–', '–']
  const ops = s.storeOpsPerRequest
  return [
    c.id,
    c.status,
    num(s.rps.median, 0),
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
    c.id, c.status,
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

function lifecycleTable(results: ResultsFile): string {
  const headers = ['cell', 'status', 'TTL s', 'GETs', 'refreshes (expected)', 'logins/logouts', 'store r/w/d per s', 'lag p50/p99 ms (expected p50)', 'races revoked', 'GET p50/p99 ms']
  const notes = results.cells.filter((c) => c.reason || c.lifecycle?.reason).map((c) => `  ${c.id}: ${c.reason ?? c.lifecycle?.reason}`)
  const text = table(headers, results.cells.map(lifecycleRow))
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text
}

function closedTable(results: ResultsFile): string {
  const headers = ['cell', 'status', 'req/s', 'CPU µs/req', 'CPU interval', 'CPU x base', 'store µs', 'busy', 'reads/writes', 'srv p50 µs', 'req bytes']
  const text = table(headers, results.cells.map(row))
  const notes = results.cells
    .filter((c) => c.reason || c.note)
    .map((c) => `  ${c.id}: ${c.reason ?? ''}${c.reason && c.note ? '; ' : ''}${c.note ?? ''}`)
  const noise = hostNoise(results)?.message
  if (noise) notes.push(`  ${noise}`)
  if (results.cells.some((c) => c.summary?.clientBoundRounds)) notes.push(`  busy!: some windows kept the servers under ${CLIENT_BOUND_SHARE * 100}% busy (client-bound): their CPU per request was measured below saturation`)
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text
}

const TABLES: Record<WorkloadKind, (r: ResultsFile) => string> = { closed: closedTable, open: closedTable, lifecycle: lifecycleTable }

/** The compact end-of-run table (pure: returns the text), as the run's workload lays it out. */
export function summaryTable(results: ResultsFile): string {
  return TABLES[workloadKind(results.scenario)](results)
}
