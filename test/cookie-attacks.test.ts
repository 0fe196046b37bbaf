import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { TOUCH_INTERVAL_MS } from '../servers/strategies/session.ts'
import { login, manualClock, opsOf, testServer } from './helpers.ts'

const sealedOf = (setCookie: unknown) => /^session=([^;]+)/.exec(String(setCookie))?.[1]
const me = (server: Awaited<ReturnType<typeof testServer>>, sealed: string) =>
  server.app.inject({ url: '/me', headers: { cookie: `session=${sealed}` } })

describe('sealed-cookie sessions (cookie strategy)', () => {
  test('identifies with no store operation at all; the profile reads only the users table', async (t) => {
    const server = await testServer(t, { strategy: 'cookie' })
    const cred = await login(server, 'user4')
    const who = await opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
    assert.deepEqual(
      [who.result.statusCode, who.result.json(), who.reads, who.writes, who.deletes],
      [200, { id: 4, username: 'user4' }, 0, 0, 0],
    )
    assert.equal(who.result.headers['set-cookie'], undefined)
    const profile = await opsOf(server, () => server.app.inject({ url: '/profile', headers: cred.headers }))
    assert.deepEqual([profile.result.statusCode, profile.reads, profile.writes], [200, 1, 0])
  })

  test('tampered, truncated, swapped, foreign-key, garbage and oversized cookies: 401, never 5xx', async (t) => {
    const server = await testServer(t, { strategy: 'cookie' })
    const other = await testServer(t, { strategy: 'cookie', cookieKey: randomBytes(32).toString('hex') })
    const { sealed } = await login(server)
    const foreign = (await login(other)).sealed!
    const raw = decodeURIComponent(sealed!)
    const [cipher, nonce] = raw.split(';') as [string, string]
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64')
      bytes[at] = bytes[at]! ^ 1
      return bytes.toString('base64')
    }
    const cases: Record<string, string> = {
      'one bit of the ciphertext': encodeURIComponent(`${flip(cipher, 20)};${nonce}`),
      'one bit of the MAC': encodeURIComponent(`${flip(cipher, 0)};${nonce}`),
      'one bit of the nonce': encodeURIComponent(`${cipher};${flip(nonce, 3)}`),
      truncated: sealed!.slice(0, sealed!.length - 10),
      'no nonce': encodeURIComponent(cipher),
      'ciphertext and nonce swapped': encodeURIComponent(`${nonce};${cipher}`),
      'sealed by another key': foreign,
      empty: '',
      garbage: '%%%;;;%E0%A4%A',
      'plain JSON': encodeURIComponent('{"uid":1,"name":"user1","c":0,"s":0}'),
      'oversized (12 KiB)': 'A'.repeat(12 * 1024),
      'oversized, shaped like a sealed cookie': encodeURIComponent(`${'A'.repeat(12_000)};${nonce}`),
    }
    for (const [name, value] of Object.entries(cases)) {
      const res = await opsOf(server, () => me(server, value))
      assert.deepEqual([res.result.statusCode, res.reads], [401, 0], name)
    }
    assert.equal((await me(server, sealed!)).statusCode, 200)
  })

  test('idle and absolute expiry are checked server-side; the cookie is re-sealed at most once a minute', async (t) => {
    const clock = manualClock()
    const server = await testServer(t, { strategy: 'cookie', sessionIdleTtlSeconds: 300, sessionAbsoluteTtlSeconds: 900 }, { clock })
    let { sealed } = await login(server)
    clock.advance(TOUCH_INTERVAL_MS - 1)
    const early = await me(server, sealed!)
    assert.deepEqual([early.statusCode, early.headers['set-cookie']], [200, undefined])
    clock.advance(1)
    const renewed = await me(server, sealed!)
    assert.equal(renewed.statusCode, 200)
    assert.match(String(renewed.headers['set-cookie']), /^session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    const old = sealed!
    sealed = sealedOf(renewed.headers['set-cookie'])
    assert.notEqual(sealed, old)
    // The old copy still carries the old idle deadline: 300 s after its own last-seen time it is refused.
    clock.advance(300_000 - TOUCH_INTERVAL_MS)
    assert.equal((await me(server, old)).statusCode, 401)
    const kept = await me(server, sealed!)
    assert.equal(kept.statusCode, 200)
    sealed = sealedOf(kept.headers['set-cookie'])
    // Kept alive every four minutes, it still ends at the absolute deadline (900 s after login).
    for (const at of [540, 780]) {
      clock.advance(240_000)
      const res = await me(server, sealed!)
      assert.equal(res.statusCode, 200, `at ${at} s`)
      sealed = sealedOf(res.headers['set-cookie'])
    }
    clock.advance(119_999)
    assert.equal((await me(server, sealed!)).statusCode, 200)
    clock.advance(1)
    assert.equal((await me(server, sealed!)).statusCode, 401)
  })

  test('logout clears the browser copy but cannot revoke a stolen one', async (t) => {
    const server = await testServer(t, { strategy: 'cookie' })
    const cred = await login(server)
    const out = await opsOf(server, () => server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers }))
    assert.deepEqual([out.result.statusCode, out.writes, out.deletes], [204, 0, 0])
    assert.equal((await me(server, cred.sealed!)).statusCode, 200)
    assert.equal((await server.app.inject({ method: 'POST', url: '/logout' })).statusCode, 401)
  })

  test('a login replaces whatever cookie was presented', async (t) => {
    const server = await testServer(t, { strategy: 'cookie' })
    const attacker = await login(server, 'user1')
    const res = await server.app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: 'user2', password: 'pw-user2' },
      headers: attacker.headers,
    })
    assert.equal(res.statusCode, 204)
    const fresh = sealedOf(res.headers['set-cookie'])!
    assert.notEqual(fresh, attacker.sealed)
    assert.deepEqual((await me(server, fresh)).json(), { id: 2, username: 'user2' })
  })
})
