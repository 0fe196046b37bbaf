import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { StoreUnavailableHereError } from '../contracts/errors.ts'
import { type ProcessGroup, stopChild } from '../processes.ts'
import { freePort, REDIS_MISSING, redisServerInstalled, spawnRedisServer } from './redis-server.ts'

/** A private Redis Cluster: three masters, no replicas, no persistence, on free loopback ports or each on a host of its own. */
export interface PrivateCluster {
  /** `host:port,host:port,host:port`, as `--redis-cluster-url` takes it. */
  url: string
  nodes: { host: string; port: number; process: ChildProcess | null }[]
  /** SIGKILL one master (a fault test); `revive` starts it again on its port with its cluster config. */
  kill(index: number): Promise<void>
  revive(index: number): Promise<void>
  stop(): Promise<void>
}

const MASTERS = 3
/** A master's port on a host of its own (its cluster bus on port + 10000); a single Redis on the first store host keeps 6379. */
const HOSTED_PORT = 7000

/** A host of a namespace topology a master runs on: its address, and how a command runs in its namespace. */
interface ClusterHost {
  address: string
  wrap(argv: string[]): string[]
}

function startNode(port: number, dir: string, cpus: string | null, at?: ClusterHost): Promise<ChildProcess> {
  return spawnRedisServer(
    port,
    cpus,
    [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${at?.address ?? '127.0.0.1'}-${port}.conf`),
      '--cluster-node-timeout',
      '2000',
      // What CLUSTER SLOTS and a MOVED name for this master: the address the servers' hosts reach it at.
      ...(at ? ['--cluster-announce-ip', at.address] : []),
      '--dir',
      dir,
    ],
    at,
  )
}

/**
 * A master on a free port. Its cluster bus listens on port + 10000, which another process may
 * hold even though the port itself was free: then another port, a few times.
 */
async function startFreeNode(dir: string, cpus: string | null): Promise<{ host: string; port: number; process: ChildProcess | null }> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    if (port + 10_000 > 65_535) continue
    try {
      return { host: '127.0.0.1', port, process: await startNode(port, dir, cpus) }
    } catch (err) {
      lastError = err
      if (!/Address already in use/.test((err as Error).message)) throw err
    }
  }
  throw lastError instanceof Error ? lastError : new Error('no free port pair (port and port + 10000) for a cluster master')
}

/** Waits until every node reports `cluster_state:ok` (or throws after `timeoutMs`). */
async function waitForClusterOk(nodes: { host: string; port: number }[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const states = await Promise.all(
      nodes.map(async ({ host, port }) => {
        const c = new Redis({ port, host, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
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
      throw new Error(
        `the cluster on ${nodes.map((n) => `${n.host}:${n.port}`).join(', ')} did not reach cluster_state:ok within ${timeoutMs / 1000} s`,
      )
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Starts three masters with cluster mode on, joins them with `redis-cli --cluster create`, and waits for `cluster_state:ok`:
 * on free loopback ports, or, given `hosts` (three hosts of a namespace topology), each on its host's address.
 */
export async function startRedisCluster(
  options: { cpus?: string | null; group?: ProcessGroup; hosts?: ClusterHost[] } = {},
): Promise<PrivateCluster> {
  if (!redisServerInstalled()) throw new StoreUnavailableHereError(REDIS_MISSING)
  if (spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new StoreUnavailableHereError(
      'redis-cli is not on PATH (it comes with redis-server: apt-get install redis-server, or npm run setup); it creates the cluster',
    )
  }
  const hosts = options.hosts
  if (hosts && hosts.length !== MASTERS) throw new Error(`a cluster on hosts needs ${MASTERS} hosts, one per master; got ${hosts.length}`)
  const cpus = options.cpus ?? null
  // A run's process group owns the nodes' folder, so even a forced exit removes it.
  const group = options.group
  const dir = group ? group.tempDir('authbench-cluster-') : mkdtempSync(join(tmpdir(), 'authbench-cluster-'))
  const nodes: PrivateCluster['nodes'] = []
  const hostOf = (i: number) => hosts?.[i]
  const stop = async () => {
    await Promise.all(nodes.map((n) => (n.process ? stopChild(n.process) : undefined)))
    for (const n of nodes) n.process = null
    if (group) group.removeDir(dir)
    else rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < MASTERS; i++) {
      const at = hostOf(i)
      // Tracked as soon as it runs, so a failure further on still stops it on every exit path.
      const node = at
        ? { host: at.address, port: HOSTED_PORT, process: await startNode(HOSTED_PORT, dir, cpus, at) }
        : await startFreeNode(dir, cpus)
      if (node.process) group?.track(node.process)
      nodes.push(node)
    }
    // Run from the harness's side: on a topology it reaches every host through the bridge.
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    )
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`)
    await waitForClusterOk(nodes)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    url: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    nodes,
    async kill(index) {
      const n = nodes[index]!
      n.process?.kill('SIGKILL')
      if (n.process) await stopChild(n.process)
      n.process = null
    },
    async revive(index) {
      const n = nodes[index]!
      if (!n.process) {
        n.process = await startNode(n.port, dir, cpus, hostOf(index))
        group?.track(n.process)
      }
      await waitForClusterOk(nodes)
    },
    stop,
  }
}
