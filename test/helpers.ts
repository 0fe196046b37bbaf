import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { after } from 'node:test'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { generatePrivateKeyPem } from '../servers/keys.ts'
import { createServer, DEFAULT_CONFIG, type Server, type ServerConfig } from '../servers/server.ts'
import { STORES, type Alg, type StoreKind } from '../servers/types.ts'
import { ProcessGroup } from '../bench/processes.ts'
import { validateScenario } from '../bench/contracts/scenario.ts'
import { compiledModule } from '../common/compiled.ts'
import { storeProvisioners } from '../bench/stores/run/index.ts'
import { leftBy, netnsUnavailable } from '../bench/fleet/netns.ts'
import type { ResultsFile } from '../bench/contracts/results.ts'

/** What a call returned and how long it took, ms. */
export async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const result = await run()
  return [result, performance.now() - start]
}

/**
 * What a call returned, how long it took (ms), and how late this process's event loop ran
 * meanwhile (ms, summed over 10 ms samples). A store's timeout is a timer in this process (the
 * server under app.inject runs here), and a timer set for T ms fires after T plus that lateness:
 * what a loaded machine adds, measured rather than guessed. A bound on how soon a timeout answers
 * is then the timeout, the request's own work, and this. (Not for a synchronous wait, which is
 * itself lateness: SQLite's busy wait.)
 */
export async function timedAgainstLoop<T>(run: () => Promise<T>): Promise<[T, number, number]> {
  const RESOLUTION_MS = 10
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  loop.enable()
  const [result, ms] = await timed(run)
  loop.disable()
  // Each sample is one interval of the sampling timer (ns): its excess over the resolution is lateness.
  const lateMs = loop.count === 0 ? 0 : Math.max(0, (loop.count * loop.mean) / 1e6 - loop.count * RESOLUTION_MS)
  return [result, ms, lateMs]
}

/** Polls `check` every 50 ms until it holds; fails the test, naming `what`, after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.fail(`${what} did not happen within ${timeoutMs} ms`)
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 1)) {
  let now = start
  const clock = () => now
  clock.advance = (ms: number) => {
    now += ms
  }
  return clock
}

/** One instance per test file, started on first use and stopped when the file's tests end. */
function shared<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | null = null
  after(async () => {
    // A start that failed has nothing to stop, and must not keep the other shared stores from stopping.
    const s = started !== null ? await started.catch(() => null) : null
    if (s) await s.stop()
  })
  return () => (started ??= start())
}

const sharedGroup = new ProcessGroup()

/** One private instance of each store reached at an address per test file, started by its provisioner on first use. */
const sharedStores: Partial<Record<StoreKind, () => Promise<{ url: string }>>> = Object.fromEntries(
  STORES.flatMap((kind) => {
    const at = storeProvisioners[kind].address
    return at ? [[kind, shared(() => at.startPrivate(sharedGroup))]] : []
  }),
)

/** Where this file's shared instance of store `kind` is (started on first use); undefined for an in-process store. */
export async function sharedStoreUrl(kind: StoreKind): Promise<string | undefined> {
  return (await sharedStores[kind]?.())?.url
}

let prefixCounter = 0
export const uniquePrefix = () => `t${process.pid}-${++prefixCounter}-${randomBytes(4).toString('hex')}:`

/** Known key material, so tests can forge correctly signed tokens with wrong claims. */
export function keyFor(t: TestContext, alg: Alg): { jwtSecret?: string; keyFile?: string; secret?: Buffer; pem?: string } {
  if (alg === 'HS256') {
    const secret = randomBytes(32)
    return { jwtSecret: secret.toString('hex'), secret }
  }
  const pem = generatePrivateKeyPem(alg)
  const dir = mkdtempSync(join(tmpdir(), 'authbench-key-'))
  const keyFile = join(dir, 'key.pem')
  writeFileSync(keyFile, pem)
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return { keyFile, pem }
}

export type TestConfig = Partial<ServerConfig> & Pick<ServerConfig, 'strategy'>

/** A server with 10 cheaply hashed users, closed when the test ends. */
export async function testServer(
  t: TestContext,
  config: TestConfig,
  options: { clock?: () => number; purgeIntervalMs?: number; metrics?: boolean; exportMetrics?: boolean } = {},
): Promise<Server> {
  const full: ServerConfig = { ...DEFAULT_CONFIG, users: 10, hashCost: 4, ...config }
  full.storeUrl ??= await sharedStoreUrl(full.store)
  const server = await createServer(full, { ...options, redisKeyPrefix: uniquePrefix() })
  t.after(() => server.close())
  return server
}

export interface Credential {
  headers: Record<string, string>
  accessToken?: string
  refreshToken?: string
  sid?: string
  /** The sealed session cookie's value (cookie strategy). */
  sealed?: string
}

