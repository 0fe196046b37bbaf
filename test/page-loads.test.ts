// Rendering a report or a simulation is a function of results.json: neither may load the servers
// under test or a runtime package of theirs (a store client, a JWT library, the web framework).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { fixtureResults, openLoopResults } from './fixtures/results.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_PACKAGES = [
  'fastify',
  'express',
  'better-sqlite3',
  'ioredis',
  'pg',
  'postgres',
  'jose',
  'fast-jwt',
  '@fastify/secure-session',
  'express-session',
  '@fastify/session',
  'redis',
  'connect-redis',
  'connect-pg-simple',
  'better-sqlite3-session-store',
]

/** Runs `script DIR` as its npm script does (tsx), and returns the project files and packages it loaded. */
function loads(script: string, results: unknown, t: { after(fn: () => void): void }): { files: string[]; packages: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-loads-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results))
  const list = join(dir, 'loaded.txt')
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/loaded-modules.mjs', script, dir], {
    cwd: ROOT,
    env: { ...process.env, LOADED_MODULES_FILE: list },
    encoding: 'utf8',
  })
  assert.equal(run.status, 0, run.stderr)
  const urls = new Set(
    readFileSync(list, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file://')),
  )
  const paths = [...urls].map((u) => fileURLToPath(u))
  const packages = new Set(paths.flatMap((p) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []))
  const files = paths.filter((p) => p.startsWith(ROOT) && !p.includes('/node_modules/')).map((p) => p.slice(ROOT.length))
  return { files: [...new Set(files)].sort(), packages: [...packages].sort() }
}

test('npm run report loads no server file and no server package', (t) => {
  const { files, packages } = loads('bench/report-cli.ts', fixtureResults(), t)
  // The hook saw the report itself, so an empty list cannot pass for a clean one.
  assert.ok(files.includes('bench/report/html.ts'), files.join(' '))
  assert.deepEqual(
    files.filter((f) => f.startsWith('servers/')),
    [],
  )
  assert.deepEqual(
    packages.filter((p) => SERVER_PACKAGES.includes(p)),
    [],
  )
})

test('npm run simulate loads no server file and no server package', (t) => {
  const { files, packages } = loads('bench/simulate-cli.ts', openLoopResults(), t)
  assert.ok(files.includes('bench/sim/des.ts'), files.join(' '))
  assert.deepEqual(
    files.filter((f) => f.startsWith('servers/')),
    [],
  )
  assert.deepEqual(
    packages.filter((p) => SERVER_PACKAGES.includes(p)),
    [],
  )
})
