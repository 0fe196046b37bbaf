import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

// The unit tier's guard (test/unit/guard.ts) is what keeps servers out of it: checked here, outside that tier.
test("the unit tier's guard refuses a child process and a socket, by name, and lets pure code run", () => {
  const run = (code: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/unit/guard.ts', '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    })
  const spawned = run("import { spawnSync } from 'node:child_process'; spawnSync('true')")
  assert.notEqual(spawned.status, 0)
  assert.match(spawned.stderr, /the unit tier starts no process and opens no socket: child_process\.spawnSync was called/)
  const listened = run("import { createServer } from 'node:net'; createServer().listen(0)")
  assert.notEqual(listened.status, 0)
  assert.match(listened.stderr, /net\.Server\.listen was called/)
  const connected = run("import { connect } from 'node:net'; connect(1, '127.0.0.1')")
  assert.match(connected.stderr, /net\.Socket\.connect was called/)
  assert.equal(run('console.log(6 * 7)').stdout.trim(), '42')
})
