import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { findChromium, missingForTests } from '../scripts/system.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SETUP = join(ROOT, 'scripts/setup.mjs')

describe('npm run setup -- --check (what npm test runs first)', () => {
  test('on this machine, after npm run setup: nothing missing, exit 0', () => {
    assert.deepEqual(missingForTests(ROOT), [])
    const res = spawnSync(process.execPath, [SETUP, '--check'], { encoding: 'utf8' })
    assert.equal(res.status, 0, res.stderr)
    assert.equal(res.stderr, '')
  })

  test('a PATH without redis-server, HAProxy, promtool, ip, Chromium or valgrind: exit 1 at once, one message naming each and the set-up command', (t) => {
    // A PATH holding only node itself, as on a fresh machine of the project's kind.
    const bin = mkdtempSync(join(tmpdir(), 'authbench-path-'))
    t.after(() => rmSync(bin, { recursive: true, force: true }))
    symlinkSync(process.execPath, join(bin, 'node'))
    const env = { PATH: bin, HOME: process.env.HOME ?? '/root' }
    assert.equal(findChromium(env), null)
    assert.deepEqual(
      missingForTests(ROOT, env).map((m) => m.name),
      ['redis-server', 'haproxy', 'promtool', 'ip (iproute2)', 'chromium', 'valgrind'],
    )
    const res = spawnSync(join(bin, 'node'), [SETUP, '--check'], { encoding: 'utf8', env })
    assert.equal(res.status, 1)
    assert.equal(res.stdout, '')
    const first = res.stderr.split('\n')[0]!
    assert.ok(
      first.startsWith(
        'authbench: the tests need what this machine lacks: redis-server (the tests start real Redis servers); ' +
          'haproxy (the tests put a real HAProxy in front of several instances); promtool (',
      ),
      first,
    )
    assert.match(first, /\); ip \(iproute2\) \(.*\); chromium \(the report is tested in a real browser\); valgrind \(/)
    assert.ok(first.endsWith("valgrind (the tests count a known server's instructions under callgrind)."), first)
    assert.match(res.stderr, /Run `npm run setup` once/)
    assert.match(res.stderr, /Debian packages: redis-server haproxy prometheus iproute2 chromium valgrind\n$/)
  })

  test('CHROMIUM_PATH names a browser outside PATH; one that does not exist is not found', () => {
    const chromium = findChromium()!
    assert.equal(findChromium({ PATH: '', CHROMIUM_PATH: chromium }), chromium)
    assert.equal(findChromium({ PATH: process.env.PATH, CHROMIUM_PATH: '/nonexistent/chromium' }), null)
  })
})
