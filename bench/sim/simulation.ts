// simulation.json's shape (docs/contracts.md, "Fleet simulation"): what the fleet model writes and
// what the pages that show it read.
import type { DistanceRow } from './distance.ts'
import type { Calibration } from './calibrate.ts'
import type { FaultPrediction } from './faults.ts'
import type { Crossover, FleetRow } from './model.ts'
import type { LayerVerdict, loadCurve, ValidationRow } from './latency.ts'

export interface Simulation {
  /** What the model is and assumes, in one line each (the page says more). */
  model: {
    instances: number[]
    storeRttMs: number[]
    linkGbps: number
    storeHostCores: number
    /** Points at or under this share of the cell's measured capacity are judged. */
    judgedCapacity: number
    /** A point's p50 holds within the first, its p99 within the second; a layer holds where the target shares of its judged points did. */
    tolerancePct: { p50: number; p99: number }
    targetShare: { p50: number; p99: number }
    /** What the run was, as the DES replays it: its arrival process and the cores its instances shared. */
    arrivals: 'constant' | 'poisson'
    serverCores: number
  }
  source: { scenario: string; startedAt: string; smoke: boolean }
  calibration: Calibration[]
  skipped: { cell: string; reason: string }[]
  /** The driver's floor as the model reads it: per rate, the idle gap, the wake-up it cost, and the time outside the servers
   * (p50, p99, the wake-up taken out); null when the run did not measure it. */
  floor: { rate: number; gapUs: number; wakeUs: number; outsideP50Us: number; outsideP99Us: number }[] | null
  validation: ValidationRow[]
  /** The latency layer's verdict for each instance count and each cell: what the fleet table and the headline may state. */
  layers: { byInstances: LayerVerdict[]; byCell: LayerVerdict[] }
  faults: FaultPrediction[]
  /** Cells behind a delay proxy: their servers' p50 growth over the twin next to the store, against round trips x the added RTT (the fleet's distance axis). */
  distance: DistanceRow[]
  fleet: FleetRow[]
  fleetNotes: string[]
  crossovers: Crossover[]
  /** Predicted p50 and p99 (the DES) against load for each cell as the run had it. */
  curves: ReturnType<typeof loadCurve>[]
}
