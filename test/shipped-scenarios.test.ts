import type { Simulation } from '../bench/sim/simulation.ts'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { loadScenario } from '../bench/contracts/scenario.ts'
import { expandPlan } from '../bench/plan.ts'
import { runnerOf } from '../bench/strategies/run/index.ts'
import { installCommand, runtimeBinary } from '../bench/runtimes.ts'
import { loadKeys } from '../servers/keys.ts'

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

/** Runs the bench CLI without blocking the event loop, so scenarios run four at a time. */
function bench(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/cli.ts'), ...args], { cwd: ROOT })
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
 * Scenarios whose smoke run takes no path another scenario's smoke run does not, each with that
 * scenario: checked here by their plan and their cells' server flags, not run. algorithms.ts is
 * default.ts's closed loop on GET /me with the same none and session-sqlite cells and JWTs with both
 * engines, an HMAC secret (HS256) and a key file (EdDSA; RS256 and ES256 take the same key-file
 * path in the harness). Signing and verifying with RS256 and ES256 on a real server, for every
 * engine, is test/conformance.test.ts's.
 */
const COVERED: Record<string, string> = { 'algorithms.ts': 'default.ts' }

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
    test(`${file}: its plan expands, and every key its cells' servers are given loads (its smoke run's paths are ${by}'s)`, async () => {
      assert.ok(scenarios.includes(file) && scenarios.includes(by))
      const path = join(ROOT, 'scenarios', file)
      assert.match(readFileSync(path, 'utf8').split('\n')[0]!, /^\/\/ Question: /)
      const { cells, baseline } = expandPlan(await loadScenario(path), path)
      assert.equal(baseline.id, 'none')
      const algs = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const
      assert.deepEqual(
        cells.map((c) => c.id),
        ['none', 'session-sqlite', ...algs.flatMap((alg) => [`jwt-${alg}-jose-sqlite`, `jwt-${alg}-fast-jwt-sqlite`])],
      )
      for (const c of cells.filter((x) => x.strategy === 'jwt')) {
        const [flag, value] = runnerOf(c).sharedKeyArgs(c, dir)
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
      // scenarios/runtimes.ts runs here for real: a cell whose Node major is not installed on this machine (its package absent)
      // is the one cell that may be skipped, and only with the reason that names the command installing it.
      const missing = (c: ResultsFile['cells'][number]) =>
        c.status === 'skipped' && !!c.runtime && runtimeBinary(c.runtime) === null && c.reason?.endsWith(`\`${installCommand(c.runtime)}\``)
      assert.deepEqual(
        results.cells.filter((c) => c.status !== 'ok' && !missing(c)).map((c) => `${c.id}: ${c.reason}`),
        [],
      )
      const head = readFileSync(join(ROOT, 'scenarios', file), 'utf8').split('\n')[0]!
      if (file.endsWith('.ts')) assert.match(head, /^\/\/ Question: /)
      // simulate: true: the fleet model calibrated from the run, its page linked from the report.
      if (results.scenario.simulate) {
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
