import { chartGrid } from '../../page/kit.ts'
import { fromLines } from '../verdict.ts'
import { faultCharts, faultFindings, faultHtml } from '../fault-episodes.ts'
import { lifecycleCharts, lifecycleFindings, lifecycleHtml } from '../credential-lifetime.ts'
import { lifecycleMethodology } from '../sections.ts'
import { lifecycleTable } from '../tables.ts'
import type { WorkloadReport } from './report.ts'

/** The lifecycle: faults first when the run had them, then the lifetime figures, the charts, the methodology. */
export const lifecycleReport: WorkloadReport = {
  kind: 'lifecycle',
  loopWords: 'lifecycle',
  findings: (r) => fromLines(r, 'lifecycle', [...faultFindings(r), ...lifecycleFindings(r)], 'lifecycle'),
  // The fault charts lead, and only beside the lifetime charts they share their lines with.
  charts: (r) => {
    const lifetime = lifecycleCharts(r)
    return lifetime.length === 0 ? [] : [...faultCharts(r), ...lifetime]
  },
  sections: (results, { charts, fleetModel }) => `${faultHtml(results)}
${lifecycleHtml(results)}
${fleetModel}
<h2>Charts</h2>
${chartGrid(charts)}
<h2>Methodology</h2>
${lifecycleMethodology(results)}`,
  table: lifecycleTable,
  measures: { openLoop: false, lifecycle: true, loadFromOutside: false },
}
