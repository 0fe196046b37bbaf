// The fleet's figures on known inputs: the report's bound at each instance count, and a server's
// snapshot read from a Prometheus scrape (bucket growth, each request at its bucket's bound).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as hdr from 'hdr-histogram-js'
import { fleetComparison, fleetFindings } from '../../bench/report/fleet.ts'
import { computeFindings } from '../../bench/report/findings.ts'
import { snapshotOf } from '../../bench/remote/instance.ts'
import { parsePrometheusText } from '../../bench/remote/prometheus-text.ts'
import { cell, fixtureResults, round } from '../fixtures/results.ts'

function fleetRun(kind: 'netns' | 'remote') {
  const r = fixtureResults()
  const series = 'jwt-HS256-fast-jwt-sqlite-haproxy-roundrobin'
  const spec = {
    strategy: 'jwt' as const,
    store: 'sqlite' as const,
    alg: 'HS256' as const,
    engine: 'fast-jwt' as const,
    revocation: 'none' as const,
  }
  r.cells = [
    cell(
      series,
      { ...spec, instances: 1 },
      [1, 2, 3].map((n) => round(n, 50, 18_000, 0, { balancerCpuUsPerRequest: 30 })),
    ),
    cell(
      `${series.replace('-haproxy', '-x2-haproxy')}`,
      { ...spec, instances: 2 },
      [1, 2, 3].map((n) => round(n, 55, 15_000, 0, { balancerCpuUsPerRequest: 31 })),
    ),
  ]
  r.environment.cpuAffinity = { client: '0', server: '1' }
  r.environment.topology =
    kind === 'remote'
      ? {
          kind,
          harness: null,
          hosts: [
            { name: 'instance1', address: 'http://10.0.0.1:3000' },
            { name: 'instance2', address: 'http://10.0.0.2:3000' },
          ],
          note: null,
        }
      : {
          kind,
          harness: '198.18.7.1',
          hosts: [
            { name: 'app1', address: '198.18.7.10' },
            { name: 'lb', address: '198.18.7.11' },
          ],
          note: null,
        }
  return r
}

test('the fleet bound: servers on the one CPU they shared, or (remote) a core per instance; the balancer as one thread', () => {
  const local = fleetComparison(fleetRun('netns'))!
  assert.equal(local.serverCpus, 1)
  // 1e6 / 50 µs = 20,000 req/s on one CPU whatever N; the balancer allows 1e6 / 30 = 33,333.
  assert.deepEqual(
    local.points.map((p) => [p.instances, Math.round(p.predictedRps), p.bottleneck, Math.round(p.errorPct)]),
    [
      [1, 20_000, 'servers', -10],
      [2, 20_000, 'servers', -25],
    ],
  )
  const remote = fleetComparison(fleetRun('remote'))!
  assert.equal(remote.serverCpus, null)
  // Two instances, a core each: 40,000 by the servers, so the balancer (33,333) binds.
  assert.deepEqual(
    remote.points.map((p) => [p.instances, Math.round(p.predictedRps), p.bottleneck]),
    [
      [1, 20_000, 'servers'],
      [2, 33_333, 'balancer'],
    ],
  )
})

