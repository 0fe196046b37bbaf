import { dirname, relative, resolve } from 'node:path'
import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { ResultsError, SimulationInputError } from './contracts/errors.ts'
import { DEFAULT_INSTANCES, DEFAULT_RTT_MS, runSimulation, writeSimulation } from './sim/index.ts'
import { DEFAULT_MODEL } from './sim/model.ts'
import { readResults, resultsFileOf } from './results-io.ts'

const USAGE = `usage: npm run simulate -- RESULTS_DIR [--instances 1,2,4,8,16,32,64] [--store-rtt-ms 0,0.5,1,2] [--link-gbps 10] [--store-cores 4] [--out DIR]

  RESULTS_DIR      a run's folder (or its results.json); the run needs open-loop points (scenarios/latency.ts) or the lifecycle workload
  --instances      app instances to model, whole numbers 1-1024 (default ${DEFAULT_INSTANCES.join(',')})
  --store-rtt-ms   round trips from the servers to the store, ms 0-1000 (default ${DEFAULT_RTT_MS.join(',')})
  --link-gbps      bandwidth of the link every request and response crosses, Gbit/s (default ${DEFAULT_MODEL.linkGbps})
  --store-cores    cores of the store's host, for a store with a process per connection (PostgreSQL; default ${DEFAULT_MODEL.storeHostCores})
  --out DIR        where simulation.json and simulation.html go (default RESULTS_DIR)

exit codes: 0 written, 2 bad arguments or a run the model cannot start from`

const list = (s: string) => s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)))

async function main(argv: string[]): Promise<number> {
  let values: { instances?: string; 'store-rtt-ms'?: string; 'link-gbps'?: string; 'store-cores'?: string; out?: string; help?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        instances: { type: 'string' },
        'store-rtt-ms': { type: 'string' },
        'link-gbps': { type: 'string' },
        'store-cores': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    process.stderr.write(`authbench simulate: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (positionals.length !== 1) {
    process.stderr.write(`authbench simulate: one results folder, got ${positionals.length}\n${USAGE}\n`)
    return 2
  }
  const file = resultsFileOf(positionals[0]!)
  const started = performance.now()
  try {
    const results = readResults(file)
    const sim = runSimulation(results, {
      instances: values.instances === undefined ? DEFAULT_INSTANCES : list(values.instances),
      storeRttMs: values['store-rtt-ms'] === undefined ? DEFAULT_RTT_MS : list(values['store-rtt-ms']),
      linkGbps: values['link-gbps'] === undefined ? DEFAULT_MODEL.linkGbps : Number(values['link-gbps']),
      storeHostCores: values['store-cores'] === undefined ? DEFAULT_MODEL.storeHostCores : Number(values['store-cores']),
    })
    const dir = resolve(values.out ?? dirname(file))
    mkdirSync(dir, { recursive: true })
    const out = writeSimulation(sim, dir)
    const layers = sim.layers.byInstances.map(
      (v) =>
        `${v.layer}: p50 within ±${sim.model.tolerancePct.p50}% at ${Math.round(v.p50Within * 100)}%, p99 within ` +
        `±${sim.model.tolerancePct.p99}% at ${Math.round(v.p99Within * 100)}% of ${v.judged} points (${v.holds ? 'holds' : 'does not hold'})`,
    )
    process.stdout.write(
      `calibrated ${sim.calibration.length} cell${sim.calibration.length === 1 ? '' : 's'}; latency ${
        layers.length ? layers.join('; ') : 'not judged (no ' + 'open-loop point, or no driver floor)'
      }; ${sim.faults.length} fault \
episode${sim.faults.length === 1 ? '' : 's'} predicted; ${sim.fleet.length} fleets (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    )
    for (const c of sim.crossovers) process.stdout.write(`  ${c.text}\n`)
    process.stdout.write(`simulation: ${relative(process.cwd(), out.json)}\npage:       ${pathToFileURL(out.html).href}\n`)
    return 0
  } catch (err) {
    if (err instanceof ResultsError || err instanceof SimulationInputError) {
      process.stderr.write(`authbench simulate: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench simulate: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
