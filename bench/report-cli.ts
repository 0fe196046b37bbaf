import { dirname, join, relative } from 'node:path'
import { writeReport } from './report/index.ts'
import { ResultsError } from './contracts/errors.ts'
import { readResults, resultsFileOf } from './results-io.ts'

/** `npm run report -- DIR`: re-renders DIR/index.html and DIR/charts/*.png from DIR/results.json alone. */
async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0]!.startsWith('-')) {
    process.stderr.write('usage: npm run report -- DIR   (a folder holding results.json, or the file itself)\n')
    return 2
  }
  const file = resultsFileOf(argv[0]!)
  const dir = dirname(file)
  let results: ReturnType<typeof readResults>
  try {
    results = readResults(file)
  } catch (err) {
    if (!(err instanceof ResultsError)) throw err
    process.stderr.write(`authbench report: ${err.message}\n`)
    return 2
  }
  const out = await writeReport(results, dir)
  process.stdout.write(`report: ${relative(process.cwd(), out.html)}\n`)
  if (out.png.status === 'ok')
    process.stdout.write(`charts: ${out.png.files.length} PNG files in ${relative(process.cwd(), join(dir, 'charts'))}\n`)
  else process.stdout.write(`charts: PNG files not written (${out.png.reason})\n`)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench report: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
