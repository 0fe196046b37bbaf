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

export const HAPROXY_MISSING = 'haproxy is not on PATH; install it (Debian/Ubuntu: apt-get install haproxy, or npm run setup)'

export function haproxyInstalled(): boolean {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0
}

export interface Balancer {
  url: string
  /** The process's CPU so far, µs (its run time as the scheduler accounts it, in ns). */
  cpuUs(): number
  stop(): Promise<void>
}

/**
 * The config: one thread (a balancer's cost per request is what is measured, not its scaling),
 * keep-alive on both sides with server connections reused, and the balance asked for. `sticky`
 * pins a client to the instance that issued its cookie by prefixing that cookie's value with the
 * instance's name (HAProxy's `cookie NAME prefix`; the server never sees the prefix); a strategy
 * without a cookie is hashed on its Authorization header instead, so a bearer token keeps to one instance.
 */
export function haproxyConfig(o: {
  host: string
  port: number
  backends: string[]
  balance: Balance
  stickyCookie: string | null
}): string {
  const sticky = o.balance === 'sticky'
  const algorithm = o.balance === 'leastconn' ? 'leastconn' : sticky && o.stickyCookie === null ? 'hdr(authorization)' : 'roundrobin'
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  http-reuse always',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend authbench',
    `  bind ${o.host}:${o.port}`,
    '  default_backend instances',
    'backend instances',
    `  balance ${algorithm}`,
    ...(sticky && o.stickyCookie ? [`  cookie ${o.stickyCookie} prefix`] : []),
    ...o.backends.map(
      (b, i) => `  server i${i + 1} ${b.replace(/^https?:\/\//, '')}${sticky && o.stickyCookie ? ` cookie i${i + 1}` : ''}`,
    ),
    '',
  ].join('\n')
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
  writeFileSync(cfg, haproxyConfig({ host, port, backends: o.backends, balance: o.balance, stickyCookie: o.stickyCookie }))
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
    stop,
  }
}
