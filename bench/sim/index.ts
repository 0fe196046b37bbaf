// `npm run simulate`: from a run's measurements to simulation.json and its page (docs/contracts.md,
// "Fleet simulation").
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SimulationInputError } from '../../servers/errors.ts'
import { distanceRows } from '../report/distance.ts'
import { calibrate, requireOpenLoop, type Calibrated } from './calibrate.ts'
import { predictFaults } from './faults.ts'
import { crossover, DEFAULT_MODEL, fleet, JUDGED_LOAD, loadCurve, TOLERATED_ERROR, validation, type ModelOptions } from './model.ts'
import { renderSimulationHtml } from './page.ts'
import type { Simulation } from './simulation.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { writeJsonAtomic } from '../results-io.ts'
import { chartJsSource } from '../page/kit.ts'

export const DEFAULT_INSTANCES = [1, 2, 4, 8, 16, 32, 64]
export const DEFAULT_RTT_MS = [0, 0.5, 1, 2]
export const SIMULATION_PAGE = 'simulation.html'
export const LIMITS = { instances: [1, 1024], rttMs: [0, 1000], linkGbps: [0.01, 1000], storeHostCores: [1, 1024] } as const

export interface SimulateOptions extends ModelOptions {
  instances: number[]
  storeRttMs: number[]
}

/** Checks each option against its range; throws naming the one out of range. */
export function checkOptions(o: SimulateOptions): void {
  const bad = (what: string, v: unknown, range: readonly [number, number], whole = false) =>
    new SimulationInputError(`${what} must be ${whole ? 'whole numbers' : 'numbers'} from ${range[0]} to ${range[1]}; got ${String(v)}`)
  if (!o.instances.length || o.instances.some((n) => !Number.isInteger(n) || n < LIMITS.instances[0] || n > LIMITS.instances[1])) throw bad('--instances', o.instances.join(','), LIMITS.instances, true)
  if (!o.storeRttMs.length || o.storeRttMs.some((r) => !Number.isFinite(r) || r < LIMITS.rttMs[0] || r > LIMITS.rttMs[1])) throw bad('--store-rtt-ms', o.storeRttMs.join(','), LIMITS.rttMs)
  if (!Number.isFinite(o.linkGbps) || o.linkGbps < LIMITS.linkGbps[0] || o.linkGbps > LIMITS.linkGbps[1]) throw bad('--link-gbps', o.linkGbps, LIMITS.linkGbps)
  if (!Number.isInteger(o.storeHostCores) || o.storeHostCores < LIMITS.storeHostCores[0] || o.storeHostCores > LIMITS.storeHostCores[1]) throw bad('--store-cores', o.storeHostCores, LIMITS.storeHostCores, true)
}

/** The CPU per operation of the run's Redis, for cells whose store is in-process: what their traffic would cost on one. */
function redisPerOp(cells: Calibrated[]): { cell: string; usPerOp: number } | null {
  const r = cells.find((c) => c.store === 'redis' && c.storeCpuUsPerOp !== null)
  return r ? { cell: r.cell, usPerOp: r.storeCpuUsPerOp! } : null
}

/** The whole simulation of one run (pure apart from the DES's arithmetic). */
export function runSimulation(results: ResultsFile, o: SimulateOptions = { instances: DEFAULT_INSTANCES, storeRttMs: DEFAULT_RTT_MS, ...DEFAULT_MODEL }): Simulation {
  checkOptions(o)
  const { cells, skipped } = calibrate(results)
  requireOpenLoop(results, cells)
  const instances = [...new Set(o.instances)].sort((a, b) => a - b)
  const rtts = [...new Set(o.storeRttMs)].sort((a, b) => a - b)
  const f = fleet(cells, instances, rtts, o)
  return {
    model: { instances, storeRttMs: rtts, linkGbps: o.linkGbps, storeHostCores: o.storeHostCores, judgedLoad: JUDGED_LOAD, toleratedErrorPct: TOLERATED_ERROR * 100 },
    source: { scenario: results.scenario.name, startedAt: results.startedAt, smoke: results.smoke },
    calibration: cells.map(({ service: _s, lowLatency: _l, lowServer: _v, ...c }) => c),
    skipped,
    validation: validation(results, cells),
    faults: predictFaults(results, cells),
    distance: distanceRows(results),
    fleet: f.rows,
    fleetNotes: f.notes,
    crossovers: cells.map((c) => crossover(c, o, redisPerOp(cells))),
    curves: cells.map(loadCurve),
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
