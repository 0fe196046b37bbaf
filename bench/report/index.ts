import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Simulation } from '../sim/simulation.ts'
import { buildCharts } from './workloads/index.ts'
import { computeFindings } from './findings.ts'
import { renderHtml } from './html.ts'
import { renderPngs, type PngOutcome } from './png.ts'
import { writeJsonAtomic } from '../results-io.ts'
import type { ResultsFile } from '../contracts/results.ts'
import { chartJsSource } from '../page/kit.ts'
import { writePlanPage } from './at-your-scale.ts'

/**
 * Writes DIR/findings.json (every sentence the page states, with its figures, interval and scope),
 * DIR/index.html rendered from them, and DIR/charts/*.png (when canvas is available), from results
 * alone (and DIR/simulation.json, when the fleet model was run on them), and DIR/plan.html, the planner's page on this run's figures.
 */
export async function writeReport(results: ResultsFile, dir: string): Promise<{ html: string; png: PngOutcome }> {
  const charts = buildCharts(results)
  const html = join(dir, 'index.html')
  const simFile = join(dir, 'simulation.json')
  const sim = existsSync(simFile) ? (JSON.parse(readFileSync(simFile, 'utf8')) as Simulation) : null
  const found = computeFindings(results)
  writeJsonAtomic(join(dir, 'findings.json'), found)
  writeFileSync(html, renderHtml(results, chartJsSource(), charts, sim, found))
  writePlanPage(results, sim, dir)
  return { html, png: await renderPngs(charts, join(dir, 'charts')) }
}
