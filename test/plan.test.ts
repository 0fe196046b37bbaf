import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, test } from 'node:test'
import { chromium } from 'playwright-core'
import { FIGURE_NAMES } from '../bench/capacity/arithmetic.ts'
import { findChromium } from '../scripts/system.mjs'
import { fixtureResults, lifecycleResults, openLoopResults } from './fixtures/results.ts'
import { runSimulation, writeSimulation } from '../bench/sim/index.ts'

const CHROMIUM = findChromium()

/** `npm run plan` as a user runs it, through tsx. */
function runPlan(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/capacity-cli.ts', ...args], { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A default run and a lifecycle run, each a folder with its results.json. */
function runs(t: import('node:test').TestContext): [string, string] {
  const root = mkdtempSync(join(tmpdir(), 'authbench-plan-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const dirs: [string, string] = [join(root, 'default'), join(root, 'lifecycle')]
  for (const [dir, results] of [
    [dirs[0], fixtureResults()],
    [dirs[1], lifecycleResults()],
  ] as const) {
    mkdirSync(dir)
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results))
  }
  return dirs
}

const SETS = [
  { rate: 40_000, users: 2_000_000, 'requests-per-user-per-minute': 1.2, instances: 8, 'store-rtt-ms': 0.5, 'access-ttl': 900 },
  { rate: 1500, users: 9000, 'requests-per-user-per-minute': 10, instances: 1, 'store-rtt-ms': 0, 'access-ttl': 60 },
  { rate: 250_000, users: 30_000_000, 'requests-per-user-per-minute': 0.5, instances: 64, 'store-rtt-ms': 2, 'access-ttl': 3600 },
]
const flags = (s: (typeof SETS)[number]) => Object.entries(s).flatMap(([k, v]) => [`--${k}`, String(v)])

interface PlanJson {
  inputs: Record<string, number>
  choices: { id: string; figures: Record<string, { value: number | null; interval: [number, number] | null; source: string | null }> }[]
  breakEven: { kind: string; choice: string; value: number; assumes: Record<string, number> }[]
}

describe('npm run plan', () => {
  test('--json: every choice of both runs, each figure named, with a value and source or the reason it is absent', (t) => {
    const [a, b] = runs(t)
    const r = runPlan([a, b, ...flags(SETS[0]!), '--json'])
    assert.equal(r.status, 0, r.stderr)
    const j = JSON.parse(r.stdout) as PlanJson
    assert.deepEqual(Object.keys(j), ['inputs', 'choices', 'breakEven'])
    assert.equal(j.inputs.rate, 40_000)
    assert.equal(j.inputs.accessTtlSeconds, 900)
    const sessions = j.choices.find((c) => c.id === 'session-sqlite')!
    assert.deepEqual(Object.keys(sessions.figures), [...FIGURE_NAMES])
    const cpu = fixtureResults().cells.find((c) => c.id === 'session-sqlite')!.summary!.cpuUsPerRequest.median
    assert.equal(sessions.figures.serverCores!.value, (40_000 * cpu) / 1e6)
    assert.match(sessions.figures.serverCores!.source!, /results\.json session-sqlite summary\.cpuUsPerRequest/)
    assert.equal(sessions.figures.revocationLagSeconds!.value, 0)
    // No simulation.json beside either run: no latency, and it says so.
    assert.equal(sessions.figures.p99Ms!.value, null)
    assert.ok(j.breakEven.some((x) => x.kind === 'renewal-share' && x.choice === 'session-sqlite' && x.value === 10))
    assert.ok(existsSync(join(a, 'plan.html')))
    assert.equal(existsSync(join(b, 'plan.html')), false)
  })

  test('latency beside a simulation.json whose model did not hold: absent, with why', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'authbench-plan-open-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const results = openLoopResults()
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results))
    writeSimulation(runSimulation(results), dir)
    const r = runPlan([dir, '--instances', '1', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const redis = (JSON.parse(r.stdout) as PlanJson).choices.find((c) => c.id === 'session-redis')!
    assert.equal(redis.figures.p99Ms!.value, null)
    assert.match(
      (redis.figures.p99Ms as unknown as { absent: string }).absent,
      /^not validated: the latency model did not hold for session-redis at 1/,
    )
  })

  test('loads no server file and no server package (the page kit and the model rule, held at run time)', (t) => {
    const [a] = runs(t)
    const list = join(a, 'loaded.txt')
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/loaded-modules.mjs', 'bench/capacity-cli.ts', a], {
      env: { ...process.env, LOADED_MODULES_FILE: list },
      encoding: 'utf8',
    })
    assert.equal(r.status, 0, r.stderr)
    const root = fileURLToPath(new URL('..', import.meta.url))
    const paths = readFileSync(list, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file://'))
      .map((u) => fileURLToPath(u))
    const files = paths.filter((p) => p.startsWith(root) && !p.includes('/node_modules/')).map((p) => p.slice(root.length))
    const packages = new Set(paths.flatMap((p) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []))
    assert.ok(files.includes('bench/capacity/arithmetic.ts'), files.join(' '))
    assert.deepEqual(
      files.filter((f) => f.startsWith('servers/')),
      [],
    )
    const server = ['fastify', 'better-sqlite3', 'ioredis', 'pg', 'postgres', 'jose', 'fast-jwt', '@fastify/secure-session']
    assert.deepEqual(
      [...packages].filter((p) => server.includes(p)),
      [],
    )
  })

  test('exit 2 for a bad flag, an input out of range, or a folder with no results.json', (t) => {
    const [a] = runs(t)
    const bad = runPlan([a, '--rte', '5'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /--rte/)
    const range = runPlan([a, '--instances', '0'])
    assert.equal(range.status, 2)
    assert.match(range.stderr, /--instances: expected a number from 1/)
    const empty = mkdtempSync(join(tmpdir(), 'authbench-plan-empty-'))
    t.after(() => rmSync(empty, { recursive: true, force: true }))
    const none = runPlan([empty])
    assert.equal(none.status, 2)
    assert.match(none.stderr, /no results\.json there/)
    assert.equal(runPlan([]).status, 2)
  })

  test('plan.html recomputes in the browser what --json prints, for three input sets, offline', { skip: CHROMIUM === null }, async (t) => {
    const [a, b] = runs(t)
    const expected = SETS.map((s) => {
      const r = runPlan([a, b, ...flags(s), '--json'])
      assert.equal(r.status, 0, r.stderr)
      return JSON.parse(r.stdout) as PlanJson
    })
    const browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    t.after(() => browser.close())
    const page = await browser.newPage()
    const problems: string[] = []
    const requests: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
    page.on('request', (r) => r.url().startsWith('file:') || requests.push(r.url()))
    await page.goto(pathToFileURL(join(a, 'plan.html')).href)
    for (const [k, s] of SETS.entries()) {
      for (const [name, v] of Object.entries(s)) await page.fill(`[name="${name}"]`, String(v))
      const shown = await page.$$eval('[data-choice][data-figure]', (els) =>
        els.map((e) => [e.getAttribute('data-choice'), e.getAttribute('data-figure'), e.getAttribute('data-value')]),
      )
      const want = expected[k]!.choices.flatMap((c) =>
        FIGURE_NAMES.map((n) => [c.id, n, c.figures[n]!.value === null ? '' : String(c.figures[n]!.value)]),
      )
      assert.equal(shown.length, want.length)
      assert.deepEqual(shown, want, `input set ${k}`)
      const breakEven = await page.$$eval('[data-break-even]', (els) => els.map((e) => Number(e.getAttribute('data-value'))))
      assert.deepEqual(
        breakEven,
        expected[k]!.breakEven.map((x) => x.value),
      )
      assert.ok((await page.$$('svg polyline')).length > 0)
    }
    assert.deepEqual(problems, [])
    assert.deepEqual(requests, [])
  })
})
