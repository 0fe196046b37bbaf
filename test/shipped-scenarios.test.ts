import type { Simulation } from '../bench/sim/simulation.ts'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { loadScenario } from '../bench/contracts/scenario.ts'
import { expandPlan } from '../bench/plan.ts'
import { runnerOf } from '../bench/strategies/run/index.ts'
import { cellServerArgs } from '../bench/verify.ts'
import { parseServerArgs } from '../servers/cli-config.ts'
import { loadKeys } from '../servers/keys.ts'
import { compiledModule } from '../common/compiled.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// The scenarios with the most cells first, so the longest smoke runs start first and none is left
// alone at the end (four run at a time).
const scenarios = await Promise.all(
  readdirSync(join(ROOT, 'scenarios'))
    .filter((f) => /\.(ts|json|ya?ml)$/.test(f))
    .sort()
    .map(async (f) => {
      const file = join(ROOT, 'scenarios', f)
      return { f, cells: expandPlan(await loadScenario(file), file).cells.length }
    }),
).then((all) => all.sort((a, b) => b.cells - a.cells).map((s) => s.f))

/** Runs the bench CLI (its compiled copy, as test/helpers.ts's runCli does) without blocking the event loop, so scenarios run four at a time. */
async function bench(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const cli = await compiledModule(join(ROOT, 'bench/cli.ts'))
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGINT'), 240_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/**
 * Scenarios whose smoke run takes no path of the harness another scenario's smoke run or another test
 * does not, each with what covers it: checked here by their plan, their cells' server flags (as the
 * server parses them) and their keys, not run (a smoke run costs a minute of the suite's two cores).
 * - algorithms.ts: default.ts's closed loop on GET /me with the same kinds of cells; signing and
 *   verifying every algorithm with every engine on a real server is test/conformance.test.ts's.
 * - jwt-libraries.ts: default.ts's closed loop; jsonwebtoken (both key forms), @fastify/jwt and the
 *   verify cache on a real server are test/conformance.test.ts's, test/jwt-attacks.test.ts's and
 *   test/verify-cache.test.ts's.
 * - frameworks.ts: default.ts's closed loop; the Express servers are test/frameworks.test.ts's and the
 *   conformance matrix's (every row on both frameworks).
 * - runtimes.ts: default.ts's closed loop; a smoke run with cells on two Node majors, and a cell whose
 *   runtime is not installed skipped with the command, are test/runtimes.test.ts's.
 * - revocation.ts: scaling.ts's closed loop with a denylist cell beside the same JWT without one (the pair
 *   the report's revocation comparison reads); default.ts's sessions on SQLite, Redis and PostgreSQL and its
 *   sealed cookie; the denylist on every store, with its one read per request, is test/conformance.test.ts's.
 * - lifecycle-races.ts: lifecycle.ts's lifecycle rounds on JWT cells with refresh tokens (on SQLite; on Redis,
 *   lifecycle-storm.ts's); two tabs refreshing at once, the family revoked without a grace window and never with one, on a real
 *   server through the lifecycle driver, is test/sequential/drive-lifecycle.test.ts's.
 * - session-cache.ts: lifecycle.ts's lifecycle rounds (HAProxy in front of instances is fleet.ts's); the session cache on
 *   real servers is test/session-cache.test.ts's and the conformance matrix's, and the lag on every instance, two real
 *   servers behind HAProxy with a session cache and with a verify cache and a denylist, is test/sequential/cache-lag.test.ts's.
 * - fleet-faults-open.ts: fleet-faults.ts's namespace topology, HAProxy and partition (its own smoke run takes about 22 s
 *   here); the open loop under a partition, its 100 ms timeline, episodes and report section, is
 *   test/sequential/open-partition.test.ts's.
 * - latency-poisson.ts: latency.ts's open loop on the same kinds of cells at one and two instances; Poisson arrivals in the
 *   open-loop driver are test/sequential/drive-open.test.ts's.
 */
const COVERED: Record<string, string> = {
  'algorithms.ts': 'default.ts',
  'jwt-libraries.ts': 'default.ts',
  'frameworks.ts': 'default.ts',
  'runtimes.ts': 'default.ts',
  'revocation.ts': 'scaling.ts',
  'lifecycle-races.ts': 'lifecycle.ts',
  'session-cache.ts': 'lifecycle.ts',
  'fleet-faults-open.ts': 'fleet-faults.ts',
  'latency-poisson.ts': 'latency.ts',
}

