// npm test, after the machine check and the type check: as Node core keeps test/parallel apart
// from test/sequential, every test file that can share the machine runs four at a time (the
// longest first, so no long file starts last and runs alone at the end; scripts/test-tier.mjs keeps
// the order), then the files in test/sequential/ (timing bounds a busy machine would break: the delay proxy, the open- and
// closed-loop drivers, the lifecycle driver, a store faulted under load, an instance killed behind HAProxy, the store host cut
// off from the app hosts, a store's CPU against the kernel's, SQLite's busy timeout,
// several load drivers against a fixed delay, observe against a normal run's CPU per request) one at a time. Each runner
// prints its progress with the `spec` reporter; the counts come from the runner's own events (scripts/test-counts.mjs),
// never from parsing printed text, whose format changes between Node majors. Last, one line for
// the whole: `N passed, N failed, N skipped`. Exit 1 when any failed.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compiledFiles } from '../common/compiled.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// The parallel tier's longest files, longest first (measured with npm test on a fresh clone on this project's
// two-core machine, the tier busy: every shipped scenario 164 s, the fleets 156 s, the bench CLI 110 s, the
// instruction counter's known loop 93 s under valgrind (a count does not move with load), a session's counted
// batches 64 s, remote mode 49 s, PostgreSQL, the closed clone and the server CLI 33-36 s each, the redis-cluster
// harness 24 s, a server on another Node major 20 s, the conformance matrix on both frameworks less); every other
// file follows in name order.
const LONGEST = [
  'test/shipped-scenarios.test.ts',
  'test/fleet.test.ts',
  'test/bench-cli.test.ts',
  'test/instructions.test.ts',
  'test/remote.test.ts',
  'test/postgres.test.ts',
  'test/postgres-closed-clone.test.ts',
  'test/server-cli.test.ts',
  'test/cluster-harness.test.ts',
  'test/conformance.test.ts',
  'test/instructions-session.test.ts',
  'test/runtimes.test.ts',
]

function files(dir, deep) {
  const out = []
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory() && deep && e.name !== 'sequential') out.push(...files(path, deep))
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(relative(ROOT, join(ROOT, path)))
  }
  return out.sort()
}

/** Runs `list` in one node:test runner, in that order (scripts/test-tier.mjs); resolves with its exit code and its counts. */
function run(list, concurrency, countsFile) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', 'scripts/test-tier.mjs', String(concurrency), countsFile, ...list], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.on('close', (code) => {
      let counts
      try {
        counts = JSON.parse(readFileSync(countsFile, 'utf8'))
      } catch (cause) {
        // A runner that died before its reporter finished: its tests are not known to have passed.
        process.stderr.write(`run-tests: no counts from the runner (exit ${code}): ${cause.message}\n`)
        counts = { passed: 0, failed: 1, skipped: 0 }
      }
      resolve({ code, ...counts })
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'authbench-run-tests-'))
// In the project, so the compiled files' packages resolve from its node_modules.
mkdirSync(join(ROOT, '.cache'), { recursive: true })
const compiled = mkdtempSync(join(ROOT, '.cache', 'tests-'))
let a
let b
try {
  const all = files('test', true)
  const parallel = [...LONGEST.filter((f) => all.includes(f)), ...all.filter((f) => !LONGEST.includes(f))]
  const sequential = files('test/sequential', false)
  // Every test file compiled once (common/compiled.ts: each module keeps its own import.meta.url, source maps inline):
  // a file's process then starts without tsx's loader (1.3 CPU-s against 1.6 for a small file, more for one that
  // imports the servers and the harness), on a suite the two cores' CPU bounds.
  const compile = (list, tier) =>
    compiledFiles(
      list.map((f) => join(ROOT, f)),
      ROOT,
      join(compiled, tier),
    )
  a = await run(await compile(parallel, 'parallel'), 4, join(dir, 'parallel.json'))
  b = await run(await compile(sequential, 'sequential'), 1, join(dir, 'sequential.json'))
} finally {
  rmSync(dir, { recursive: true, force: true })
  rmSync(compiled, { recursive: true, force: true })
}
const passed = a.passed + b.passed
const failed = a.failed + b.failed
const skipped = a.skipped + b.skipped
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`)
process.exit(a.code === 0 && b.code === 0 && failed === 0 ? 0 : 1)
