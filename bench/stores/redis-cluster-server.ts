import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { StoreUnavailableHereError } from '../contracts/errors.ts'
import { type ProcessGroup, stopChild } from '../processes.ts'
import { freePort, REDIS_MISSING, redisServerInstalled, spawnRedisServer } from './redis-server.ts'

/** A private Redis Cluster: three masters on free loopback ports, no replicas, no persistence. */
export interface PrivateCluster {
  /** `host:port,host:port,host:port`, as `--redis-cluster-url` takes it. */
  url: string
  nodes: { port: number; process: ChildProcess | null }[]
  /** SIGKILL one master (a fault test); `revive` starts it again on its port with its cluster config. */
  kill(index: number): Promise<void>
  revive(index: number): Promise<void>
  stop(): Promise<void>
}

const MASTERS = 3

function startNode(port: number, dir: string, cpus: string | null): Promise<ChildProcess> {
  return spawnRedisServer(port, cpus, [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    '2000',
    '--dir',
    dir,
  ])
}

/**
 * A master on a free port. Its cluster bus listens on port + 10000, which another process may
 * hold even though the port itself was free: then another port, a few times.
 */
async function startFreeNode(dir: string, cpus: string | null): Promise<{ port: number; process: ChildProcess | null }> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    if (port + 10_000 > 65_535) continue
    try {
      return { port, process: await startNode(port, dir, cpus) }
    } catch (err) {
      lastError = err
      if (!/Address already in use/.test((err as Error).message)) throw err
    }
  }
  throw lastError instanceof Error ? lastError : new Error('no free port pair (port and port + 10000) for a cluster master')
}

/** Waits until every node reports `cluster_state:ok` (or throws after `timeoutMs`). */
async function waitForClusterOk(ports: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
        c.on('error', () => {})
        try {
          await c.connect()
          return /cluster_state:ok/.test((await c.cluster('INFO')) as string)
        } catch {
          return false
        } finally {
          c.disconnect()
        }
      }),
    )
    if (states.every(Boolean)) return
    if (Date.now() > deadline)
      throw new Error(`the cluster on ports ${ports.join(', ')} did not reach cluster_state:ok within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Starts three masters with cluster mode on, joins them with `redis-cli --cluster create`, and waits for `cluster_state:ok`. */
export async function startRedisCluster(options: { cpus?: string | null; group?: ProcessGroup } = {}): Promise<PrivateCluster> {
  if (!redisServerInstalled()) throw new StoreUnavailableHereError(REDIS_MISSING)
  if (spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new StoreUnavailableHereError(
      'redis-cli is not on PATH (it comes with redis-server: apt-get install redis-server, or npm run setup); it creates the cluster',
    )
  }
  const cpus = options.cpus ?? null
  // A run's process group owns the nodes' folder, so even a forced exit removes it.
  const group = options.group
  const dir = group ? group.tempDir('authbench-cluster-') : mkdtempSync(join(tmpdir(), 'authbench-cluster-'))
  const nodes: PrivateCluster['nodes'] = []
  const stop = async () => {
    await Promise.all(nodes.map((n) => (n.process ? stopChild(n.process) : undefined)))
    for (const n of nodes) n.process = null
    if (group) group.removeDir(dir)
    else rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < MASTERS; i++) nodes.push(await startFreeNode(dir, cpus))
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    )
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`)
    await waitForClusterOk(nodes.map((n) => n.port))
  } catch (err) {
    await stop()
    throw err
  }
  return {
    url: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    async kill(index) {
      const n = nodes[index]!
      n.process?.kill('SIGKILL')
      if (n.process) await stopChild(n.process)
      n.process = null
    },
    async revive(index) {
      const n = nodes[index]!
      if (!n.process) n.process = await startNode(n.port, dir, cpus)
      await waitForClusterOk(nodes.map((x) => x.port))
    },
    stop,
  }
}
