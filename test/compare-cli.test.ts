import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { fixtureResults } from './fixtures/results.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/compare-cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' })

test('npm run compare: exit 1 on a regression beyond the threshold, 0 within it, 2 on bad input', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-compare-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const older = fixtureResults()
  const newer = fixtureResults()
  newer.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!.summary!.cpuUsPerRequest = { median: 90, ci95: [88, 93], coverage: 0.75 }
  for (const [name, data] of [['old', older], ['new', newer]] as const) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'results.json'), JSON.stringify(data))
  }
  const worse = run([join(dir, 'old'), join(dir, 'new')])
  assert.equal(worse.status, 1, worse.stderr)
  assert.match(worse.stdout, /jwt-HS256-jose-sqlite\s+CPU µs\/req.*\+25\.0%\s+REGRESSION/)
  assert.ok(existsSync(join(dir, 'new', 'compare.html')))
  assert.equal(run([join(dir, 'old'), join(dir, 'new', 'results.json'), '--threshold', '30']).status, 0)
  assert.equal(run([join(dir, 'old')]).status, 2)
  writeFileSync(join(dir, 'bad.json'), '{"schemaVersion": 7}')
  const bad = run([join(dir, 'old'), join(dir, 'bad.json')])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /schemaVersion 7 is not 1/)
})
