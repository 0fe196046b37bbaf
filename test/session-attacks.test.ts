import { FASTIFY_ONLY } from '../common/kinds.ts'
import { FRAMEWORKS, STORES } from '../servers/types.ts'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { login, opsOf, testServer } from './helpers.ts'

// Every store that keeps sessions across instances (memory keeps a copy per process and is attacked in the conformance matrix).
for (const framework of FRAMEWORKS)
  for (const store of STORES.filter((s) => s !== 'memory')) {
    describe(`session credentials (${store}, ${framework})`, () => {
      test('session fixation: a presented id is never adopted, and is dropped at login', async (t) => {
        const server = await testServer(t, { strategy: 'session', store, framework })
        const victim = await login(server, 'user2')
        // The attacker plants its own valid session id in the victim's browser before the victim logs in.
        const attacker = await login(server, 'user1')
        const res = await server.app.inject({
          method: 'POST',
          url: '/login',
          payload: { username: 'user2', password: 'pw-user2' },
          headers: attacker.headers,
        })
        assert.equal(res.statusCode, 204)
        const fresh = /^sid=([^;]+)/.exec(String(res.headers['set-cookie']))![1]
        assert.notEqual(fresh, attacker.sid)
        assert.equal((await server.app.inject({ url: '/me', headers: attacker.headers })).statusCode, 401)
        const me = await server.app.inject({ url: '/me', headers: { cookie: `sid=${fresh}` } })
        assert.deepEqual(me.json(), { id: 2, username: 'user2' })
        assert.equal((await server.app.inject({ url: '/me', headers: victim.headers })).statusCode, 200)
      })

      test('forged and injection-shaped ids get 401; malformed ones never reach the store', async (t) => {
        const server = await testServer(t, { strategy: 'session', store, framework })
        await login(server)
        const wellFormed = 'A'.repeat(43)
        const forged = await opsOf(server, () => server.app.inject({ url: '/me', headers: { cookie: `sid=${wellFormed}` } }))
        assert.deepEqual([forged.result.statusCode, forged.reads], [401, 1])
        const shapes = [
          "' OR '1'='1",
          "x' UNION SELECT * FROM sessions --",
          '*',
          '%00',
          '../../etc/passwd',
          'A'.repeat(42),
          'A'.repeat(44),
          'A'.repeat(10_000),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a lookup-shaped cookie value, sent as it is on purpose
          '${jndi:ldap://127.0.0.1/a}',
          'é'.repeat(43),
          '',
        ]
        for (const sid of shapes) {
          const res = await opsOf(server, () => server.app.inject({ url: '/me', headers: { cookie: `sid=${sid}` } }))
          assert.deepEqual([res.result.statusCode, res.reads], [401, 0], sid.slice(0, 20))
        }
      })

      test('the sid cookie is found among others', async (t) => {
        const server = await testServer(t, { strategy: 'session', store, framework })
        const { sid } = await login(server)
        for (const cookie of [`a=1; sid=${sid}; b=2`, `theme=dark;sid=${sid}`, `  sid=${sid}  `]) {
          assert.equal((await server.app.inject({ url: '/me', headers: { cookie } })).statusCode, 200, cookie)
        }
        assert.equal((await server.app.inject({ url: '/me', headers: { cookie: `xsid=${sid}` } })).statusCode, 401)
      })

      test('logout deletes the session server-side; replaying the cookie gets 401', async (t) => {
        const server = await testServer(t, { strategy: 'session', store, framework })
        const cred = await login(server)
        const out = await opsOf(server, () => server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers }))
        assert.deepEqual([out.result.statusCode, out.deletes], [204, 1])
        assert.match(String(out.result.headers['set-cookie']), /^sid=; Max-Age=0; HttpOnly; Secure; SameSite=Lax; Path=\/$/)
        assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 401)
        assert.equal((await server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers })).statusCode, 401)
      })
    })
  }

// Once per strategy, not once per store: a malformed body is refused before any store is asked
// (no store operation, checked), so which store sits behind the server cannot change the answer.
describe('malformed requests never produce a 5xx, and never reach the store', () => {
  for (const framework of FRAMEWORKS)
    for (const strategy of (['none', 'session', 'jwt', 'cookie'] as const).filter(
      (s) => framework === 'fastify' || !FASTIFY_ONLY.includes(s),
    )) {
      test(`${strategy} on ${framework}: login bodies`, async (t) => {
        const server = await testServer(t, { strategy, framework })
        const cases: [string, string, number][] = [
          ['{"username": "user1", "password": ', 'application/json', 400],
          ['not json', 'application/json', 400],
          ['username=user1&password=pw-user1', 'application/x-www-form-urlencoded', 415],
          ['{"username": "user1"}', 'application/json', 400],
          ['{"username": ["user1"], "password": "pw-user1"}', 'application/json', 400],
          ['{"username": "user1", "password": "pw-user1", "admin": true}', 'application/json', 400],
          [JSON.stringify({ username: 'user1', password: 'x'.repeat(20_000) }), 'application/json', 413],
          ['null', 'application/json', 400],
          ['{"__proto__": {"x": 1}, "username": "user1", "password": "pw-user1"}', 'application/json', 400],
        ]
        for (const [payload, type, status] of cases) {
          const res = await opsOf(server, () =>
            server.app.inject({ method: 'POST', url: '/login', payload, headers: { 'content-type': type } }),
          )
          assert.deepEqual([res.result.statusCode, res.reads, res.writes, res.deletes], [status, 0, 0, 0], payload.slice(0, 40))
        }
        const get = await server.app.inject({ method: 'GET', url: '/login' })
        assert.equal(get.statusCode, 404)
      })
    }
})
