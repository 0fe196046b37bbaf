// What a workload is to the run: the one interface every entry of the registry (index.ts) implements.
import type { RunEvent } from '../contracts/events.ts'
import type { CellPlan, CellSpec } from '../contracts/plan.ts'
import type { CellResult } from '../contracts/results.ts'
import type { Scenario, ScenarioIssue, WorkloadKind } from '../contracts/scenario.ts'
import type { TurnContext } from './turn.ts'

type Measured = Extract<RunEvent, { type: 'round-measured' }>

/** What the reducer hands a workload for one cell: the plan, the cell's own events, the baseline's windows. */
export interface CellRecord {
  plan: CellPlan
  scenario: Scenario
  isBaseline: boolean
  events: RunEvent[]
  baseWindows: Measured[]
}

export interface WorkloadDescriptor {
  kind: WorkloadKind
  /** `--smoke`: this workload's own fields shrunk (the common ones are shrunk by the runner); `asked`: the scenario before either. */
  smoke(s: Scenario, asked: Scenario): Scenario
  /** What this workload cannot run as a cell asks (expanded from `cells[index]`), each with its field path. */
  checkCell(s: Scenario, spec: CellSpec, index: number): ScenarioIssue[]
  /** One round: every active cell in a shuffled order, measured as this workload measures. */
  runRound(round: number, ctx: TurnContext): Promise<void>
  /** The cell's figures this workload produces, reduced from its events (pure). */
  reduce(cell: CellRecord): Pick<CellResult, 'rounds' | 'summary' | 'openLoop' | 'lifecycle' | 'timeline' | 'recovery'>
  /** Whether this workload brackets cells with baseline windows (noise control). */
  bracketed: boolean
  progress: {
    /** Measured windows in one round for these active cells. */
    windowsPerRound(active: string[], baseline: string, s: Scenario): number
    /** Seconds one measured window takes (with its overheads), for the ETA. */
    windowSeconds(s: Scenario, cells: CellPlan[]): number
    /** Seconds to start, verify and log in a cell, for the ETA. */
    prepareSeconds(s: Scenario): number
    /** The run's opening line after the name: what it will do. */
    describe(s: Scenario, cells: CellPlan[], perRound: number, baseline: string, seed: number): string
  }
}
