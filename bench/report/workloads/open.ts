import { latencyCurve, closedCharts } from '../charts.ts'
import { closedLoopFindings } from '../closed-findings.ts'
import { distanceHtml } from '../distance.ts'
import { fromLines } from '../verdict.ts'
import { distanceFindings } from '../distance.ts'
import { faultFindings, faultHtml } from '../fault-episodes.ts'
import { openLoopFindings } from '../open-findings.ts'
import { openLoopHtml } from '../sections.ts'
import { closedSections } from './closed-sections.ts'
import { closedTable } from '../tables.ts'
import type { WorkloadReport } from './report.ts'

/** The open loop: the closed-loop figures of each round's capacity window, plus latency and CPU at equal offered load and the store's distance. */
export const openReport: WorkloadReport = {
  kind: 'open',
  loopWords: 'open loop',
  // Faults first when the run had them: the open loop's windows carried them, so its figures are read beside them.
  findings: (r) => [
    ...fromLines(r, 'faults', faultFindings(r), 'open'),
    ...fromLines(r, 'distance', distanceFindings(r), 'open'),
    ...closedLoopFindings(r),
    ...openLoopFindings(r),
  ],
  charts: (r) => {
    const curve = latencyCurve(r)
    return [...closedCharts(r), ...(curve ? [curve] : [])]
  },
  sections: (results, ctx) => `${faultHtml(results)}
${openLoopHtml(results)}
${distanceHtml(results)}
${closedSections(results, ctx)}`,
  table: closedTable,
  measures: { openLoop: true, lifecycle: false, loadFromOutside: false },
}
