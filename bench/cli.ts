import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ScenarioError, SimulationInputError, TargetError } from './contracts/errors.ts'
import { ProcessGroup } from './processes.ts'
import { progressPrinter } from './progress.ts'
import { summaryTable } from './report/workloads/index.ts'
import { writeReport } from './report/index.ts'
import { runScenario, type RunOptions } from './runner.ts'
import { readFleet, type Fleet } from './remote/fleet.ts'
import { storeProvisioners } from './stores/run/index.ts'
import { runSimulation, writeSimulation } from './sim/index.ts'
import { outputStamp, writeJsonAtomic } from './results-io.ts'
import type { ResultsFile } from './contracts/results.ts'
import { loadScenario } from './contracts/scenario.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Each store one can bring (the server's address flag and its pattern, as its provisioner holds them): `--redis-url`, also `REDIS_URL`; ... */
const URL_FLAGS = Object.values(storeProvisioners).flatMap((p) => {
  if (!p.address) return []
  const { flag, env, pattern, looksLike } = p.address.option
  return [{ kind: p.kind, option: flag, env, pattern, looksLike, means: p.address.means }]
})

const USAGE = `usage: npm run bench -- [SCENARIO] [--smoke] [--out DIR] ${URL_FLAGS.map((f) => `[--${f.option} ${f.looksLike}]`).join(' ')}

  SCENARIO         a .ts, .json or .yaml scenario file (default scenarios/default.ts)
  --smoke          windows of a second or less, one round (same output shape)
  --instructions   also count each cell's instructions per request under valgrind's callgrind, after the
                   rounds (as the scenario's measure.instructions; the server's process alone)
  --out DIR        output folder (default reports/<timestamp>-<scenario name>/)
${URL_FLAGS.map((f) => `  --${f.option} ${f.looksLike}  ${f.means} (also ${f.env})`).join('\n')}
  --targets FLEET.json  remote mode: bench running servers (and their store) by address, read through
                   their /metrics; starts, stops and reconfigures nothing (docs/fleet.md)
  --no-pin         do not pin the load generator and the servers to separate CPUs
  --seed N         seed of the per-round shuffle of the cell order (default: random, recorded in results.json)

exit codes: 0 all cells ok, 1 a cell invalid or failed, 2 bad scenario or arguments, 130 interrupted`

export const EXIT = { ok: 0, cellProblem: 1, usage: 2, interrupted: 130 } as const

/** The desktop's command for opening a file in its default application. */
function openCommand(): string {
  return process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open'
}

/** Points reports/latest at the newest run (replaced atomically). */
function linkLatest(outDir: string): void {
  const reports = join(ROOT, 'reports')
  if (dirname(resolve(outDir)) !== reports) return
  const tmp = join(reports, `.latest-${process.pid}`)
  rmSync(tmp, { force: true })
  symlinkSync(relative(reports, resolve(outDir)), tmp)
  renameSync(tmp, join(reports, 'latest'))
}

/** results.json, the fleet model when asked, the report and its charts; then where they are, on the terminal. */
async function writeOutputs(results: ResultsFile, simulate: boolean, outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true })
  writeJsonAtomic(join(outDir, 'results.json'), results)
  let simulation: string | null = null
  if (simulate && !results.interrupted) {
    try {
      simulation = writeSimulation(runSimulation(results), outDir).html
    } catch (err) {
      if (!(err instanceof SimulationInputError)) throw err
      process.stderr.write(`simulation: not written (${err.message})\n`)
    }
  }
  const report = await writeReport(results, outDir)
  linkLatest(outDir)
  const rel = (p: string) => relative(process.cwd(), p)
  process.stdout.write(
    `\n${summaryTable(results)}\n\nresults: ${rel(join(outDir, 'results.json'))}\nreport:  ${pathToFileURL(report.html).href}\n`,
  )
  if (simulation) process.stdout.write(`fleet:   ${pathToFileURL(simulation).href}\n`)
  process.stdout.write(
    report.png.status === 'ok'
      ? `charts:  ${report.png.files.length} PNG files in ${rel(join(outDir, 'charts'))}\n`
      : `charts:  no PNG files (${report.png.reason})\n`,
  )
  if (process.stdout.isTTY)
    process.stdout.write(`open it: ${openCommand()} ${rel(report.html)}   (or paste the file:// URL above into a browser)\n`)
}

