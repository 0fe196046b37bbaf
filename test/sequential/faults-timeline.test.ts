import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { recoveryOf } from '../../bench/recovery.ts'
import { startRedis } from '../../bench/stores/redis-server.ts'
import { processesTagged, runBench, runTag } from '../helpers.ts'
import type { ResultsFile, TimelinePoint } from '../../bench/contracts/results.ts'
import { validateScenario } from '../../bench/contracts/scenario.ts'

const bucket = (tMs: number, over: Partial<TimelinePoint> = {}): TimelinePoint => ({
  tMs,
  requests: 40,
  ok: 40,
  status401: 0,
  status503: 0,
  status502: 0,
  status5xx: 0,
  errors: 0,
  latencyUsP50: 1000,
  latencyUsP99: 4000,
  latencyUsMax: 6000,
  logins: 0,
  forcedLogins: 0,
  ...over,
})

describe('fault timelines', () => {
  test('recovery read off a timeline: each fault an episode, its failures, when the users were back, the forced logins', () => {
    // 5 s in 100 ms buckets: 503s from 1.0 to 1.4 s (a pause 1.0-1.5 s), a slow bucket at 1.5 s; 401s and
    // forced logins from 3.0 to 3.2 s (a restart at 3.0 s), a slow bucket at 3.3 s.
    const timeline = Array.from({ length: 50 }, (_, i) => {
      const t = i * 100
      if (t >= 1000 && t < 1500)
        return bucket(t, { ok: 0, status503: 40, latencyUsP99: 500_000, latencyUsMax: t === 1200 ? 503_500 : 501_000 })
      if (t === 1500) return bucket(t, { latencyUsP99: 400_000 })
      if (t >= 3000 && t < 3300) return bucket(t, { ok: 10, status401: 30, logins: 30, forcedLogins: 30 })
      if (t === 3300) return bucket(t, { latencyUsP99: 30_000 })
      return bucket(t)
    })
    const r = recoveryOf(
      timeline,
      [
        { atSeconds: 1, action: 'pause-store', durationSeconds: 0.5 },
        { atSeconds: 3, action: 'restart-store' },
      ],
      90,
    )
    assert.deepEqual(r.episodes, [
      {
        action: 'pause-store',
        faultAtMs: 1000,
        storeBackAtMs: 1500,
        firstErrorMs: 1000,
        lastErrorMs: 1400,
        recoveredAtMs: 1600,
        recoveryMs: 100,
        forcedLogins: 0,
        loginStormPeakPerSecond: 0,
        during: { requests: 200, ok: 0, status401: 0, status502: 0, status503: 200, status5xx: 0, errors: 0 },
        after: { requests: 600, ok: 600, status401: 0, status502: 0, status503: 0, status5xx: 0, errors: 0 },
        routedAwayMs: null,
        // The slowest GET while the store was paused: the servers gave up on it after their timeout.
        slowestDuringMs: 503.5,
      },
      {
        action: 'restart-store',
        faultAtMs: 3000,
        storeBackAtMs: 3000,
        firstErrorMs: 3000,
        lastErrorMs: 3200,
        recoveredAtMs: 3400,
        recoveryMs: 400,
        forcedLogins: 90,
        loginStormPeakPerSecond: 300,
        during: { requests: 0, ok: 0, status401: 0, status502: 0, status503: 0, status5xx: 0, errors: 0 },
        after: { requests: 800, ok: 710, status401: 90, status502: 0, status503: 0, status5xx: 0, errors: 0 },
        routedAwayMs: null,
        // An instant fault has no time during it.
        slowestDuringMs: null,
      },
    ])
    assert.deepEqual([r.firstErrorMs, r.lastErrorMs, r.recoveredAtMs, r.sessionsLost], [1000, 3200, 3400, 90])
    // A timeline written before the slowest GET was recorded has none to give.
    const older = timeline.map(({ latencyUsMax: _, ...b }) => b)
    assert.equal(recoveryOf(older, [{ atSeconds: 1, action: 'pause-store', durationSeconds: 0.5 }], 0).episodes[0]!.slowestDuringMs, null)
    // Killed with no end: the store never comes back in the window, so nobody recovers.
    const killed = recoveryOf(timeline, [{ atSeconds: 3, action: 'kill-store' }], 0)
    assert.deepEqual([killed.episodes[0]!.storeBackAtMs, killed.recoveredAtMs], [null, null])
  })

  test('refused with the field named: a fault past the window, a pause with no length, an instant flush with one, faults outside the lifecycle', () => {
    const base = {
      name: 'f',
      description: 'd',
      cells: [{ strategy: 'session', store: 'redis' }],
      workload: { route: 'lifecycle', users: 10, requestsPerUserPerSecond: 1, durationSeconds: 5, logoutsPerSecond: 0 },
    }
    const issues = (faults: unknown[], over: Record<string, unknown> = {}) => {
      try {
        validateScenario({ ...base, faults, ...over }, 'f.json')
        return []
      } catch (err) {
        return (err as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`)
      }
    }
    assert.match(
      issues([{ atSeconds: 4, action: 'pause-store', durationSeconds: 2 }])[0]!,
      /^faults\[0\]\.atSeconds: the fault ends at 6 s, not before the window's end \(5 s\)/,
    )
    assert.match(issues([{ atSeconds: 1, action: 'pause-store' }])[0]!, /^faults\[0\]\.durationSeconds: pause-store needs durationSeconds/)
    assert.match(
      issues([{ atSeconds: 1, action: 'flush-store', durationSeconds: 1 }])[0]!,
      /^faults\[0\]\.durationSeconds: flush-store is instant/,
    )
    assert.match(issues([{ atSeconds: -1, action: 'flush-store' }])[0]!, /^faults\[0\]\.atSeconds: /)
    assert.match(issues([{ atSeconds: 1, action: 'unplug' }])[0]!, /^faults\[0\]\.action: /)
    assert.match(
      issues([{ atSeconds: 1, action: 'flush-store' }], { workload: { route: 'GET /me' } })[0]!,
      /^faults: faults need workload route "lifecycle"/,
    )
    assert.deepEqual(issues([{ atSeconds: 1, action: 'flush-store' }]), [])
  })

  test(
    'a real redis-server paused for 1 s and restarted under load: 503s then recovery within a second, every session lost, no ' +
      'other 5xx, nothing left running',
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'authbench-faults-'))
      t.after(() => rmSync(dir, { recursive: true, force: true }))
      const file = join(dir, 'faults.json')
      writeFileSync(
        file,
        JSON.stringify({
          name: 'faults-test',
          description: 'pause and restart',
          cells: [
            { strategy: 'session', store: 'redis' },
            { strategy: 'jwt', engine: 'fast-jwt', store: 'redis', accessTtlSeconds: 3 },
          ],
          workload: { route: 'lifecycle', users: 30, requestsPerUserPerSecond: 4, durationSeconds: 6, logoutsPerSecond: 0 },
          faults: [
            { atSeconds: 1, action: 'pause-store', durationSeconds: 1 },
            { atSeconds: 3.5, action: 'restart-store' },
          ],
          load: { rounds: 1 },
        }),
      )
      const tag = runTag()
      const res = await runBench([file, '--out', join(dir, 'out'), '--no-pin'], tag)
      assert.equal(res.code, 0, res.stderr + res.stdout)
      assert.deepEqual(processesTagged(tag), [])
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as ResultsFile
      const session = results.cells.find((c) => c.id === 'session-redis')!
      const [pause, restart] = session.recovery!.episodes
      // Paused: the servers fail closed (503 after their 0.5 s command timeout), and are back once Redis resumes.
      assert.equal(pause!.firstErrorMs, 1000)
      assert.ok(
        pause!.recoveryMs !== null && pause!.recoveryMs <= 1000,
        `recovered ${pause!.recoveryMs} ms after the ` +
          `resume: ${JSON.stringify(pause)} ${JSON.stringify(session.timeline!.slice(10, 35).map((b) => [b.tMs, b.status503, b.status401, b.latencyUsP99]))}`,
      )
      assert.ok(
        session.timeline!.slice(10, 15).every((b) => b.status503 > 0),
        JSON.stringify(session.timeline!.slice(10, 15)),
      )
      // Restarted empty: every user's session is gone, each logs in again.
      assert.equal(session.recovery!.sessionsLost, 30)
      assert.ok(restart!.firstErrorMs !== null && restart!.firstErrorMs >= 3500, `${restart!.firstErrorMs}`)
      assert.ok(restart!.recoveredAtMs !== null, 'the sessions were recovered within the window')
      for (const c of results.cells)
        assert.equal(
          c.timeline!.reduce((n, b) => n + b.status5xx, 0),
          0,
          `${c.id}: no 5xx but 503`,
        )
      // A plain JWT's GETs never touch Redis: none was answered 503 (a token that expired while its
      // refresh could not reach Redis draws a 401), and users whose refresh state was lost log in again.
      const jwt = results.cells.find((c) => c.id === 'jwt-HS256-fast-jwt-redis-ttl3s')!
      assert.equal(
        jwt.timeline!.reduce((n, b) => n + b.status503, 0),
        0,
      )
      assert.ok(jwt.recovery!.sessionsLost > 0, 'users whose refresh token was lost log in again')
      const html = readFileSync(join(dir, 'out', 'index.html'), 'utf8')
      assert.match(html, /<h2>Faults<\/h2>/)
    },
  )

  test('a Redis given with --redis-url is never faulted: its cells are skipped with the reason', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'authbench-faults-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const redis = await startRedis()
    t.after(() => redis.stop())
    const file = join(dir, 'faults.json')
    writeFileSync(
      file,
      JSON.stringify({
        name: 'faults-given',
        description: 'a given Redis',
        cells: [{ strategy: 'session', store: ['redis', 'sqlite'] }],
        workload: { route: 'lifecycle', users: 10, requestsPerUserPerSecond: 2, durationSeconds: 3, logoutsPerSecond: 0 },
        faults: [{ atSeconds: 1, action: 'flush-store' }],
        load: { rounds: 1 },
      }),
    )
    const res = await runBench([file, '--out', join(dir, 'out'), '--no-pin', '--redis-url', redis.url])
    assert.equal(res.code, 0, res.stderr)
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as ResultsFile
    const given = results.cells.find((c) => c.id === 'session-redis')!
    assert.equal(given.status, 'skipped')
    assert.match(given.reason!, /faults act only on the private redis-server the harness starts/)
    assert.equal(results.cells.find((c) => c.id === 'session-sqlite')!.status, 'ok')
  })
})
