import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TOUCH_INTERVAL_MS } from '../servers/strategies/session.ts'
import { ENGINE_SUPPORT, engineRunsOn, FASTIFY_ONLY } from '../common/kinds.ts'
import {
  ALGS,
  ENGINES,
  FRAMEWORKS,
  STORES,
  type Alg,
  type EngineKind,
  type Framework,
  type KeyForm,
  type Revocation,
  type StoreKind,
  type StrategyKind,
} from '../servers/types.ts'
import { login, manualClock, opsOf, testServer } from './helpers.ts'

interface Combo {
  strategy: StrategyKind
  store: StoreKind
  alg?: Alg
  engine?: EngineKind
  keyForm?: KeyForm
  revocation?: Revocation
  framework?: Framework
  sessionCache?: { entries: number; ttlSeconds: number }
}

const combos: Combo[] = [
  { strategy: 'none', store: 'sqlite' },
  ...STORES.map((store) => ({ strategy: 'session' as const, store })),
  // The session cache on: the same answers; a hit reads nothing (below, expectedReads).
  ...(['sqlite', 'redis'] as const).map((store) => ({
    strategy: 'session' as const,
    store,
    sessionCache: { entries: 1000, ttlSeconds: 5 },
  })),
  // Every algorithm with every engine that signs it, in each key form it takes: a new JWT library is in the matrix by its name in ENGINES.
  ...ALGS.flatMap((alg) =>
    ENGINES.filter((engine) => (ENGINE_SUPPORT[engine].algs as readonly Alg[]).includes(alg)).flatMap((engine) =>
      (ENGINE_SUPPORT[engine].keyForms ?? [undefined]).map((keyForm) => ({
        strategy: 'jwt' as const,
        store: 'sqlite' as const,
        alg,
        engine,
        ...(keyForm ? { keyForm } : {}),
      })),
    ),
  ),
  { strategy: 'jwt', store: 'redis', alg: 'HS256', engine: 'jose' },
  { strategy: 'jwt', store: 'redis-cluster', alg: 'HS256', engine: 'fast-jwt' },
  { strategy: 'jwt', store: 'memory', alg: 'HS256', engine: 'fast-jwt' },
  { strategy: 'jwt', store: 'postgres', alg: 'HS256', engine: 'jose' },
  ...STORES.map((store) => ({
    strategy: 'jwt' as const,
    store,
    alg: 'ES256' as const,
    engine: 'fast-jwt' as const,
    revocation: 'denylist' as const,
  })),
  { strategy: 'jwt', store: 'sqlite', alg: 'EdDSA', engine: 'jose', revocation: 'denylist' },
  { strategy: 'cookie', store: 'sqlite' },
]

// Every row on each framework a strategy runs on: the same statuses, headers and store operations on both.
const matrix: Combo[] = FRAMEWORKS.flatMap((framework) =>
  combos
    .filter((c) => framework === 'fastify' || !FASTIFY_ONLY.includes(c.strategy))
    .filter((c) => c.engine === undefined || engineRunsOn(c.engine, framework))
    .map((c) => ({ ...c, framework })),
)

const name = (c: Combo) =>
  [
    c.strategy,
    c.store,
    c.alg,
    c.engine,
    c.keyForm,
    c.revocation,
    c.sessionCache && `scache${c.sessionCache.entries}-t${c.sessionCache.ttlSeconds}s`,
    c.framework === 'fastify' ? undefined : c.framework,
  ]
    .filter(Boolean)
    .join('/')

/**
 * docs/contracts.md, "Store operations": exact store reads per steady-state request. The test asks /me, then /profile:
 * with a session cache, /me (the first use after login) reads and fills the entry, /profile finds it.
 */
function expectedReads(c: Combo, route: '/me' | '/profile'): number {
  const auth = (c.strategy === 'session' && !(c.sessionCache && route === '/profile')) || c.revocation === 'denylist' ? 1 : 0
  return auth + (route === '/profile' ? 1 : 0)
}