/** The stores the user runs (URL flags, their environment variables, a fleet file's store) and the fleet file; a string says what is wrong. */
function storesAndTargets(
  values: Record<string, string | boolean | undefined>,
): { storeUrls: RunOptions['storeUrls']; targets: Fleet | null } | string {
  const storeUrls: RunOptions['storeUrls'] = {}
  for (const f of URL_FLAGS) {
    const url = (values[f.option] as string | undefined) ?? process.env[f.env] ?? null
    if (url === null) continue
    if (!f.pattern.test(url)) return `--${f.option} must look like ${f.looksLike}; got "${url}"`
    storeUrls[f.kind] = url
  }
  let targets: Fleet | null = null
  try {
    targets = typeof values.targets === 'string' ? readFleet(values.targets) : null
  } catch (err) {
    if (!(err instanceof TargetError)) throw err
    return err.message
  }
  if (targets?.store) {
    const given = storeUrls[targets.store.kind]
    if (given && given !== targets.store.url)
      return `the fleet file's ${targets.store.kind} store (${targets.store.url}) is not the one given (${given})`
    storeUrls[targets.store.kind] = targets.store.url
  }
  return { storeUrls, targets }
}

/** Ctrl-C (or SIGTERM) stops the run cleanly; a second one kills every child at once; none outlives the process. */
function interruptible(group: ProcessGroup): AbortController {
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    if (interrupts > 1) {
      group.killAllSync()
      process.exit(EXIT.interrupted)
    }
    process.stderr.write(`\n${sig}: stopping every server (again to force)…\n`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', () => group.killAllSync())
  return controller
}

async function main(argv: string[]): Promise<number> {
  let values: {
    smoke?: boolean
    instructions?: boolean
    out?: string
    help?: boolean
    'no-pin'?: boolean
    seed?: string
    targets?: string
  } & Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        smoke: { type: 'boolean' },
        instructions: { type: 'boolean' },
        'no-pin': { type: 'boolean' },
        out: { type: 'string' },
        targets: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(URL_FLAGS.map((f) => [f.option, { type: 'string' as const }])),
      },
    }))
  } catch (err) {
    process.stderr.write(`authbench: ${(err as Error).message}\n${USAGE}\n`)
    return EXIT.usage
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (positionals.length > 1) {
    process.stderr.write(`authbench: one scenario at a time; got ${positionals.join(', ')}\n${USAGE}\n`)
    return EXIT.usage
  }
  const file = positionals[0] ?? join(relative(process.cwd(), ROOT) || '.', 'scenarios/default.ts')
  if (!existsSync(file)) {
    process.stderr.write(`authbench: scenario file not found: ${file}\n`)
    return EXIT.usage
  }
  const where = storesAndTargets(values)
  if (typeof where === 'string') {
    process.stderr.write(`authbench: ${where}\n`)
    return EXIT.usage
  }
  const { storeUrls, targets } = where

  const seed = values.seed === undefined ? undefined : Number(values.seed)
  if (seed !== undefined && (!/^\d+$/.test(values.seed!) || !Number.isSafeInteger(seed) || seed >= 2 ** 32)) {
    process.stderr.write(`authbench: --seed must be an integer from 0 to 4294967295; got "${values.seed}"\n`)
    return EXIT.usage
  }

  let scenario: Awaited<ReturnType<typeof loadScenario>>
  try {
    scenario = await loadScenario(file, values.instructions ? { instructions: true } : undefined)
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err
    process.stderr.write(`${err.message}\n`)
    return EXIT.usage
  }

  const outDir = resolve(values.out ?? join(ROOT, 'reports', `${outputStamp()}-${scenario.name}`))
  const group = new ProcessGroup()
  const controller = interruptible(group)

  let results: ResultsFile
  try {
    results = await runScenario({
      scenario,
      file: relative(ROOT, resolve(file)),
      smoke: values.smoke ?? false,
      group,
      pin: !values['no-pin'],
      storeUrls,
      signal: controller.signal,
      ...(seed === undefined ? {} : { seed }),
      targets,
      listeners: [progressPrinter((line) => process.stderr.write(`${line}\n`))],
    })
  } catch (err) {
    // A scenario the plan refuses (an axis where it does not apply) is refused as one the schema refuses: named, exit 2.
    if (err instanceof ScenarioError) {
      process.stderr.write(`${err.message}\n`)
      return EXIT.usage
    }
    if (!(err instanceof TargetError)) throw err
    process.stderr.write(`authbench: ${err.message}\n`)
    return EXIT.usage
  } finally {
    await group.stopAll()
  }
  await writeOutputs(results, scenario.simulate === true, outDir)
  if (results.interrupted) return EXIT.interrupted
  return results.cells.some((c) => c.status === 'invalid' || c.status === 'failed') ? EXIT.cellProblem : EXIT.ok
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
