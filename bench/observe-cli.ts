import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { TargetError } from './contracts/errors.ts'
import { observeFleet } from './remote/observe.ts'
import { readFleet, type Fleet } from './remote/fleet.ts'
import { writeReport } from './report/index.ts'
import { summaryTable } from './report/workloads/index.ts'
import { outputStamp, writeJsonAtomic } from './results-io.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

const USAGE = `usage: npm run observe -- --targets FLEET.json [--window S] [--windows N] [--out DIR]

  Measures a fleet while another engine (k6, Artillery, Locust, a second authbench) drives it: no load of
  its own; every target's /metrics read at each window's edges.

  --targets FLEET.json  the servers to read (the fleet file npm run bench -- --targets takes; docs/fleet.md)
  --window S       seconds per window (default 10)
  --windows N      windows, back to back (default 6)
  --out DIR        output folder (default reports/<timestamp>-observed/)

exit codes: 0 every window read, 1 a window failed for a cell (its reason in results.json), 2 bad flags or
fleet file, 130 interrupted (what was observed so far is written)`

const EXIT = { ok: 0, windowFailed: 1, usage: 2, interrupted: 130 } as const

/** The flags, checked; a string names the flag at fault. */
function flags(argv: string[]): { fleet: Fleet; file: string; windowSeconds: number; windows: number; out: string | null } | string | null {
  let values: { targets?: string; window?: string; windows?: string; out?: string; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        targets: { type: 'string' },
        window: { type: 'string' },
        windows: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    return (err as Error).message
  }
  if (values.help) return null
  if (values.targets === undefined) return '--targets FLEET.json is required'
  const windowSeconds = Number(values.window ?? 10)
  if (!/^\d+(\.\d+)?$/.test(values.window ?? '10') || !(windowSeconds > 0) || windowSeconds > 3600)
    return `--window must be seconds, more than 0 and at most 3600; got "${values.window}"`
  const windows = Number(values.windows ?? 6)
  if (!/^\d+$/.test(values.windows ?? '6') || windows < 1 || windows > 10_000)
    return `--windows must be a whole number from 1 to 10000; got "${values.windows}"`
  let fleet: Fleet
  try {
    fleet = readFleet(values.targets)
  } catch (err) {
    if (!(err instanceof TargetError)) throw err
    return `--targets: ${err.message}`
  }
  return { fleet, file: values.targets, windowSeconds, windows, out: values.out ?? null }
}

async function main(argv: string[]): Promise<number> {
  const f = flags(argv)
  if (f === null) {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (typeof f === 'string') {
    process.stderr.write(`authbench observe: ${f}\n${USAGE}\n`)
    return EXIT.usage
  }
  // Ctrl-C (or SIGTERM) ends the window in progress; what was observed before it is written, marked interrupted.
  const controller = new AbortController()
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted)
    process.stderr.write(`\n${sig}: writing what was observed so far (again to stop at once)…\n`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let results: Awaited<ReturnType<typeof observeFleet>>
  try {
    results = await observeFleet({
      fleet: f.fleet,
      file: relative(ROOT, resolve(f.file)),
      windowSeconds: f.windowSeconds,
      windows: f.windows,
      signal: controller.signal,
      say: (line) => process.stderr.write(`${line}\n`),
    })
  } catch (err) {
    if (!(err instanceof TargetError)) throw err
    process.stderr.write(`authbench observe: --targets: ${err.message}\n`)
    return EXIT.usage
  }
  const outDir = resolve(f.out ?? join(ROOT, 'reports', `${outputStamp()}-observed`))
  writeJsonAtomic(join(outDir, 'results.json'), results)
  const report = await writeReport(results, outDir)
  process.stdout.write(
    `\n${summaryTable(results)}\n\nresults: ${relative(process.cwd(), join(outDir, 'results.json'))}\n` +
      `report:  ${pathToFileURL(report.html).href}\n`,
  )
  if (results.interrupted) return EXIT.interrupted
  return results.cells.some((c) => c.status === 'failed') ? EXIT.windowFailed : EXIT.ok
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench observe: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
