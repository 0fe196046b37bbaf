// The report's side of each workload: which findings it computes, which charts it draws and which
// sections its page shows. html.ts and findings.ts call these and never ask which workload a run held.
import type { ResultsFile } from '../../contracts/results.ts'
import { workloadKind, type WorkloadKind } from '../../contracts/scenario.ts'
import type { ChartSpec } from '../../page/kit.ts'
import { closedReport } from './closed.ts'
import { lifecycleReport } from './lifecycle.ts'
import { observedReport } from './observed.ts'
import { openReport } from './open.ts'
import type { WorkloadReport } from './report.ts'

export const workloadReports = {
  closed: closedReport,
  open: openReport,
  lifecycle: lifecycleReport,
  observed: observedReport,
} satisfies Record<WorkloadKind, WorkloadReport>

/** The run's report side. */
export const reportOf = (results: ResultsFile): WorkloadReport => workloadReports[workloadKind(results.scenario)]

/** The compact end-of-run table (pure: returns the text), as the run's workload lays it out. */
export const summaryTable = (results: ResultsFile): string => reportOf(results).table(results)

/** Every chart of a run, as its workload draws them. */
export const buildCharts = (results: ResultsFile): ChartSpec[] => reportOf(results).charts(results)