// Four scenarios at a time: a smoke run spends much of its time starting processes and waiting on them.
describe('every shipped scenario runs in smoke mode with every cell ok (or is checked by its plan where another covers it)', {
  concurrency: 4,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-shipped-'))
  test.after(() => rmSync(dir, { recursive: true, force: true }))

  test('the scenarios folder is not empty', () => {
    assert.ok(scenarios.includes('default.ts'))
  })

  for (const [file, by] of Object.entries(COVERED)) {
    test(`${file}: its plan expands, its cells' server flags are accepted and their keys load (its smoke run's paths are ${by}'s)`, async () => {
      assert.ok(scenarios.includes(file) && scenarios.includes(by))
      const path = join(ROOT, 'scenarios', file)
      assert.match(readFileSync(path, 'utf8').split('\n')[0]!, /^\/\/ Question: /)
      const { cells, baseline } = expandPlan(await loadScenario(path), path)
      // The baseline: the none cell a closed or open loop brackets with, or (a lifecycle run has none) one of its cells.
      assert.ok(baseline.strategy === 'none' || cells.some((c) => c.id === baseline.id), baseline.id)
      assert.equal(new Set(cells.map((c) => c.id)).size, cells.length)
      for (const c of cells) {
        const cellDir = mkdtempSync(join(dir, `${file}-`))
        // The flags the harness gives the cell's servers, parsed as the server parses them (a refused one throws).
        const config = parseServerArgs(cellServerArgs(c, cellDir, { usersTemplate: null, users: 10 }, []))
        assert.equal(config.strategy, c.strategy, c.id)
        assert.equal(config.framework, c.framework ?? 'fastify', c.id)
        if (c.strategy !== 'jwt') continue
        assert.equal(config.engine, c.engine, c.id)
        const [flag, value] = runnerOf(c).sharedKeyArgs(c, cellDir)
        const keys = loadKeys(c.alg!, flag === '--key-file' ? { keyFile: value } : { jwtSecret: value })
        assert.equal(keys.alg, c.alg)
        assert.equal(keys.kid === null, c.alg === 'HS256', c.id)
      }
    })
  }

  for (const file of scenarios.filter((f) => !(f in COVERED))) {
    test(file, async () => {
      const out = join(dir, file)
      const res = await bench([join('scenarios', file), '--smoke', '--out', out])
      assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`)
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
      assert.deepEqual(
        results.cells.filter((c) => c.status !== 'ok').map((c) => `${c.id}: ${c.reason}`),
        [],
      )
      if (file === 'fleet-faults.ts') {
        // Two fault kinds in one window, on the namespace topology: each cell takes those that apply to it (the memory
        // session has no store host to cut off), and HAProxy stopped routing to each killed instance.
        assert.equal(results.environment.topology?.kind, 'netns')
        assert.deepEqual(
          Object.fromEntries(results.cells.map((c) => [c.id, c.recovery?.episodes.map((e) => e.action)])),
          Object.fromEntries(
            results.cells.map((c) => [c.id, c.store === 'memory' ? ['kill-instance'] : ['partition-store', 'kill-instance']]),
          ),
        )
        for (const c of results.cells) assert.ok(c.recovery!.episodes.at(-1)!.routedAwayMs !== null, c.id)
      }
      const head = readFileSync(join(ROOT, 'scenarios', file), 'utf8').split('\n')[0]!
      if (file.endsWith('.ts')) assert.match(head, /^\/\/ Question: /)
      // simulate: true: the fleet model calibrated from the run, its page linked from the report; or, where a
      // busy machine's driver held no open-loop rate of any cell (a smoke window is a second, its send lag
      // bounded at 10 ms p99), no model, with that reason, as the run's own points show.
      const heldNone =
        results.scenario.load.mode === 'open' &&
        results.cells.every((c) => (c.openLoop ?? []).every((p) => p.heldRounds === 0)) &&
        !existsSync(join(out, 'simulation.json'))
      if (results.scenario.simulate && heldNone) {
        assert.match(res.stderr, /^simulation: not written \(".+" has no open-loop point the driver held: /m)
        assert.doesNotMatch(readFileSync(join(out, 'index.html'), 'utf8'), /<a href="simulation.html">/)
      } else if (results.scenario.simulate) {
        const sim = JSON.parse(readFileSync(join(out, 'simulation.json'), 'utf8')) as {
          calibration: { cell: string }[]
          skipped: { cell: string; reason: string }[]
          fleet: { cell: string }[]
          fleetNotes: string[]
        }
        // Every cell calibrated, or left out with the reason (a smoke window's driver may hold no rate of a cell).
        assert.deepEqual(
          [...sim.calibration.map((c) => c.cell), ...sim.skipped.map((c) => c.cell)].sort(),
          results.cells.map((c) => c.id).sort(),
        )
        for (const s of sim.skipped) assert.match(s.reason, /^no open-loop point the driver held/, s.cell)
        assert.ok(sim.calibration.length > 0)
        // Every calibrated cell has its fleet, or a note that says why not.
        for (const c of sim.calibration)
          assert.ok(
            sim.fleet.some((r) => r.cell === c.cell) || sim.fleetNotes.some((n) => n.startsWith(`${c.cell}: no fleet modelled`)),
            c.cell,
          )
        assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<a href="simulation.html">its page<\/a>/)
        // An open-loop run measured the driver's floor, and the model replays each cell as it ran.
        if (results.scenario.load.mode === 'open') {
          const full = sim as unknown as Simulation
          assert.ok((results.driverFloor?.length ?? 0) >= 2, 'the driver floor')
          for (const v of full.validation)
            assert.deepEqual(
              [v.instances, v.arrivals],
              [results.cells.find((c) => c.id === v.cell)!.instances, results.scenario.load.arrivals],
              v.cell,
            )
          for (const c of full.calibration)
            assert.match(c.sources.find((x) => x.quantity === 'outside the servers')?.from ?? '', /^the driver's floor at the rate/, c.cell)
        }
      }
    })
  }
})
