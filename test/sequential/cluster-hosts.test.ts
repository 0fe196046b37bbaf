import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { benchLeavingNothing, netnsSkip } from '../helpers.ts'

// CI runs as root with iproute2: there a missing namespace topology is a failure, not a skip.
const { unavailable, skip } = netnsSkip()

/** The masters CLUSTER SLOTS names, as `address:port`, asked of the node at `host`. */
async function slotMasters(host: string, port: number): Promise<string[]> {
  const c = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  c.on('error', () => {})
  try {
    await c.connect()
    // Each range: its first and last slot, then its master (address, port, id) and any replicas.
    const slots = await c.cluster('SLOTS')
    return slots.map(([, , master]) => `${master![0]}:${master![1]}`).sort()
  } finally {
    c.disconnect()
  }
}

describe('a Redis Cluster on a namespace topology: each master on a host of its own', () => {
  test('a session and a JWT with a denylist on it, two instances behind HAProxy: the masters on store, store2 and store3 at their ' +
    "hosts' addresses (CLUSTER SLOTS too), one read a request on the servers' counts and on the masters' own, the store's " +
    'CPU measured; nothing left', { skip }, async (t) => {
    assert.equal(unavailable, null, String(unavailable))
    // Asked of the first master while the run holds the cluster: what a client is redirected to.
    let announced: Promise<string[]> | null = null
    // Nothing left: no process of the run's (the masters in their namespaces included), no namespace, veth or bridge.
    const { results, res } = await benchLeavingNothing(
      t,
      'cluster-hosts',
      {
        name: 'cluster-hosts-test',
        description: 'a Redis Cluster whose masters each run on a host of their own',
        workload: { route: 'GET /me', users: 20 },
        cells: [
          { strategy: 'none', balancer: 'haproxy' },
          { strategy: 'session', store: 'redis-cluster', instances: 2, balancer: 'haproxy' },
          { strategy: 'jwt', store: 'redis-cluster', revocation: 'denylist', instances: 2, balancer: 'haproxy' },
        ],
        load: { connections: 8, durationSeconds: 1, warmupSeconds: 1, rounds: 1 },
        topology: 'netns',
      },
      [],
      (stderr) => {
        const first = /started a Redis Cluster \(three masters\) on hosts store \((198\.1[89]\.\d+\.\d+)\)/.exec(stderr)
        if (first && !announced) announced = slotMasters(first[1]!, 7000)
      },
    )

    const hosts = results.environment.topology!.hosts
    const masters = ['store', 'store2', 'store3'].map((name) => `${hosts.find((h) => h.name === name)!.address}:7000`)
    for (const m of masters) assert.match(m, /^198\.1[89]\.\d+\.\d+:7000$/)
    assert.equal(new Set(masters).size, 3)
    // The servers were handed the hosts' addresses, and the cluster announces the same: never 127.0.0.1.
    assert.equal(
      results.environment.stores!.find((s) => s.kind === 'redis-cluster')!.description,
      `using the Redis Cluster at ${masters.join(',')}`,
    )
    // No master outlived the run: redis-server names its address in its process title.
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout
    assert.deepEqual(
      ps.split('\n').filter((l) => l.startsWith('redis-server') && masters.some((m) => l.includes(m))),
      [],
    )
    assert.ok(announced, 'the run said where it started the cluster')
    assert.deepEqual(await announced, [...masters].sort())

    for (const id of ['session-redis-cluster-x2-haproxy-roundrobin', 'jwt-HS256-jose-redis-cluster-denylist-x2-haproxy-roundrobin']) {
      const cell = results.cells.find((c) => c.id === id)!
      assert.equal(cell.status, 'ok', `${id}: ${cell.reason}`)
      // Its counts were checked against the masters' own on a traced instance before its windows (a full run, not smoke).
      assert.match(res.stderr, new RegExp(`${id}: starting its servers, verifying, checking its counts`))
      for (const r of cell.rounds) {
        // One read a request (the session, or the token's jti on the denylist), on the servers' counts and summed over the
        // three masters' INFO commandstats.
        assert.deepEqual(r.storeOpsPerRequest, { reads: 1, writes: 0, deletes: 0 })
        assert.deepEqual(r.redisCommandsPerRequest, { reads: 1, writes: 0, deletes: 0, total: 1 })
        assert.ok(r.storeCpuUsPerRequest !== null && r.storeCpuUsPerRequest > 0, String(r.storeCpuUsPerRequest))
      }
    }
  })
})
