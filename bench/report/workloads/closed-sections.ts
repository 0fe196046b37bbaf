// The closed loop's page sections, shared by the closed loop and the open loop (whose capacity
// windows are closed-loop windows).
import { chartGrid } from '../../page/kit.ts'
import { breakdownHtml, comparisonHtml, methodology, microHtml, resultsTable } from '../sections.ts'
import { fleetHtml } from '../fleet.ts'
import type { WorkloadReport } from './report.ts'

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
