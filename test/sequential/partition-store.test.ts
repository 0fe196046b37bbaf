import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { REDIS_COMMAND_TIMEOUT_MS } from '../../bench/server-defaults.ts'
import { benchLeavingNothing, netnsSkip, scenarioIssues } from '../helpers.ts'

const USERS = 30
const RATE = 4
/**
 * How much later than the servers' store timeout a GET due during the partition may be answered: the driver's own send lag and
 * the server's answer on a two-core machine shared with other work. Measured here: the slowest 503s at 509-538 ms in this
 * test's runs, 562-587 ms in a full run of scenarios/fleet-faults.ts (400 GETs/s).
 */
const SLOWEST_ABOVE_TIMEOUT_MS = 250

// CI runs as root with iproute2: there a missing namespace topology is a failure, not a skip.
const { unavailable, skip } = netnsSkip()

describe("partition-store: the store host's link down on a namespace topology, then up", () => {
  test('refused with the field named: on loopback, without a duration', () => {
    const base = {
      name: 'p',
      description: 'd',
      cells: [{ strategy: 'session', store: 'redis' }],
      workload: { route: 'lifecycle', users: 10, requestsPerUserPerSecond: 1, durationSeconds: 5, logoutsPerSecond: 0 },
      topology: 'netns',
      faults: [{ atSeconds: 1, action: 'partition-store', durationSeconds: 1 }],
    }
    const issues = (over: Record<string, unknown>) => scenarioIssues(base, over)
    assert.deepEqual(issues({}), [])
    assert.deepEqual(issues({ topology: 'loopback' }), [
      'faults[0].action: partition-store takes the store host\'s link down: it needs topology "netns" (the store on a host of ' +
        'its own); found topology "loopback"; found "partition-store"',
    ])
    assert.match(
      issues({ faults: [{ atSeconds: 1, action: 'partition-store' }] })[0]!,
      /^faults\[0\]\.durationSeconds: partition-store needs/,
    )
  })

  test('under the lifecycle: a Redis session, a denylist and a session on a Redis Cluster (its three hosts cut) fail closed ' +
    '(503 within the store timeout, no other 5xx), a JWT keeps ' +
    'answering 200 until its token expires (its refresh fails closed); all good again within 3 s of the link coming back; ' +
    'nothing left', { skip }, async (t) => {
    assert.equal(unavailable, null, String(unavailable))
    const { results, out } = await benchLeavingNothing(
      t,
      'partition',
      {
        name: 'partition-store-test',
        description: 'the store host cut off for 1.5 s',
        // 3 s tokens: a token's lifetime bounds the lifecycle's warm-up (logins spread over a refresh interval) and a plain
        // JWT's drain (a copy lasts until it expires), so the JWT cells take seconds, not minutes.
        cells: [
          { strategy: 'session', store: 'redis' },
          { strategy: 'jwt', engine: 'fast-jwt', store: 'redis', accessTtlSeconds: 3 },
          { strategy: 'jwt', engine: 'fast-jwt', store: 'redis', revocation: 'denylist', accessTtlSeconds: 3 },
          // Its three masters on three hosts, all cut at once.
          { strategy: 'session', store: 'redis-cluster' },
        ],
        workload: { route: 'lifecycle', users: USERS, requestsPerUserPerSecond: RATE, durationSeconds: 6, logoutsPerSecond: 0 },
        faults: [{ atSeconds: 1, action: 'partition-store', durationSeconds: 1.5 }],
        topology: 'netns',
        load: { rounds: 1, warmupSeconds: 1 },
      },
      ['--no-pin'],
    )
    assert.equal(results.environment.topology!.kind, 'netns')
    const cell = (id: string) => results.cells.find((c) => c.id === id)!
    const [session, jwt, denylist, cluster] = [
      'session-redis',
      'jwt-HS256-fast-jwt-redis-ttl3s',
      'jwt-HS256-fast-jwt-redis-denylist-ttl3s',
      'session-redis-cluster',
    ].map(cell)
    for (const c of [session!, jwt!, denylist!, cluster!]) {
      assert.equal(c.status, 'ok', `${c.id}: ${c.reason}`)
      const [e] = c.recovery!.episodes
      const seen = `${c.id}: ${JSON.stringify(e)}`
      assert.equal(e!.action, 'partition-store')
      assert.deepEqual([e!.faultAtMs, e!.storeBackAtMs], [1000, 2500])
      // Every GET answered: a 200, a 401 or a 503, never another 5xx and never no answer, before, during or after.
      for (const b of c.timeline!) {
        assert.deepEqual([b.status502, b.status5xx, b.errors], [0, 0, 0], `${c.id} at ${b.tMs} ms: ${JSON.stringify(b)}`)
        assert.equal(b.ok + b.status401 + b.status503, b.requests, JSON.stringify(b))
      }
      // The users keep their schedule: 1.5 s of 120 GETs/s are due while the link is down (a bucket's worth either side).
      assert.ok(Math.abs(e!.during.requests - 1.5 * USERS * RATE) <= 20, seen)
      // No request hangs past the servers' store timeout (plus the bound above).
      assert.ok(e!.slowestDuringMs !== null && e!.slowestDuringMs <= REDIS_COMMAND_TIMEOUT_MS + SLOWEST_ABOVE_TIMEOUT_MS, seen)
      // Good again within 3 s of the link coming back: no GET due later failed. TCP retransmits what the servers sent into
      // the partition at its next timer (about 1.5 s after a 1.5 s partition); a denylist's users log in again. Measured
      // here: the last failed GET 0.3-1.2 s after the link came back (session), 1.7-2.3 s (denylist).
      assert.ok(e!.lastErrorMs === null || e!.lastErrorMs + 100 <= e!.storeBackAtMs! + 3000, seen)
      // And back near its usual latency within the window (recoveryMs, measured 0.1-2.7 s: its p99 bound is a busy machine's).
      assert.ok(e!.recoveryMs !== null, seen)
      t.diagnostic(`${seen}; refreshes ${JSON.stringify(c.lifecycle!.refreshFailuresBy)}, forced logins ${c.lifecycle!.forcedLogins}`)
      // A refresh the server gave up on (503) still reached Redis once the link was back: the token had rotated, and the
      // user's retry with the old one was refused as reuse (400 invalid_grant). Every refusal is one of those; nothing else.
      const by = c.lifecycle!.refreshFailuresBy
      assert.deepEqual([by.invalidGrant - by.invalidGrantAfterUnavailable, by.errors], [0, 0], JSON.stringify(by))
      // And those are the only users who had to log in again.
      assert.equal(c.lifecycle!.forcedLogins, by.invalidGrant, JSON.stringify(c.lifecycle))
    }
    // A session is read, never rotated: nobody has to log in again.
    assert.equal(session!.recovery!.sessionsLost, 0)
    // A JWT needs no store to be checked: no GET due during the partition waited on it or got a 503; a token kept working
    // until it expired (a 401 then: its refresh, which needs the store, failed closed with a 503).
    const j = jwt!.recovery!.episodes[0]!
    const js = JSON.stringify(j)
    assert.equal(j.during.status503, 0, js)
    assert.equal(j.during.ok + j.during.status401, j.during.requests, js)
    assert.ok(j.during.ok >= 0.6 * j.during.requests, js)
    assert.ok(j.slowestDuringMs! < REDIS_COMMAND_TIMEOUT_MS, js)
    assert.ok(jwt!.lifecycle!.refreshFailuresBy.unavailable > 0, JSON.stringify(jwt!.lifecycle))
    // A session and a denylist cannot check the credential: each fails closed. A GET due in the few ms between the window's
    // clock reaching 1 s and the link going down may still be answered 200 (at most one bucket's edge: 2 GETs).
    for (const c of [session!, denylist!]) {
      const e = c.recovery!.episodes[0]!
      assert.ok(e.during.ok <= 2, `${c.id}: ${JSON.stringify(e.during)}`)
      // A 401: a denylist's 3 s token expired (checked before the denylist is asked); the rest 503.
      assert.equal(e.during.status503 + e.during.status401, e.during.requests - e.during.ok, `${c.id}: ${JSON.stringify(e.during)}`)
      assert.ok(e.during.status503 >= 0.6 * e.during.requests, `${c.id}: ${JSON.stringify(e.during)}`)
      assert.ok(e.slowestDuringMs! >= REDIS_COMMAND_TIMEOUT_MS, `${c.id}: a 503 comes only once the store timeout has passed`)
    }
    // A cluster's three hosts all cut: no master answers, so its session fails closed as on one Redis. A GET sent in the
    // cut's last half second waits and may be answered 200 once the links are back, within its store timeout.
    const c = cluster!.recovery!.episodes[0]!
    assert.equal(cluster!.recovery!.sessionsLost, 0)
    assert.ok(c.during.status503 >= 0.6 * c.during.requests, JSON.stringify(c))
    assert.equal(c.during.status401, 0, JSON.stringify(c))
    assert.ok(c.slowestDuringMs! >= REDIS_COMMAND_TIMEOUT_MS, JSON.stringify(c))
    const html = readFileSync(join(out, 'index.html'), 'utf8')
    assert.ok(html.includes('<h3>What a partition does to each strategy</h3>'), 'the faults section has the partition table')
    assert.ok(html.includes('<td>jwt-HS256-fast-jwt-redis-denylist-ttl3s</td><td>failed closed</td>'), 'the denylist failed closed')
    assert.ok(html.includes('<td>session-redis</td><td>failed closed</td>'), 'the session failed closed')
  })
})
