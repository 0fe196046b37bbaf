import { Redis } from 'ioredis'
import { StoreUnavailableHereError } from '../../contracts/errors.ts'
import { clusterNodes, REDIS_CLUSTER_ADDRESS } from '../../../servers/stores/redis.ts'
import type { ExternalCounts, StoreFaults, StoreProvisioner } from './provisioner.ts'
import { commandCounts, redisCpuUs } from './redis.ts'
import { startRedisCluster, type PrivateCluster } from '../redis-cluster-server.ts'

/** Connections to every node, to sum their own counts and CPU. */
async function nodeClients(url: string): Promise<Redis[]> {
  return Promise.all(
    clusterNodes(url).map(async ({ host, port }) => {
      const c = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 })
      c.on('error', () => {})
      await c.connect()
      return c
    }),
  )
}

const sum = (xs: ExternalCounts[]): ExternalCounts =>
  xs.reduce(
    (a, b) => ({ reads: a.reads + b.reads, writes: a.writes + b.writes, deletes: a.deletes + b.deletes, total: a.total + b.total }),
    { reads: 0, writes: 0, deletes: 0, total: 0 },
  )

/** The user's cluster must be one: a standalone Redis answers CLUSTER INFO with an error. */
async function checkIsCluster(url: string): Promise<void> {
  const [first] = clusterNodes(url)
  const c = new Redis({ host: first!.host, port: first!.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  c.on('error', () => {})
  try {
    await c.connect()
    const info = (await c.cluster('INFO')) as string
    if (!/cluster_state:ok/.test(info))
      throw new StoreUnavailableHereError(`the Redis Cluster at ${url} is not ready (cluster_state is not ok)`)
  } catch (err) {
    if (err instanceof StoreUnavailableHereError) throw err
    const message = (err as Error).message
    throw new StoreUnavailableHereError(
      /cluster support disabled/i.test(message)
        ? `--${REDIS_CLUSTER_ADDRESS.flag} ${url} answers as a standalone Redis, not a cluster (cluster support disabled); give a cluster's ` +
            `nodes, or use --redis-url for a single Redis`
        : `cannot reach the Redis Cluster at ${url}: ${message}`,
    )
  } finally {
    c.disconnect()
  }
}

/**
 * A Redis Cluster: the user's (`--redis-cluster-url`, checked to be one) or three private masters
 * (no replicas, no persistence) on free loopback ports, pinned with the load generator; on a
 * namespace topology, each master on a host of its own. Counts and CPU are summed over the nodes
 * (INFO reaches a hosted master as it does a local one). Faults act on the first master (and a flush on all).
 */
export const redisClusterProvisioner: StoreProvisioner = {
  kind: 'redis-cluster',
  address: {
    option: REDIS_CLUSTER_ADDRESS,
    means: 'use this Redis Cluster for redis-cluster cells instead of starting three private masters',
    startPrivate: (group) => startRedisCluster({ group }),
  },
  async onHost(hosts, { cpus, group }) {
    const cluster = await startRedisCluster({ cpus, group, hosts })
    const where = hosts.map((h) => `${h.name} (${h.address})`).join(', ')
    return {
      url: cluster.url,
      description: `started a Redis Cluster (three masters) on hosts ${where}, each on port ${cluster.nodes[0]!.port}`,
      stop: () => cluster.stop(),
    }
  },
  async provision({ cpus, group, urls }) {
    let cluster: PrivateCluster | null = null
    const given = urls['redis-cluster'] ?? null
    if (given) await checkIsCluster(given)
    else {
      cluster = await startRedisCluster({ cpus, group })
    }
    const url = given ?? cluster!.url
    let clients = await nodeClients(url)
    let paused = false
    const faults: StoreFaults | null = cluster && {
      async pause() {
        cluster!.nodes[0]!.process?.kill('SIGSTOP')
        paused = true
      },
      async resume() {
        cluster!.nodes[0]!.process?.kill('SIGCONT')
        paused = false
      },
      async kill() {
        cluster!.nodes[0]!.process?.kill('SIGCONT')
        paused = false
        await cluster!.kill(0)
      },
      async restart() {
        await faults!.kill()
        await faults!.ensureUp()
      },
      async ensureUp() {
        if (paused) await faults!.resume()
        if (!cluster!.nodes[0]!.process) await cluster!.revive(0)
      },
      async flush() {
        await Promise.all(clients.map((c) => c.flushall()))
      },
    }
    return {
      description: cluster ? `started a private Redis Cluster (three masters) on ${url}` : `using the Redis Cluster at ${url}`,
      serverArgs: [`--${REDIS_CLUSTER_ADDRESS.flag}`, url],
      counts: async () => sum(await Promise.all(clients.map(commandCounts))),
      cpuUs: async () => (await Promise.all(clients.map(redisCpuUs))).reduce((a, b) => a + b, 0),
      faults,
      async stop() {
        for (const c of clients) c.disconnect()
        clients = []
        await cluster?.stop()
      },
    }
  },
}
