// What a workload is to the report: the one interface every entry of the registry (index.ts) implements.
import type { ResultsFile } from '../../contracts/results.ts'
import type { WorkloadKind } from '../../contracts/scenario.ts'
import type { ChartSpec } from '../../page/kit.ts'
import type { Finding } from '../verdict.ts'

export interface WorkloadReport {
  kind: WorkloadKind
  /** How a finding's scope names the loop its windows were driven by. */
  loopWords: string
  findings(results: ResultsFile): Finding[]
  /** What the page says first, under its title (a paragraph of HTML), when the workload's figures need it said before any answer. */
  lead?(results: ResultsFile): string
  charts(results: ResultsFile): ChartSpec[]
  /** Everything between the answer and the end of the page. */
  sections(results: ResultsFile, ctx: { charts: ChartSpec[]; fleetModel: string }): string
  /** The compact end-of-run table on the terminal. */
  table(results: ResultsFile): string
  /** What a run of this workload measures, for "Not measured in this run"; `loadFromOutside`: the load was another engine's. */
  measures: { openLoop: boolean; lifecycle: boolean; loadFromOutside: boolean }
}
