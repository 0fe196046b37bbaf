import { formatDuration, num } from './format.ts'
import { workloadOf } from './workloads/index.ts'
import type { Scenario } from './contracts/scenario.ts'
import type { RunEvent, RunListener } from './contracts/events.ts'

type Measured = Extract<RunEvent, { type: 'round-measured' | 'open-measured' | 'lifecycle-measured' }>

/** What one measured window showed, in a line (pure). */
function measuredLine(e: Measured): string {
  if (e.type === 'round-measured')
    return `${num(e.measurement.rps, 0).padStart(7)} req/s  ${e.measurement.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req`
  if (e.type === 'open-measured') {
    const m = e.measurement
    return `open ${num(m.rate, 0).padStart(7)}/s${
      m.fraction === null ? '' : ` (${Math.round(m.fraction * 100)}% of ` + `capacity)`
    }: p50 ${num(m.latencyUs.p50 / 1000, 2)} ms, p99 ${num(m.latencyUs.p99 / 1000, 2)} ms${m.held ? '' : ' (rate not held)'}`
  }
  const m = e.measurement
  const lag = m.revocationLagMs.p50 === null ? 'no lag samples' : `revocation lag p50 ${num(m.revocationLagMs.p50, 1)} ms`
  return (
    `${m.requests} GETs, ${m.refreshes} refreshes, ${m.logouts} logouts, ` +
    `store ${num(m.storeOpsPerSecond.reads, 0)}/${num(m.storeOpsPerSecond.writes, 0)}/${num(m.storeOpsPerSecond.deletes, 0)} r/w/d per ` +
    `s, ${lag}${m.held ? '' : ' (schedule not held)'}`
  )
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
  let smoke = false
  const unprepared = new Set<string>()
  const active = new Set<string>()
  const perRound = () => (scenario ? workloadOf(scenario).progress.windowsPerRound([...active], baseline, scenario) : 0)
  const left = () => Math.max(0, perRound() - doneThisRound) + Math.max(0, rounds - Math.max(round, 1)) * perRound()
  const elapsed = () => formatDuration((now() - t0) / 1000)
  const eta = () => formatDuration(left() * stepSeconds + unprepared.size * prepareSeconds)
  const end = (id: string) => {
    active.delete(id)
    unprepared.delete(id)
  }

  return (e: RunEvent) => {
    switch (e.type) {
      case 'run-started': {
        scenario = e.scenario
        smoke = e.smoke === true
        const progress = workloadOf(e.scenario).progress
        rounds = e.scenario.load.rounds
        baseline = e.baseline
        stepSeconds = progress.windowSeconds(e.scenario, e.cells)
        prepareSeconds = progress.prepareSeconds(e.scenario)
        for (const c of e.cells) {
          active.add(c.id)
          unprepared.add(c.id)
        }
        print(
          e.affinity
            ? `CPUs: load generator and Redis on ${e.affinity.client}, servers on ${e.affinity.server}`
            : 'CPUs: not pinned (one CPU, taskset missing, or --no-pin): CPU per request will be noisier',
        )
        print(
          `${e.scenario.name}: ${e.cells.length} cells x ${rounds} rounds, ${progress.describe(
            e.scenario,
            e.cells,
            perRound(),
            baseline,
            e.seed,
          )}, about ${eta()}`,
        )
        return
      }
      case 'store-ready':
        if (e.description) print(e.description)
        return
      case 'notice':
        print(e.message)
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
        if (e.prepare) print(`${e.cell}: starting its servers, verifying,${smoke ? '' : ' checking its counts,'} logging in its users`)
        return
      case 'cell-prepared':
        unprepared.delete(e.cell)
        return
      case 'round-measured':
      case 'open-measured':
      case 'lifecycle-measured':
        done++
        doneThisRound++
        print(
          `[${done}/${done + left()}] round ${e.round}/${rounds} ${e.cell.padEnd(32)} ${measuredLine(e)}  elapsed ${elapsed()}, ETA ${eta()}`,
        )
        return
      case 'floor-measured': {
        const m = e.measurement
        print(
          `  round ${e.round}/${rounds} driver floor (a server that answers at once) ` +
            `at ${num(m.rate, 0)}/s: p50 ${num(m.latencyUs.p50 / 1000, 2)} ms, p99 ${num(m.latencyUs.p99 / 1000, 2)} ms${m.held ? '' : ' (rate not held)'}`,
        )
        return
      }
      case 'balancer-floor-measured': {
        const m = e.measurement
        print(
          `  balancer floor (HAProxy before a server that answers at once) at ${num(m.rate, 0)}/s: ` +
            `${m.cpuUsPerRequest === null ? 'nothing answered' : `${num(m.cpuUsPerRequest, 1)} µs CPU/req`}, ${num(m.busyShare * 100, 0)}% of a core` +
            `${m.held ? '' : ' (rate not held: the ladder stops here)'}`,
        )
        return
      }
      case 'window-repeated':
        print(`  ${e.cell}: ${e.reason}: measuring it again`)
        return
      case 'cell-invalid':
        end(e.cell)
        print(`  ${e.cell} ${e.status}: ${e.reason}`)
        return
      case 'instructions-counted':
        print(
          `  ${e.cell.padEnd(32)} ${num(e.count.mean, 0)} instructions/req (the server's, under callgrind; ` +
            `batches ${e.count.perBatch.map((b) => num(b, 0)).join(', ')}) in ${formatDuration(e.count.seconds)}`,
        )
        return
      case 'instructions-failed':
        print(`  ${e.cell}: instructions not counted: ${e.reason}`)
        return
      case 'micro-started':
        print('micro-benchmarks (quick)')
        return
      case 'run-finished':
        print(`${e.interrupted ? 'interrupted' : 'done'} after ${elapsed()}`)
    }
  }
}
