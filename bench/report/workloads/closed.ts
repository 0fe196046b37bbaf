import { chartGrid } from '../../page/kit.ts'
import { closedCharts } from '../charts.ts'
import { closedLoopFindings } from '../closed-findings.ts'
import { breakdownHtml, comparisonHtml, methodology, microHtml, resultsTable } from '../sections.ts'
import { closedTable } from '../tables.ts'
import { fleetHtml } from '../fleet.ts'
import type { WorkloadReport } from './index.ts'

/** The closed loop's page: the comparison table, the charts, where the CPU goes, every cell, the methodology. */
export const closedSections: WorkloadReport['sections'] = (results, { charts, fleetModel }) => `${fleetModel}
${fleetHtml(results)}
<h2>Session or JWT: the comparison, measured</h2>
${comparisonHtml(results)}
<h2>Charts</h2>
${chartGrid(charts)}
<h2>Where the CPU goes</h2>
${breakdownHtml(results)}
${microHtml(results)}
<h2>Every cell</h2>
${resultsTable(results.cells)}
<h2>Methodology</h2>
${methodology(results)}`

export const closedReport: WorkloadReport = {
  findings: closedLoopFindings,
  charts: closedCharts,
  sections: closedSections,
  table: closedTable,
  measures: { openLoop: false, lifecycle: false },
}
