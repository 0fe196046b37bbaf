// The balancer and topology registries as the plan, the counts and the report ask them.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ScenarioError, validateScenario } from '../../bench/contracts/scenario.ts'
import { expected401Share } from '../../bench/expected.ts'
import { topologies } from '../../bench/fleet/topologies.ts'
import { expandPlan } from '../../bench/plan.ts'

const scenario = (cells: unknown[]) => validateScenario({ name: 'x', description: 'd', cells, workload: { route: 'GET /me' } }, 'f.json')

describe('balancers', () => {
  test('a fronting balancer expands into one cell per balance, its id parts after the instances', () => {
    const s = scenario([
      { strategy: 'none' },
      { strategy: 'session', store: 'memory', instances: 2, balancer: ['none', 'haproxy'], balance: ['roundrobin', 'sticky'] },
    ])
    const { cells } = expandPlan(s, 'f.json')
    assert.deepEqual(
      cells.map((c) => [c.id, c.balancer ?? null, c.balance ?? null]),
      [
        ['none', null, null],
        ['session-memory-x2', null, null],
        ['session-memory-x2-haproxy-roundrobin', 'haproxy', 'roundrobin'],
        ['session-memory-x2-haproxy-sticky', 'haproxy', 'sticky'],
      ],
    )
    // A store each process keeps: half the requests of two instances miss, unless the balancer keeps each client on its issuer.
    assert.deepEqual(
      cells.slice(1).map((c) => expected401Share(c)),
      [0.5, 0.5, 0],
    )
  })

  test('a balance without a balancer that fronts the instances is refused, naming the one that does', () => {
    const s = scenario([{ strategy: 'none', balance: 'sticky' }])
    assert.throws(
      () => expandPlan(s, 'f.json'),
      (err: unknown) =>
        err instanceof ScenarioError &&
        err.code === 'ERR_SCENARIO_INVALID' &&
        err.issues.some((i) => i.path === 'cells[0].balance' && i.message === 'applies with balancer "haproxy" only'),
    )
  })
})

describe('topologies', () => {
  const hosts = ['app1', 'app2', 'lb', 'store', 'load1'].map((name, i) => ({ name, address: `198.18.3.${10 + i}` }))

  test('the CPUs the servers share: the machine on loopback and in namespaces, a core per instance remotely', () => {
    assert.deepEqual([topologies.loopback.serverCpus(2), topologies.netns.serverCpus(2), topologies.remote.serverCpus(2)], [2, 2, null])
  })

  test('each describes where the processes were from its record', () => {
    assert.equal(topologies.loopback.describe([]), 'with every process on loopback')
    assert.equal(
      topologies.netns.describe(hosts),
      'with each instance, the balancer, the store, each load driver on a network namespace of its own (5 hosts)',
    )
    assert.equal(topologies.netns.describe(hosts.slice(0, 2)), 'with each instance on a network namespace of its own (2 hosts)')
    // A cluster's masters, a host each: store, store2, store3 (not a load driver's `loadN`, nor an instance's).
    const cluster = [...hosts, { name: 'store2', address: '198.18.3.20' }, { name: 'store3', address: '198.18.3.21' }]
    assert.equal(
      topologies.netns.describe(cluster),
      'with each instance, the balancer, the store (3 hosts), each load driver on a network namespace of its own (7 hosts)',
    )
    assert.equal(
      topologies.remote.describe(hosts.slice(0, 3)),
      'on a fleet authbench did not start (3 instances, read through their metrics)',
    )
  })

  test('only a topology that places the processes the harness starts is refused in remote mode', () => {
    assert.deepEqual(
      Object.values(topologies)
        .filter((t) => t.placesProcesses)
        .map((t) => t.kind),
      ['netns'],
    )
  })
})