export async function login(
  server: Server,
  user = 'user1',
  password = `pw-${user}`,
  headers: Record<string, string> = {},
): Promise<Credential> {
  const res = await server.app.inject({ method: 'POST', url: '/login', payload: { username: user, password }, headers })
  if (res.statusCode !== 200 && res.statusCode !== 204) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const cookie = res.headers['set-cookie']
  if (typeof cookie === 'string') {
    const [, name, value] = /^([a-z]+)=([^;]+)/.exec(cookie)!
    return { headers: { cookie: `${name}=${value}` }, ...(name === 'sid' ? { sid: value } : { sealed: value }) }
  }
  if (res.statusCode === 200) {
    const body = res.json() as { access_token: string; refresh_token: string }
    return { headers: { authorization: `Bearer ${body.access_token}` }, accessToken: body.access_token, refreshToken: body.refresh_token }
  }
  return { headers: {} }
}

/** The store operations one call performs. */
export async function opsOf<T>(
  server: Server,
  run: () => Promise<T>,
): Promise<{ result: T; reads: number; writes: number; deletes: number }> {
  const before = server.counters.totals()
  const result = await run()
  return {
    result,
    reads: server.counters.reads - before.reads,
    writes: server.counters.writes - before.writes,
    deletes: server.counters.deletes - before.deletes,
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * A tag a test puts in a child's environment; every process the child starts (servers, stores,
 * proxies) inherits it. Any process still alive with the tag after the child exits was left
 * behind: a check that other test files' processes, running at the same time, cannot confuse.
 */
export const runTag = () => `t${process.pid}-${randomBytes(6).toString('hex')}`

/** PIDs of live processes whose environment holds `tag`. */
export function processesTagged(tag: string): number[] {
  const marker = `AUTHBENCH_TEST_RUN=${tag}\0`
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let env: string
    try {
      env = readFileSync(`/proc/${name}/environ`, 'latin1')
    } catch {
      continue // gone meanwhile, or not readable: not one of ours
    }
    if (`${env}\0`.includes(marker)) out.push(Number(name))
  }
  return out
}

/**
 * Runs one of the project's CLIs (`script`, e.g. bench/cli.ts) from the project root with ARGS and resolves with its
 * exit code, output and pid. It runs from its compiled copy (common/compiled.ts: the same code, without tsx's
 * loader, which costs 1.3 of a start's 2 CPU-s; test/postgres-closed-clone.test.ts runs `npm run bench` as a
 * user types it, through tsx); with `tag`, every process it starts carries it (see `processesTagged`); `onStderr`
 * sees its stderr so far at each chunk (to interrupt it mid-run); `onSpawn` gets the child as it starts (to stop one
 * that writes nothing on stderr).
 */
export async function runCli(
  script: string,
  args: string[],
  tag?: string,
  onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void,
  extraEnv: Record<string, string> = {},
  onSpawn?: (child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; pid: number; stdout: string; stderr: string }> {
  const cli = await compiledModule(join(ROOT, script))
  return new Promise((resolve) => {
    const env = { ...process.env, ...(tag ? { AUTHBENCH_TEST_RUN: tag } : {}), ...extraEnv }
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    })
    onSpawn?.(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
      onStderr?.(stderr, child)
    })
    child.on('exit', (code) => resolve({ code, pid: child.pid!, stdout, stderr }))
  })
}

/** `npm run bench -- ARGS` (bench/cli.ts), as `runCli` runs it. */
export const runBench = (
  args: string[],
  tag?: string,
  onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void,
  extraEnv: Record<string, string> = {},
) => runCli('bench/cli.ts', args, tag, onStderr, extraEnv)

/**
 * `npm run bench` on `scenario`, written as JSON to a temporary directory the test removes after it, with `args` after the
 * scenario and its `--out`: asserts the run exited 0 and left nothing behind (no process carrying its tag, and no namespace,
 * veth or bridge named for its pid), and returns its results.json, its output directory and its exit, output and pid.
 */
export async function benchLeavingNothing(
  t: TestContext,
  name: string,
  scenario: Record<string, unknown>,
  args: string[] = [],
  onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ results: ResultsFile; out: string; res: Awaited<ReturnType<typeof runCli>> }> {
  const dir = mkdtempSync(join(tmpdir(), `authbench-${name}-`))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(scenario))
  const out = join(dir, 'out')
  const tag = runTag()
  const started = performance.now()
  const res = await runBench([file, '--out', out, ...args], tag, onStderr)
  t.diagnostic(`the run took ${Math.round(performance.now() - started)} ms`)
  assert.equal(res.code, 0, res.stderr + res.stdout)
  assert.deepEqual(processesTagged(tag), [])
  assert.deepEqual(leftBy(res.pid), [])
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? ''
  assert.ok(!links.includes(`ab${res.pid}`), links)
  return { results: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile, out, res }
}

/** A namespace test's skip: where namespaces are not available, a reason to skip, except on CI (which runs as root with iproute2,
 * so there a missing topology is a failure); and the reason itself, null where they are available. */
export function netnsSkip(): { unavailable: string | null; skip: string | false } {
  const unavailable = netnsUnavailable()
  return { unavailable, skip: unavailable && !process.env.CI ? `${unavailable} (CI runs it as root)` : false }
}

/** What a scenario, `base` with `over` laid on it, is refused with: each issue as "path: message"; none where it is accepted. */
export function scenarioIssues(base: Record<string, unknown>, over: Record<string, unknown> = {}): string[] {
  try {
    validateScenario({ ...base, ...over }, 'scenario.json')
    return []
  } catch (err) {
    return (err as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`)
  }
}