for (const c of matrix) {
  describe(name(c), () => {
    test('no credential: 401 on /me and /profile (none: 200)', async (t) => {
      const server = await testServer(t, c)
      for (const url of ['/me', '/profile']) {
        const res = await server.app.inject({ url })
        assert.equal(res.statusCode, c.strategy === 'none' ? 200 : 401, url)
        if (c.strategy === 'jwt') assert.equal(res.headers['www-authenticate'], 'Bearer realm="authbench"')
      }
    })

    test('wrong password and unknown user: 401', async (t) => {
      const server = await testServer(t, c)
      for (const payload of [
        { username: 'user1', password: 'nope' },
        { username: 'nobody', password: 'pw-nobody' },
      ]) {
        const res = await server.app.inject({ method: 'POST', url: '/login', payload })
        assert.equal(res.statusCode, 401)
      }
    })

    test('login, then /me and /profile with the exact store reads and no writes', async (t) => {
      const server = await testServer(t, c)
      const loginRes = await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user3', password: 'pw-user3' } })
      if (c.strategy === 'jwt') {
        assert.equal(loginRes.statusCode, 200)
        const body = loginRes.json()
        assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
        assert.equal(body.token_type, 'Bearer')
        assert.equal(body.expires_in, 900)
      } else {
        assert.equal(loginRes.statusCode, 204)
      }
      if (c.strategy === 'session') {
        assert.match(String(loginRes.headers['set-cookie']), /^sid=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Lax; Path=\/$/)
      }
      if (c.strategy === 'cookie') {
        assert.match(String(loginRes.headers['set-cookie']), /^session=[A-Za-z0-9%_-]{100,}; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
      }
      const cred = c.strategy === 'none' ? { headers: { 'x-user-id': '3' } } : await login(server, 'user3')
      const me = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
      assert.equal(me.result.statusCode, 200)
      assert.deepEqual(me.result.json(), { id: 3, username: 'user3' })
      assert.deepEqual([me.reads, me.writes, me.deletes], [expectedReads(c, '/me'), 0, 0])
      const profile = await opsOf(server, () => server.app.inject({ url: '/profile', headers: cred.headers }))
      assert.equal(profile.result.statusCode, 200)
      assert.deepEqual(profile.result.json(), {
        id: 3,
        username: 'user3',
        displayName: 'User 3',
        email: 'user3@example.test',
        createdAt: '2026-01-01T00:00:00.000Z',
      })
      assert.deepEqual([profile.reads, profile.writes, profile.deletes], [expectedReads(c, '/profile'), 0, 0])
    })

    if (c.strategy === 'none') return

    test('logout: a session ends at once; a JWT (unless denylisted) and a copied sealed cookie keep working', async (t) => {
      const server = await testServer(t, c)
      const cred = await login(server)
      const out = await server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers })
      assert.equal(out.statusCode, 204)
      const after = await server.app.inject({ url: '/me', headers: cred.headers })
      const stillValid = (c.strategy === 'jwt' && c.revocation !== 'denylist') || c.strategy === 'cookie'
      if (c.strategy === 'cookie')
        assert.match(
          String(out.headers['set-cookie']),
          /^session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/,
        )
      assert.equal(after.statusCode, stillValid ? 200 : 401)
      if (!stillValid && c.strategy === 'jwt') assert.match(String(after.headers['www-authenticate']), /error="invalid_token"/)
    })

    test('a new credential on every login', async (t) => {
      const server = await testServer(t, c)
      const a = await login(server)
      const b = await login(server)
      assert.notDeepEqual(a.headers, b.headers)
      for (const cred of [a, b]) assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
    })

    if (c.strategy === 'session' || c.strategy === 'cookie') {
      test('refresh and JWKS do not exist for sessions', async (t) => {
        const server = await testServer(t, c)
        assert.equal((await server.app.inject({ method: 'POST', url: '/refresh', payload: {} })).statusCode, 404)
        assert.equal((await server.app.inject({ url: '/.well-known/jwks.json' })).statusCode, 404)
      })

      if (c.strategy === 'session')
        test('idle timeout, renewal at most once a minute, absolute timeout', async (t) => {
          const clock = manualClock()
          const server = await testServer(t, { ...c, sessionIdleTtlSeconds: 300, sessionAbsoluteTtlSeconds: 900 }, { clock })
          const cred = await login(server)
          clock.advance(TOUCH_INTERVAL_MS - 1)
          const early = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
          assert.deepEqual([early.result.statusCode, early.writes], [200, 0])
          clock.advance(1)
          const renew = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
          assert.deepEqual([renew.result.statusCode, renew.writes], [200, 1])
          const again = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
          assert.deepEqual([again.result.statusCode, again.writes], [200, 0])
          clock.advance(299_000)
          assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
          clock.advance(300_000)
          const idle = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
          assert.deepEqual([idle.result.statusCode, idle.deletes], [401, 1])

          const busy = await login(server)
          clock.advance(TOUCH_INTERVAL_MS)
          const burst = await opsOf(server, () =>
            Promise.all(Array.from({ length: 20 }, () => server.app.inject({ url: '/me', headers: busy.headers }))),
          )
          assert.deepEqual([burst.result.map((r) => r.statusCode), burst.writes], [Array(20).fill(200), 1])

          const fresh = await login(server)
          for (let i = 0; i < 4; i++) {
            clock.advance(240_000)
            assert.equal((await server.app.inject({ url: '/me', headers: fresh.headers })).statusCode, i < 3 ? 200 : 401, `step ${i}`)
          }
        })
      return
    }

    test('refresh rotates; reuse is invalid_grant and revokes the whole family', async (t) => {
      const server = await testServer(t, c)
      const first = await login(server)
      const r1 = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: first.refreshToken } })
      assert.equal(r1.statusCode, 200)
      const second = r1.json() as { access_token: string; refresh_token: string }
      assert.notEqual(second.refresh_token, first.refreshToken)
      assert.equal((await server.app.inject({ url: '/me', headers: { authorization: `Bearer ${second.access_token}` } })).statusCode, 200)

      const reuse = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: first.refreshToken } })
      assert.equal(reuse.statusCode, 400)
      assert.deepEqual(reuse.json(), { error: 'invalid_grant' })
      const familyGone = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: second.refresh_token } })
      assert.equal(familyGone.statusCode, 400)
      assert.deepEqual(familyGone.json(), { error: 'invalid_grant' })
    })

    test('logout with the refresh token revokes its family', async (t) => {
      const server = await testServer(t, c)
      const cred = await login(server)
      const out = await server.app.inject({
        method: 'POST',
        url: '/logout',
        headers: cred.headers,
        payload: { refresh_token: cred.refreshToken },
      })
      assert.equal(out.statusCode, 204)
      const res = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: cred.refreshToken } })
      assert.deepEqual([res.statusCode, res.json()], [400, { error: 'invalid_grant' }])
    })

    test('the access token expires after --access-ttl', async (t) => {
      const clock = manualClock()
      const server = await testServer(t, { ...c, accessTtlSeconds: 60 }, { clock })
      const cred = await login(server)
      clock.advance(59_000)
      assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
      clock.advance(1_000)
      const expired = await server.app.inject({ url: '/me', headers: cred.headers })
      assert.equal(expired.statusCode, 401)
      assert.equal(expired.headers['www-authenticate'], 'Bearer realm="authbench", error="invalid_token"')
    })

    test('JWKS: the public key with kid for asymmetric algorithms, 404 for HS256', async (t) => {
      const server = await testServer(t, c)
      const res = await server.app.inject({ url: '/.well-known/jwks.json' })
      if (c.alg === 'HS256') {
        assert.equal(res.statusCode, 404)
        return
      }
      assert.equal(res.statusCode, 200)
      const { keys } = res.json() as { keys: Record<string, unknown>[] }
      assert.equal(keys.length, 1)
      assert.equal(keys[0]!.alg, c.alg)
      assert.equal(keys[0]!.d, undefined)
      const cred = await login(server)
      const header = JSON.parse(Buffer.from(cred.accessToken!.split('.')[0]!, 'base64url').toString())
      assert.deepEqual(header, { alg: c.alg, typ: 'at+jwt', kid: keys[0]!.kid })
    })
  })
}
