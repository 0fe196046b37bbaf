// The balancer's floor against a known answer: HAProxy before a server that answers at once, its request count checked
// against HAProxy's own, and the interpolation the report reads a cell's rate with.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RunEvent } from '../../bench/contracts/events.ts'
import { measureBalancerFloor } from '../../bench/fleet/balancer-floor.ts'
import { floorAt } from '../../bench/report/fleet.ts'
import { ProcessGroup } from '../../bench/processes.ts'

test("HAProxy's floor: every answered request counted by HAProxy's own frontend, its CPU per request and busy share measured", async (t) => {
  const group = new ProcessGroup()
  t.after(() => group.stopAll())
  const events: RunEvent[] = []
  const points = await measureBalancerFloor({
    group,
    balancerCpus: null,
    serverCpus: null,
    durationSeconds: 0.5,
    smoke: true,
    signal: new AbortController().signal,
    emit: (e) => events.push(e),
  })
  // The ladder, stopped at the first rate the driver did not hold (a loaded machine may not hold the second).
  assert.deepEqual(
    points.map((p) => p.rate),
    [500, 2000].slice(0, points.length),
  )
  // Every point but the last held its rate: the ladder goes on only from a held one.
  assert.deepEqual(
    points.slice(0, -1).map((p) => p.held),
    points.slice(0, -1).map(() => true),
  )
  for (const p of points) {
    // The known count: HAProxy's frontend took the requests the driver got answers to, within 1% (health checks not among
    // them; the driver's own retries and unanswered requests allowed for), so CPU per request has the right denominator.
    const sent = p.completed + p.retried + p.errors
    assert.ok(Math.abs(p.balancerRequests - sent) <= 0.01 * sent + 1, `at ${p.rate}/s: HAProxy ${p.balancerRequests}, driver ${sent}`)
    assert.ok(p.cpuUsPerRequest !== null && p.cpuUsPerRequest > 0 && p.cpuUsPerRequest < 1000, String(p.cpuUsPerRequest))
    assert.ok(p.busyShare > 0 && p.busyShare < 1.05, String(p.busyShare))
  }
  assert.ok(points[0]!.completed >= 500 * 0.5 * 0.95, `${points[0]!.completed} answered at 500/s over 0.5 s`)
  assert.equal(events.filter((e) => e.type === 'balancer-floor-measured').length, points.length)
})

test('the floor at a rate: a point itself, interpolated in the log of the rate between two held points, null outside them', () => {
  const at = (rate: number, cpuUsPerRequest: number, held = true) => ({
    rate,
    achievedRate: rate,
    completed: rate,
    balancerRequests: rate,
    retried: 0,
    errors: 0,
    cpuUsPerRequest,
    busyShare: (rate * cpuUsPerRequest) / 1e6,
    held,
  })
  const points = [at(1000, 40), at(4000, 20), at(16000, 10, false)]
  assert.equal(floorAt(points, 1000), 40)
  // 2,000 is halfway from 1,000 to 4,000 in the log: halfway from 40 to 20.
  assert.equal(floorAt(points, 2000), 30)
  assert.equal(floorAt(points, 500), null)
  // 8,000 lies past the last held point.
  assert.equal(floorAt(points, 8000), null)
})
