// simulation.json's shape (docs/contracts.md, "Fleet simulation"): what the fleet model writes and
// what the pages that show it read.
import type { DistanceRow } from '../report/distance.ts'
import type { Calibration } from './calibrate.ts'
import type { FaultPrediction } from './faults.ts'
import type { Crossover, FleetRow, loadCurve, ValidationRow } from './model.ts'

export interface Simulation {
  /** What the model is and assumes, in one line each (the page says more). */
  model: { instances: number[]; storeRttMs: number[]; linkGbps: number; storeHostCores: number; judgedLoad: number; toleratedErrorPct: number }
  source: { scenario: string; startedAt: string; smoke: boolean }
  calibration: Calibration[]
  skipped: { cell: string; reason: string }[]
  validation: ValidationRow[]
  faults: FaultPrediction[]
  /** Cells behind a delay proxy: their servers' p50 growth over the twin next to the store, against round trips x the added RTT (the fleet's distance axis). */
  distance: DistanceRow[]
  fleet: FleetRow[]
  fleetNotes: string[]
  crossovers: Crossover[]
  /** Predicted p99 against load for each cell as the run had it. */
  curves: ReturnType<typeof loadCurve>[]
}
