import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { fixtureResults } from './fixtures/results.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/compare-cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' })

test('npm run compare: exit 1 on a regression beyond the threshold, 0 within it, 2 on bad input', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-compare-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const older = fixtureResults()
  const newer = fixtureResults()
  // CPU over its bracketing baseline 25% worse; absolute CPU too, which alone would not count.
  const jwt = newer.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.summary!
  jwt.ratioToBaseline.cpu = jwt.ratioToBaseline.cpu! * 1.25
  jwt.cpuUsPerRequest = { median: 90, ci95: [88, 93], coverage: 0.75 }
  // The machine ran 30% slower for everyone: absolute CPU up, ratios unchanged, no regression.
  newer.cells.find((c) => c.id === 'session-sqlite')!.summary!.cpuUsPerRequest.median *= 1.3
  for (const [name, data] of [
    ['old', older],
    ['new', newer],
  ] as const) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'results.json'), JSON.stringify(data))
  }
  const worse = run([join(dir, 'old'), join(dir, 'new')])
  assert.equal(worse.status, 1, worse.stderr)
  assert.match(worse.stdout, /jwt-HS256-jose-sqlite\s+CPU x baseline\s+3\.571\s+4\.464\s+\+25\.0%\s+REGRESSION/)
  assert.match(worse.stdout, /session-sqlite\s+CPU µs\/req\s+30\.0\s+39\.0\s+\+30\.0%\s+for information/)
  assert.match(worse.stdout, /session-sqlite\s+CPU x baseline.*\+0\.0%\s+within run-to-run spread/)
  assert.match(worse.stdout, /larger of --threshold 10% and the run-to-run spread 24%/)
  // A spread measured elsewhere, larger than the change: no regression.
  assert.equal(run([join(dir, 'old'), join(dir, 'new'), '--spread', '30']).status, 0)
  assert.equal(run([join(dir, 'old'), join(dir, 'new'), '--spread', 'x']).status, 2)
  assert.ok(existsSync(join(dir, 'new', 'compare.html')))
  assert.equal(run([join(dir, 'old'), join(dir, 'new', 'results.json'), '--threshold', '30']).status, 0)
  assert.equal(run([join(dir, 'old')]).status, 2)
  writeFileSync(join(dir, 'bad.json'), '{"schemaVersion": 7}')
  const bad = run([join(dir, 'old'), join(dir, 'bad.json')])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /schemaVersion 7 is not 1/)
})
