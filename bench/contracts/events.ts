// What the runner tells its listeners, in order; the same records are what the results are
// reduced from (bench/reduce.ts), and what progress lines are printed from.
import type { StoreKind } from '../../servers/types.ts'
import type { CredentialInfo } from './client.ts'
import type { CellPlan } from './plan.ts'
import type {
  CpuPlan,
  InstructionCount,
  LifecycleMeasurement,
  OpenMeasurement,
  BalancerFloorPoint,
  FloorMeasurement,
  RevocationProbe,
  RoundMeasurement,
  StoreRtt,
  StoreSettings,
} from './results.ts'
import type { Scenario } from './scenario.ts'

/** What the runner tells its listeners, in order; the same records are what the results are reduced from. */
export type RunEvent =
  | {
      type: 'run-started'
      scenario: Scenario
      cells: CellPlan[]
      baseline: string
      affinity: CpuPlan | null
      seed: number
      smoke?: boolean
    }
  | { type: 'store-ready'; store: StoreKind; description: string | null; settings: StoreSettings | null }
  | { type: 'cell-skipped'; cell: string; reason: string }
  | { type: 'round-order'; round: number; order: string[] }
  | { type: 'round-started'; cell: string; round: number; slot: number; prepare: boolean }
  | { type: 'cell-prepared'; cell: string; credential: CredentialInfo; revocationProbe: RevocationProbe | null; storeRtt: StoreRtt | null }
  | { type: 'proxy-measured'; cell: string; cpuUs: number; forwarded: number }
  | { type: 'round-measured'; cell: string; round: number; slot: number; measurement: RoundMeasurement; problem: string | null }
  | { type: 'open-measured'; cell: string; round: number; measurement: OpenMeasurement; problem: string | null }
  | { type: 'floor-measured'; round: number; measurement: FloorMeasurement }
  | { type: 'balancer-floor-measured'; measurement: BalancerFloorPoint }
  | { type: 'lifecycle-measured'; cell: string; round: number; measurement: LifecycleMeasurement }
  | { type: 'window-repeated'; cell: string; round: number; slot: number; spread: number; reason: string }
  | { type: 'cell-invalid'; cell: string; round: number; status: 'invalid' | 'failed'; reason: string }
  | { type: 'instructions-counted'; cell: string; count: InstructionCount }
  | { type: 'instructions-failed'; cell: string; reason: string }
  | { type: 'micro-started' }
  /** Something the run did otherwise than asked, said on the terminal as it happens (e.g. loopback for lack of root). */
  | { type: 'notice'; message: string }
  | {
      type: 'look'
      rounds: number
      unresolved: string[]
      alpha: number
      planned: number[]
      stopped: 'decided' | 'last-look' | 'time-cap' | 'interrupted' | null
    }
  | { type: 'run-finished'; interrupted: boolean }

export type RunListener = (event: RunEvent) => void
