import { writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { compareHtml, compareResults, compareText, RUN_TO_RUN_SPREAD } from './report/run-to-run.ts'
import { ResultsError } from './contracts/errors.ts'
import { readResults, resultsFileOf } from './results-io.ts'

const USAGE = `usage: npm run compare -- OLD NEW [--threshold PERCENT] [--spread PERCENT] [--out FILE]
  OLD, NEW: result folders or results.json files. Exit 1 when a cell's instructions per request (where
  both runs counted them) rose by more than the two counts' own uncertainty, or else its CPU per request
  over its bracketing baseline got worse by more than the larger of --threshold (default 10) and the
  run-to-run spread (default ${RUN_TO_RUN_SPREAD.percent}, measured on this project's machine; --spread for yours)`

function main(argv: string[]): number {
  let values: { threshold?: string; spread?: string; out?: string }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { threshold: { type: 'string' }, spread: { type: 'string' }, out: { type: 'string' } },
    }))
  } catch (err) {
    process.stderr.write(`authbench compare: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  const threshold = values.threshold === undefined ? 10 : Number(values.threshold)
  const spread = values.spread === undefined ? RUN_TO_RUN_SPREAD : { percent: Number(values.spread), measured: 'given with --spread' }
  if (positionals.length !== 2 || !Number.isFinite(threshold) || threshold < 0 || !Number.isFinite(spread.percent) || spread.percent < 0) {
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  const [oldPath, newPath] = positionals.map(resultsFileOf) as [string, string]
  let cmp: ReturnType<typeof compareResults>
  try {
    cmp = compareResults(readResults(oldPath), readResults(newPath), threshold, spread)
  } catch (err) {
    if (!(err instanceof ResultsError)) throw err
    process.stderr.write(`authbench compare: ${err.message}\n`)
    return 2
  }
  const out = resolve(values.out ?? join(dirname(newPath), 'compare.html'))
  writeFileSync(out, compareHtml(cmp, oldPath, newPath))
  process.stdout.write(`${compareText(cmp)}\n\ncompare: ${relative(process.cwd(), out)}\n`)
  return cmp.changes.some((c) => c.regression) ? 1 : 0
}

process.exit(main(process.argv.slice(2)))
