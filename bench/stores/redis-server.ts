import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { StoreUnavailableHereError } from '../contracts/errors.ts'
import { pinned } from '../affinity.ts'
import { stopChild, waitForOutput } from '../processes.ts'

export const REDIS_MISSING =
  'redis-server is not on PATH; install it (Debian/Ubuntu: apt-get install redis-server, or npm run setup) or pass --redis-url'
const missing = () => new StoreUnavailableHereError(REDIS_MISSING)

export interface PrivateRedis {
  url: string
  port: number
  process: ChildProcess
  /** Stops the server (SIGTERM, then SIGKILL); safe to call more than once. */
  stop(): Promise<void>
}

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A free loopback port, found by binding port 0; redis-server cannot listen on port 0 itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Spawns `redis-server` on loopback `port`, without persistence, with `extra` flags (on `cpus` when
 * given), and resolves once it says it is ready to accept connections.
 */
export async function spawnRedisServer(
  port: number,
  cpus: string | null,
  extra: string[] = [],
  at?: { address: string; wrap(argv: string[]): string[] },
): Promise<ChildProcess> {
  const [command, args] = pinned(cpus, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    at?.address ?? '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    // On a namespace host the harness reaches it from the bridge, not from loopback: no protected mode there.
    '--daemonize',
    'no',
    '--protected-mode',
    at ? 'no' : 'yes',
    '--loglevel',
    'notice',
    ...extra,
  ])
  const argv = at ? at.wrap([command, ...args]) : [command, ...args]
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  const notFound = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? missing() : err)),
  )
  await Promise.race([waitForOutput(child, 'Ready to accept connections', 5000, `redis-server on port ${port}`), notFound])
  return child
}

async function startOnce(port: number, cpus: string | null): Promise<PrivateRedis> {
  const child = await spawnRedisServer(port, cpus)
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop: () => stopChild(child) }
}

/**
 * Starts a private redis-server on a free loopback port (a few tries, in case the port is taken
 * meanwhile), or on `port` when given (a restart in a fault test).
 */
export async function startRedis(options: { port?: number; cpus?: string | null } = {}): Promise<PrivateRedis> {
  if (!redisServerInstalled()) throw missing()
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options.port ?? (await freePort()), options.cpus ?? null)
    } catch (err) {
      if (err instanceof StoreUnavailableHereError) throw err
      lastError = err
    }
  }
  throw lastError
}
