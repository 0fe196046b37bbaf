import { chartGrid } from '../../page/kit.ts'
import { fromLines } from '../finding.ts'
import { faultHtml, lifecycleCharts, lifecycleFindings, lifecycleHtml } from '../lifecycle.ts'
import { lifecycleMethodology } from '../sections.ts'
import { lifecycleTable } from '../tables.ts'
import type { WorkloadReport } from './report.ts'

/** The lifecycle: faults first when the run had them, then the lifetime figures, the charts, the methodology. */
export const lifecycleReport: WorkloadReport = {
  kind: 'lifecycle',
  loopWords: 'lifecycle',
  findings: (r) => fromLines(r, 'lifecycle', lifecycleFindings(r), 'lifecycle'),
  charts: lifecycleCharts,
  sections: (results, { charts, fleetModel }) => `${faultHtml(results)}
${lifecycleHtml(results)}
${fleetModel}
<h2>Charts</h2>
${chartGrid(charts)}
<h2>Methodology</h2>
${lifecycleMethodology(results)}`,
  table: lifecycleTable,
  measures: { openLoop: false, lifecycle: true },
}
