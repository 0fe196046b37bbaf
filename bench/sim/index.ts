// `npm run simulate`: from a run's measurements to simulation.json and its page (docs/contracts.md,
// "Fleet simulation").
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SimulationInputError } from '../contracts/errors.ts'
import { distanceRows } from './distance.ts'
import { calibrate, requireOpenLoop, type Calibrated } from './calibrate.ts'
import { predictFaults } from './faults.ts'
import { crossover, DEFAULT_MODEL, fleet, waitsAt, type ModelOptions } from './model.ts'
import {
  fleetP99,
  floorModel,
  JUDGED_CAPACITY,
  layers,
  loadCurve,
  outsideAt,
  pooledLevel,
  runCores,
  serverCores,
  TARGET_SHARE,
  TOLERANCE,
  validate,
  type LatencyInputs,
} from './latency.ts'
import { quantileOf, quantileWithWaits } from './queueing.ts'
import { renderSimulationHtml } from './page.ts'
import type { Simulation } from './simulation.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { balancerOf } from '../fleet/balancers.ts'
import type { StoreKind } from '../../common/kinds.ts'
import { storeDescriptors } from '../stores/index.ts'
import { writeJsonAtomic } from '../results-io.ts'
import { chartJsSource } from '../page/kit.ts'

export const DEFAULT_INSTANCES = [1, 2, 4, 8, 16, 32, 64]
export const DEFAULT_RTT_MS = [0, 0.5, 1, 2]
const SIMULATION_PAGE = 'simulation.html'
const LIMITS = { instances: [1, 1024], rttMs: [0, 1000], linkGbps: [0.01, 1000], storeHostCores: [1, 1024] } as const

export interface SimulateOptions extends ModelOptions {
  instances: number[]
  storeRttMs: number[]
}

/** Checks each option against its range; throws naming the one out of range. */
export function checkOptions(o: SimulateOptions): void {
  const bad = (what: string, v: unknown, range: readonly [number, number], whole = false) =>
    new SimulationInputError(`${what} must be ${whole ? 'whole numbers' : 'numbers'} from ${range[0]} to ${range[1]}; got ${String(v)}`)
  if (!o.instances.length || o.instances.some((n) => !Number.isInteger(n) || n < LIMITS.instances[0] || n > LIMITS.instances[1]))
    throw bad('--instances', o.instances.join(','), LIMITS.instances, true)
  if (!o.storeRttMs.length || o.storeRttMs.some((r) => !Number.isFinite(r) || r < LIMITS.rttMs[0] || r > LIMITS.rttMs[1]))
    throw bad('--store-rtt-ms', o.storeRttMs.join(','), LIMITS.rttMs)
  if (!Number.isFinite(o.linkGbps) || o.linkGbps < LIMITS.linkGbps[0] || o.linkGbps > LIMITS.linkGbps[1])
    throw bad('--link-gbps', o.linkGbps, LIMITS.linkGbps)
  if (!Number.isInteger(o.storeHostCores) || o.storeHostCores < LIMITS.storeHostCores[0] || o.storeHostCores > LIMITS.storeHostCores[1])
    throw bad('--store-cores', o.storeHostCores, LIMITS.storeHostCores, true)
}

/** A shared store of one single-threaded process (Redis), as a fleet would need one. */
const oneSharedProcess = (k: StoreKind) => {
  const d = storeDescriptors[k]
  return d.placement !== 'in-process' && d.processes === 1 && d.threading === 'single'
}

/** The CPU per operation of the run's one-process shared store: what the traffic of a cell whose store is in-process would cost on one. */
function sharedStorePerOp(cells: Calibrated[]): { cell: string; store: string; usPerOp: number } | null {
  const r = cells.find((c) => c.store !== null && oneSharedProcess(c.store) && c.storeCpuUsPerOp !== null)
  return r ? { cell: r.cell, store: storeDescriptors[r.store!].label, usPerOp: r.storeCpuUsPerOp! } : null
}

