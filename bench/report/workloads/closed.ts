import { closedCharts } from '../charts.ts'
import { closedLoopFindings } from '../closed-findings.ts'
import { closedTable } from '../tables.ts'
import { closedSections } from './closed-sections.ts'
import type { WorkloadReport } from './report.ts'

export const closedReport: WorkloadReport = {
  kind: 'closed',
  loopWords: 'closed loop',
  findings: closedLoopFindings,
  charts: closedCharts,
  sections: closedSections,
  table: closedTable,
  measures: { openLoop: false, lifecycle: false, loadFromOutside: false },
}