test("the fleet question answered: capacity at each count beside its bound, the balancer's share, and shared cores said", () => {
  const run = fleetRun('netns')
  const [f, ...more] = fleetFindings(run)
  assert.equal(more.length, 0)
  assert.equal(f!.kind, 'fleet-capacity')
  assert.equal(f!.verdict, 'fact')
  assert.match(f!.sentence, /served 18,000 requests\/s with 1, 15,000 requests\/s with 2 instances \(closed loop\)/)
  assert.match(f!.sentence, /the model's bound from the one-instance cell's demands: 20,000 \(servers\), 20,000 \(servers\)\./)
  // 30 / (50 + 30) and 31 / (55 + 31): the balancer's CPU over the fleet's (servers, no store here, balancer).
  assert.match(f!.sentence, /30\.0 µs per request with 1 \(37\.5% of the fleet's CPU per request\), 31\.0 µs per request with 2 \(36\.0%/)
  assert.match(f!.sentence, /The instances shared 1 server CPU of one machine/)
  // The balancer's floor measured at the rates the cells served: read beside each figure.
  const floorPoint = (rate: number, cpuUsPerRequest: number) => ({
    rate,
    achievedRate: rate,
    completed: rate,
    retried: 0,
    errors: 0,
    balancerRequests: rate,
    cpuUsPerRequest,
    busyShare: (rate * cpuUsPerRequest) / 1e6,
    held: true,
  })
  run.balancerFloor = [floorPoint(15_000, 12), floorPoint(18_000, 10)]
  const [withFloor] = fleetFindings(run)
  assert.match(
    withFloor!.sentence,
    /with 1 \(37\.5% of the fleet's CPU per request; alone before a server that answers at once, at that rate, 10\.0 µs\)/,
  )
  assert.match(
    withFloor!.sentence,
    /with 2 \(36\.0% of the fleet's CPU per request; alone before a server that answers at once, at that rate, 12\.0 µs\)/,
  )
  // On a fleet of its own (remote), each instance a core: nothing said of shared cores.
  assert.doesNotMatch(fleetFindings(fleetRun('remote'))[0]!.sentence, /shared 1 server CPU/)
  const found = computeFindings(run)
  assert.ok(found.answer.find((a) => a.question === 'instances')!.findings.includes(f!.id))
  // An open loop serves its offered rate, not its capacity: no capacity per instance count, no bound beside it.
  const open = fleetRun('netns')
  open.scenario.load.mode = 'open'
  assert.equal(fleetComparison(open), null)
  assert.deepEqual(fleetFindings(open), [])
})

test('"not measured" knows a store on a host of its own is across a network hop', () => {
  const hop = (r: ReturnType<typeof fleetRun>) => computeFindings(r).notMeasured.some((n) => /a store across a network hop/.test(n.what))
  const run = fleetRun('netns')
  assert.equal(hop(run), true)
  run.environment.topology!.hosts.push({ name: 'store', address: '198.18.7.12' })
  assert.equal(hop(run), false)
})

test("a scrape read as a snapshot: counters summed over labels, request time from the buckets' growth since the last reset", () => {
  const scrape = (bucket: Record<string, number>, requests: number) =>
    parsePrometheusText(
      [
        `authbench_requests_total{route="/me",status="200"} ${requests - 1}`,
        'authbench_requests_total{route="/me",status="401"} 1',
        `authbench_store_operations_total{op="read",table="sessions"} ${requests}`,
        'authbench_store_operations_total{op="write",table="sessions"} 2',
        'process_cpu_seconds_total 1.5',
        'process_resident_memory_bytes 1000',
        ...Object.entries(bucket).map(([le, n]) => `authbench_request_duration_seconds_bucket{le="${le}"} ${n}`),
      ].join('\n'),
    )
  const first = snapshotOf(scrape({ '0.00005': 0, '0.0001': 5, '0.00025': 5, '+Inf': 5 }, 5), [])
  // Since the first: 10 more in (100, 250] µs and 30 more in (50, 100] µs.
  const later = snapshotOf(scrape({ '0.00005': 0, '0.0001': 35, '0.00025': 45, '+Inf': 45 }, 45), first.buckets)
  const s = later.snapshot
  assert.deepEqual([s.requests, s.reads, s.writes, s.deletes, s.cpuUs, s.rssBytes], [45, 45, 2, 0, 1_500_000, 1000])
  const h = hdr.decodeFromCompressedBase64(s.requestTimeHistogram)
  assert.equal(h.totalCount, 40)
  assert.deepEqual([s.requestTimeUs.p50, s.requestTimeUs.max], [100, 250])
  assert.equal(h.getValueAtPercentile(80), 250)
})