/** The whole simulation of one run (pure apart from the DES's arithmetic). */
export function runSimulation(
  results: ResultsFile,
  o: SimulateOptions = { instances: DEFAULT_INSTANCES, storeRttMs: DEFAULT_RTT_MS, ...DEFAULT_MODEL },
): Simulation {
  checkOptions(o)
  const { cells, skipped } = calibrate(results)
  requireOpenLoop(results, cells)
  const instances = [...new Set(o.instances)].sort((a, b) => a - b)
  const rtts = [...new Set(o.storeRttMs)].sort((a, b) => a - b)
  const f = fleet(cells, instances, rtts, o)
  const floor = floorModel(results.driverFloor, results.scenario.load.arrivals)
  const inputs: LatencyInputs = {
    arrivals: results.scenario.load.arrivals,
    cores: serverCores(results),
    clientCores: runCores(results).client,
    floor,
    storeHostCores: o.storeHostCores,
  }
  const capacity = (id: string) => results.cells.find((x) => x.id === id)?.summary?.rps.median ?? null
  // The analytic cross-check: M/G/1 waits (Poisson arrivals, an instance a core) on the servers' own time plus the time outside them.
  const bound = (c: Calibrated) => (rate: number) => {
    if (!c.ownPoints || !floor) return null
    const outside = outsideAt(floor, rate)
    const n = c.ownPoints.length
    // The two independent: each own time paired with an outside time in a scrambled order.
    const sum = c.ownPoints.map((x, i) => x + outside[(i * 7919) % outside.length]!).sort()
    return n ? quantileWithWaits(sum, waitsAt(c, rate, c.instances).waits, 0.99) : null
  }
  const rows = cells.flatMap((c) => {
    const cell = results.cells.find((x) => x.id === c.cell)
    // The DES replays the driver's round robin straight to the instances; a balancer's hop and CPU are not in it.
    const unreplayable =
      cell && balancerOf(cell).fronts
        ? `the run went through ${balancerOf(cell).label(cell.balance)}: its hop and its CPU are not in the model`
        : null
    return validate(c, cell?.openLoop ?? [], capacity(c.cell), inputs, bound(c), unreplayable)
  })
  const verdicts = layers(rows)
  // A fleet row states a latency only for a cell whose latency layer held in this run, at its
  // instance count as well as on its own points.
  const heldAt = new Set(verdicts.byInstances.filter((v) => v.holds).map((v) => v.instances))
  const held = new Set(verdicts.byCell.filter((v) => v.holds && heldAt.has(v.instances)).map((v) => v.layer))
  for (const r of f.rows) {
    const c = cells.find((x) => x.cell === r.cell)!
    if (held.has(r.cell)) r.p99UsAtHalfLoad = fleetP99(c, r.instances, r.maxRps / 2, r.storeRttMs, floor, o.storeHostCores)
  }
  return {
    model: {
      instances,
      storeRttMs: rtts,
      linkGbps: o.linkGbps,
      storeHostCores: o.storeHostCores,
      judgedCapacity: JUDGED_CAPACITY,
      tolerancePct: { p50: TOLERANCE.p50 * 100, p99: TOLERANCE.p99 * 100 },
      targetShare: { ...TARGET_SHARE },
      arrivals: inputs.arrivals,
      serverCores: inputs.cores,
    },
    source: { scenario: results.scenario.name, startedAt: results.startedAt, smoke: results.smoke },
    calibration: cells.map(({ ownPoints: _o, ...c }) => c),
    skipped,
    floor:
      floor === null
        ? null
        : floor.rates.map((rate, k) => ({
            rate,
            gapUs: floor.gapUs[k]!,
            wakeUs: floor.wakeUs[k]!,
            outsideP50Us: quantileOf(floor.outside[k]!, 0.5),
            outsideP99Us: quantileOf(floor.outside[k]!, 0.99),
          })),
    validation: rows,
    layers: verdicts,
    faults: predictFaults(results, cells),
    distance: distanceRows(results),
    fleet: f.rows,
    fleetNotes: f.notes,
    crossovers: cells.map((c) => crossover(c, o, sharedStorePerOp(cells))),
    // Each cell's curve at the level of the time outside the servers its points read (geometric medians over them).
    curves: cells.map((c) => {
      const levels = rows.filter((r) => r.cell === c.cell).map((r) => r.outsideLevel)
      return loadCurve(c, capacity(c.cell), inputs, levels.length ? pooledLevel(levels) : undefined)
    }),
  }
}

/** Writes DIR/simulation.json and DIR/simulation.html. */
export function writeSimulation(sim: Simulation, dir: string): { json: string; html: string } {
  const json = join(dir, 'simulation.json')
  const html = join(dir, SIMULATION_PAGE)
  writeJsonAtomic(json, sim)
  writeFileSync(html, renderSimulationHtml(sim, chartJsSource()))
  return { json, html }
}
