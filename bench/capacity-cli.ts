import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { ResultsError, UsageError } from './contracts/errors.ts'
import { readResults, resultsFileOf } from './results-io.ts'
import type { Simulation } from './sim/simulation.ts'
import { checkInputs, DEFAULT_INPUTS, fmt, INPUT_FLAGS, plan, type Figure, type PlanInputs } from './capacity/arithmetic.ts'
import { measuredChoices, type RunInput } from './capacity/measured.ts'
import { planHtml } from './capacity/page.ts'

const USAGE = `usage: npm run plan -- RUN_DIR [RUN_DIR...] ${INPUT_FLAGS.map((f) => `[--${f.flag} N]`).join(' ')} [--json]

  RUN_DIR    a run's folder (or its results.json); several combine (a default run, a lifecycle run, a latency run),
             each figure taken from the first that measured it; plan.html is written into the first
${INPUT_FLAGS.map((f) => `  --${f.flag.padEnd(29)}${f.label} (default ${DEFAULT_INPUTS[f.key]})`).join('\n')}
  --json     print { inputs, choices: [{ id, figures }], breakEven } instead of the table

exit codes: 0 written, 2 bad arguments or a folder with no results.json`

function parse(argv: string[]): { dirs: string[]; inputs: PlanInputs; json: boolean } {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...Object.fromEntries(INPUT_FLAGS.map((f) => [f.flag, { type: 'string' as const }])), json: { type: 'boolean' } },
    })
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err })
  }
  const inputs = { ...DEFAULT_INPUTS }
  for (const f of INPUT_FLAGS) {
    const v = parsed.values[f.flag]
    if (typeof v === 'string') inputs[f.key] = v.trim() === '' ? NaN : Number(v)
  }
  const bad = checkInputs(inputs)
  if (bad.length) throw new UsageError(bad.join('; '))
  if (parsed.positionals.length === 0) throw new UsageError('name at least one run folder')
  return { dirs: parsed.positionals, inputs, json: parsed.values.json === true }
}

function readRun(path: string): RunInput {
  const file = resultsFileOf(path)
  if (!existsSync(file)) throw new ResultsError(`${path}: no results.json there`)
  const dir = dirname(file)
  const simFile = join(dir, 'simulation.json')
  const simulation = existsSync(simFile) ? (JSON.parse(readFileSync(simFile, 'utf8')) as Simulation) : null
  return { dir: relative(process.cwd(), dir) || '.', results: readResults(file), simulation }
}

const show = (f: Figure) =>
  f.value === null
    ? `absent: ${f.absent}`
    : `${fmt(f.value)}${f.interval ? ` [${fmt(f.interval[0])}, ${fmt(f.interval[1])}]` : ''}  (${f.source})`

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  let runs: RunInput[]
  let args: ReturnType<typeof parse>
  try {
    args = parse(argv)
    runs = args.dirs.map(readRun)
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ResultsError)) throw err
    process.stderr.write(`authbench plan: ${err.message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`)
    return 2
  }
  const choices = measuredChoices(runs)
  const p = plan(choices, args.inputs)
  const html = join(dirname(resultsFileOf(args.dirs[0]!)), 'plan.html')
  writeFileSync(
    html,
    planHtml(
      choices,
      args.inputs,
      runs.map((r) => r.dir),
    ),
  )
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ inputs: p.inputs, choices: p.choices.map(({ id, figures }) => ({ id, figures })), breakEven: p.breakEven }, null, 2)}\n`,
    )
    process.stderr.write(`plan page: ${pathToFileURL(html).href}\n`)
    return 0
  }
  const i = args.inputs
  process.stdout.write(
    `At ${fmt(i.rate)} requests/s from ${fmt(i.users)} users (${fmt(i.requestsPerUserPerMinute)} requests per user per minute), ` +
      `${i.instances} instances, the store ${i.storeRttMs} ms away, access tokens living ${i.accessTtlSeconds} s:\n`,
  )
  for (const n of p.notes) process.stdout.write(`note: ${n}\n`)
  for (const c of p.choices) {
    process.stdout.write(`\n${c.label} (${c.id})\n`)
    for (const [name, f] of Object.entries(c.figures)) process.stdout.write(`  ${name.padEnd(22)}${show(f)}\n`)
  }
  if (p.breakEven.length) process.stdout.write('\nbreak-even:\n')
  for (const b of p.breakEven) process.stdout.write(`  ${b.text}\n`)
  process.stdout.write(`\nplan page: ${pathToFileURL(html).href}\n`)
  return 0
}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`authbench plan: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
}
