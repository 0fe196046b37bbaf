// What the report says of the Node the cells' servers ran on: only that one was past its end of life, when one was.
import type { ResultsFile, RuntimeRecord } from '../contracts/results.ts'

/** The cells (not skipped) whose servers ran on `r`: those that asked for it, and, on the harness's own, those that asked for none. */
const cellsOn = (results: ResultsFile, r: RuntimeRecord) =>
  results.cells.filter((c) => c.status !== 'skipped' && (c.runtime ? c.runtime === r.runtime : r.own))

/** One sentence naming each runtime past its end of life on the run's date that ran a cell's servers; null when none did. */
export function endOfLifeSentence(results: ResultsFile): string | null {
  const past = (results.environment.runtimes ?? []).flatMap((r) => {
    const n = r.pastEndOfLife ? cellsOn(results, r).length : 0
    return n ? [`Node ${r.version} (${n} cell${n > 1 ? 's' : ''}, end of life ${r.endOfLife})`] : []
  })
  if (!past.length) return null
  return (
    `Past its end of life on the run's date (${results.startedAt.slice(0, 10)}), so without security fixes: ` +
    `${past.join(' and ')} ran the servers measured here.`
  )
}
