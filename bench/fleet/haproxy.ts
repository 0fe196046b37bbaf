// HAProxy in front of a cell's instances: Debian's haproxy, started by the harness with a config it
// writes, on a free port, and its CPU read from the scheduler's account of the process.
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ServerStartError } from '../../common/errors.ts'
import { StoreUnavailableHereError } from '../contracts/errors.ts'
import { pinned } from '../affinity.ts'
import type { Balance } from '../contracts/scenario.ts'
import { runTimeUs, stopChild, type ProcessGroup } from '../processes.ts'
import { freePort } from '../stores/redis-server.ts'
import { HEALTH_PATH } from '../../common/health.ts'

export const HAPROXY_MISSING = 'haproxy is not on PATH; install it (Debian/Ubuntu: apt-get install haproxy, or npm run setup)'

export function haproxyInstalled(): boolean {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0
}

export interface Balancer {
  url: string
  /** Each backend server's state as HAProxy's health checks have it (`UP`, `DOWN`, ...), by its name (`i1`, `i2`, ...). */
  serverStates(): Promise<Record<string, string>>
  /** The process's CPU so far, µs (its run time as the scheduler accounts it, in ns). */
  cpuUs(): number
  /** HTTP requests its frontend has taken so far (`show stat`, the FRONTEND row's `req_tot`); health checks are not among them. */
  requestsTotal(): Promise<number>
  stop(): Promise<void>
}

/**
 * The config: one thread (a balancer's cost per request is what is measured, not its scaling),
 * keep-alive on both sides with server connections reused, and the balance asked for. `sticky`
 * pins a client to the instance that issued its cookie by prefixing that cookie's value with the
 * instance's name (HAProxy's `cookie NAME prefix`; the server never sees the prefix); a strategy
 * without a cookie is hashed on its Authorization header instead, so a bearer token keeps to one instance.
 * Every server is health-checked on the servers' `/healthz` (answered before the app, so neither counted nor timed) every
 * 500 ms, each check given 1.5 s to answer: two failures take it out, one success puts it back; until then a request whose connection a dead server refused
 * goes to another at once (`option redispatch 1`; without it HAProxy retries the dead one three times a second apart, then
 * answers 503), its cookie or hash notwithstanding. `statsSocket`: where HAProxy answers `show stat`.
 */
export function haproxyConfig(o: {
  host: string
  port: number
  backends: string[]
  balance: Balance
  stickyCookie: string | null
  statsSocket?: string
}): string {
  const sticky = o.balance === 'sticky'
  const algorithm = o.balance === 'leastconn' ? 'leastconn' : sticky && o.stickyCookie === null ? 'hdr(authorization)' : 'roundrobin'
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    ...(o.statsSocket ? [`  stats socket ${o.statsSocket} mode 600 level user`] : []),
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  http-reuse always',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A check a busy server answers late (its event loop behind a saturating load) is not a dead server's; a killed one
    // refuses the connection at once, so this bound does not slow its removal.
    '  timeout check 1500ms',
    'frontend authbench',
    `  bind ${o.host}:${o.port}`,
    '  default_backend instances',
    'backend instances',
    `  balance ${algorithm}`,
    ...(sticky && o.stickyCookie ? [`  cookie ${o.stickyCookie} prefix`] : []),
    `  option httpchk GET ${HEALTH_PATH}`,
    '  option redispatch 1',
    ...o.backends.map(
      (b, i) => `  server i${i + 1} ${b.replace(/^https?:\/\//, '')}${sticky && o.stickyCookie ? ` cookie i${i + 1}` : ''} ${HEALTH_CHECK}`,
    ),
    '',
  ].join('\n')
}

/** How often a server is checked, and how many checks in a row take it out and put it back. */
const HEALTH_CHECK = 'check inter 500ms fall 2 rise 1'

/** Each `server` line's state from HAProxy's `show stat` (CSV: the header names the columns), by server name. */
function serverStatesOf(csv: string): Record<string, string> {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = header!.replace(/^# /, '').split(',')
  const [name, status] = [columns.indexOf('svname'), columns.indexOf('status')]
  const out: Record<string, string> = {}
  for (const row of rows) {
    const cells = row.split(',')
    if (cells[name] !== 'FRONTEND' && cells[name] !== 'BACKEND') out[cells[name]!] = cells[status]!
  }
  return out
}

/** The FRONTEND row's `req_tot` of HAProxy's `show stat`. */
function frontendRequestsOf(csv: string): number {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = header!.replace(/^# /, '').split(',')
  const [name, total] = [columns.indexOf('svname'), columns.indexOf('req_tot')]
  const row = rows.map((r) => r.split(',')).find((cells) => cells[name] === 'FRONTEND')
  if (!row) throw new Error("haproxy's show stat has no FRONTEND row")
  return Number(row[total])
}

/** Sends one command to HAProxy's stats socket and reads its whole answer (HAProxy closes the connection after it). */
function askSocket(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = ''
    const s = connect(path)
    s.setEncoding('utf8')
    s.on('data', (d) => {
      answer += d
    })
    s.once('error', reject)
    s.once('end', () => resolve(answer))
    s.write(`${command}\n`)
  })
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Starts HAProxy in the foreground (on `cpus` when given) and waits until it accepts connections. */
export async function startHaproxy(
  group: ProcessGroup,
  o: {
    backends: string[]
    balance: Balance
    stickyCookie: string | null
    cpus: string | null
    host?: string
    wrap?: (argv: string[]) => string[]
  },
): Promise<Balancer> {
  if (!haproxyInstalled()) throw new StoreUnavailableHereError(HAPROXY_MISSING)
  const host = o.host ?? '127.0.0.1'
  const port = await freePort()
  const dir = group.tempDir('authbench-haproxy-')
  const cfg = join(dir, 'haproxy.cfg')
  const statsSocket = join(dir, 'stats.sock')
  writeFileSync(cfg, haproxyConfig({ host, port, backends: o.backends, balance: o.balance, stickyCookie: o.stickyCookie, statsSocket }))
  const [command, args] = pinned(o.cpus, 'haproxy', ['-db', '-f', cfg])
  const argv = o.wrap ? o.wrap([command, ...args]) : [command, ...args]
  const child = group.track(spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] }))
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  const stop = async () => {
    await stopChild(child)
    group.removeDir(dir)
  }
  const deadline = Date.now() + 10_000
  while (!(await listening(host, port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new ServerStartError(`haproxy did not start on ${host}:${port}: ${stderr.trim() || 'no output'}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  // Wrapped (ip netns exec), the child is the wrapper until it execs: haproxy's pid is the child's all the same.
  const pid = child.pid!
  return {
    url: `http://${host}:${port}`,
    cpuUs: () => runTimeUs(pid),
    serverStates: async () => serverStatesOf(await askSocket(statsSocket, 'show stat')),
    requestsTotal: async () => frontendRequestsOf(await askSocket(statsSocket, 'show stat')),
    stop,
  }
}
