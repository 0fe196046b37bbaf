import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Server } from '../servers/server.ts'
import type { StoreKind } from '../servers/types.ts'
import { login, manualClock, testServer } from './helpers.ts'

const CYCLES = 100
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))
const PURGE_MS = 10
/**
 * Resolves after `n` ticks of a PURGE_MS interval started now. Timers of one interval fire in the
 * order they were set, so the server's purge timer (set earlier) has run before each tick, at
 * least `n` times, however late a loaded machine runs the loop: a count, where a fixed sleep
 * could end before any purge ran.
 */
const purgeTicks = (n: number) =>
  new Promise<void>((resolve) => {
    let seen = 0
    const timer = setInterval(() => {
      if (++seen < n) return
      clearInterval(timer)
      resolve()
    }, PURGE_MS)
  })

/** Logs in CYCLES users; JWTs refresh twice; every even one logs out (revoking its family, denying its token). */
async function cycles(server: Server): Promise<void> {
  for (let i = 0; i < CYCLES; i++) {
    const user = `user${1 + (i % 10)}`
    const cred = await login(server, user)
    let headers = cred.headers
    let refresh = cred.refreshToken
    for (let r = 0; refresh && r < 2; r++) {
      const res = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: refresh } })
      assert.equal(res.statusCode, 200)
      const pair = res.json() as { access_token: string; refresh_token: string }
      refresh = pair.refresh_token
      headers = { authorization: `Bearer ${pair.access_token}` }
    }
    assert.equal((await server.app.inject({ url: '/me', headers })).statusCode, 200)
    if (i % 2 === 0) {
      const out = await server.app.inject({ method: 'POST', url: '/logout', headers, payload: refresh ? { refresh_token: refresh } : {} })
      assert.equal(out.statusCode, 204)
    }
  }
}

// Half the users logged out: 50 live sessions, or 50 live families of 3 tokens each and 50 denied access tokens.
const live = {
  session: { sessions: CYCLES / 2, refreshTokens: 0, denied: 0 },
  jwt: { sessions: 0, refreshTokens: (CYCLES / 2) * 3, denied: CYCLES / 2 },
}
const empty = { sessions: 0, refreshTokens: 0, denied: 0 }

describe('soak: after many login/refresh/logout cycles with short TTLs, the stores hold only live state', () => {
  for (const store of ['sqlite', 'memory'] as StoreKind[]) {
    for (const strategy of ['session', 'jwt'] as const) {
      test(`${strategy} on ${store}: expired state is purged by the server's timer`, async (t) => {
        const clock = manualClock()
        const server = await testServer(
          t,
          {
            strategy,
            store,
            revocation: strategy === 'jwt' ? 'denylist' : 'none',
            accessTtlSeconds: 60,
            refreshTtlSeconds: 120,
            sessionIdleTtlSeconds: 60,
            sessionAbsoluteTtlSeconds: 120,
          },
          { clock, purgeIntervalMs: PURGE_MS },
        )
        await cycles(server)
        // Purged twice at least, and the live state is all still there.
        await purgeTicks(2)
        assert.deepEqual(await server.store!.size(clock()), live[strategy])
        clock.advance(121_000)
        await purgeTicks(2)
        assert.deepEqual(await server.store!.size(clock()), empty)
      })
    }
  }

  for (const strategy of ['session', 'jwt'] as const) {
    test(`${strategy} on redis: every key carries its TTL and Redis expires it`, { timeout: 20_000 }, async (t) => {
      const server = await testServer(t, {
        strategy,
        store: 'redis',
        revocation: strategy === 'jwt' ? 'denylist' : 'none',
        // iat and exp are whole seconds: a 1 s token issued late in a second could expire at once.
        accessTtlSeconds: 2,
        refreshTtlSeconds: 3,
        sessionIdleTtlSeconds: 3,
        sessionAbsoluteTtlSeconds: 3,
      })
      await cycles(server)
      const now = await server.store!.size(Date.now())
      // The first cycles' short-lived keys may already be gone: at most the live state, never more.
      for (const k of ['sessions', 'refreshTokens', 'denied'] as const) assert.ok(now[k] <= live[strategy][k], `${k}: ${now[k]}`)
      // The last cycle (an odd one: no logout) was written a moment ago: its session, or its family of 3.
      const last = strategy === 'session' ? { sessions: 1, refreshTokens: 0 } : { sessions: 0, refreshTokens: 3 }
      assert.ok(now.sessions >= last.sessions && now.refreshTokens >= last.refreshTokens, JSON.stringify(now))
      await settle(3300)
      assert.deepEqual(await server.store!.size(Date.now()), empty)
    })
  }
})
