import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { benchLeavingNothing, scenarioIssues } from '../helpers.ts'

const USERS = 30

describe('kill-instance: one app instance SIGKILLed behind HAProxy, started again after the duration', () => {
  test('refused with the field named: one instance, no balancer, no duration', () => {
    const base = {
      name: 'k',
      description: 'd',
      cells: [{ strategy: 'session', store: 'redis', instances: 2, balancer: 'haproxy' }],
      workload: { route: 'lifecycle', users: 10, requestsPerUserPerSecond: 1, durationSeconds: 5, logoutsPerSecond: 0 },
      faults: [{ atSeconds: 1, action: 'kill-instance', durationSeconds: 1 }],
    }
    const issues = (over: Record<string, unknown>) => scenarioIssues(base, over)
    assert.deepEqual(issues({}), [])
    assert.match(
      issues({ cells: [{ strategy: 'session', store: 'redis', instances: [1, 2], balancer: 'haproxy' }] })[0]!,
      /^cells\[0\]\.instances: kill-instance needs at least 2 instances/,
    )
    assert.match(
      issues({ cells: [{ strategy: 'jwt', instances: 2 }] })[0]!,
      /^cells\[0\]\.balancer: kill-instance needs a balancer whose health checks stop sending to the killed instance/,
    )
    assert.match(
      issues({ faults: [{ atSeconds: 1, action: 'kill-instance' }] })[0]!,
      /^faults\[0\]\.durationSeconds: kill-instance needs durationSeconds/,
    )
  })

  test(
    "under load: shared Redis and JWT lose nothing, per-process memory loses the dead instance's sessions; only 200, 401, 502 " +
      'and 503 answers; HAProxy stops routing within 2 s; nothing left running',
    async (t) => {
      const { results, out } = await benchLeavingNothing(
        t,
        'kill',
        {
          name: 'kill-instance-test',
          description: 'one instance killed',
          cells: [
            { strategy: 'session', store: 'redis', instances: 2, balancer: 'haproxy' },
            { strategy: 'session', store: 'memory', instances: 2, balancer: 'haproxy', balance: 'sticky' },
            { strategy: 'jwt', engine: 'fast-jwt', instances: 2, balancer: 'haproxy', accessTtlSeconds: 3 },
          ],
          workload: { route: 'lifecycle', users: USERS, requestsPerUserPerSecond: 4, durationSeconds: 5, logoutsPerSecond: 0 },
          faults: [{ atSeconds: 1, action: 'kill-instance', durationSeconds: 1.5 }],
          load: { rounds: 1 },
        },
        ['--no-pin'],
      )
      const cell = (id: string) => results.cells.find((c) => c.id === id)!
      const cells = [
        cell('session-redis-x2-haproxy-roundrobin'),
        cell('session-memory-x2-haproxy-sticky'),
        cell('jwt-HS256-fast-jwt-sqlite-ttl3s-x2-haproxy-roundrobin'),
      ]
      for (const c of cells) {
        const [e] = c.recovery!.episodes
        const seen = JSON.stringify(e)
        assert.equal(c.status, 'ok', `${c.id}: ${c.reason}`)
        assert.equal(e!.action, 'kill-instance')
        assert.deepEqual([e!.faultAtMs, e!.storeBackAtMs], [1000, 2500])
        // HAProxy's checks (every 500 ms, out after 2 failures) take the dead instance out within 2 s of the kill.
        assert.ok(e!.routedAwayMs !== null && e!.routedAwayMs > 0 && e!.routedAwayMs <= 2000, seen)
        // Every answer a 200, a 401 or a balancer's 502/503: no other 5xx, before, during or after the fault.
        assert.equal(
          c.timeline!.reduce((n, b) => n + b.status5xx, 0),
          0,
          `${c.id}: 5xx other than 502/503`,
        )
        for (const b of c.timeline!)
          assert.equal(b.ok + b.status401 + b.status502 + b.status503 + b.status5xx + b.errors, b.requests, JSON.stringify(b))
        // A request the dead instance was answering gets no answer: at most what was in flight at the kill (120 GETs/s).
        assert.ok(e!.during.errors <= 5, seen)
        assert.ok(e!.recoveredAtMs !== null, `${c.id} recovered within the window: ${seen}`)
        // Once the instance is back, nothing fails for want of an instance.
        const a = e!.after!
        assert.deepEqual([a.status502, a.status503, a.status5xx, a.errors], [0, 0, 0, 0], seen)
      }
      const [redis, memory, jwt] = cells
      // A shared store: the other instance knows every session; nobody logs in again, no GET is refused.
      assert.equal(redis!.recovery!.sessionsLost, 0)
      assert.equal(
        redis!.timeline!.reduce((n, b) => n + b.status401, 0),
        0,
      )
      assert.equal(redis!.recovery!.episodes[0]!.after!.ok, redis!.recovery!.episodes[0]!.after!.requests)
      // A JWT: any instance verifies it; nobody logs in again. (A 3 s token that expires while its refresh is in flight draws a
      // 401 and is refreshed, fault or not: that is no lost state.)
      assert.deepEqual([jwt!.recovery!.sessionsLost, jwt!.recovery!.episodes[0]!.forcedLogins], [0, 0])
      // Per-process memory: the sessions the dead instance held are gone; their users get a 401 on the other and log in again.
      const lost = memory!.recovery!.sessionsLost
      assert.ok(lost > 0 && lost < USERS, `${lost} of ${USERS} sessions lost`)
      assert.ok(memory!.recovery!.episodes[0]!.during.status401 >= lost, JSON.stringify(memory!.recovery))
      const html = readFileSync(join(out, 'index.html'), 'utf8')
      assert.ok(html.includes('<td>kill-instance at 1.0 s until 2.5 s</td>'), 'the faults table names the fault')
    },
  )
})
