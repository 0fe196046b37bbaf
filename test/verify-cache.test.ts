import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import Fastify from 'fastify'
import { parseServerArgs } from '../servers/cli-config.ts'
import { ISSUER, AUDIENCE, type JwtEngine } from '../servers/engines/engine.ts'
import { engines } from '../servers/engines/index.ts'
import { loadKeys } from '../servers/keys.ts'
import { login, opsOf, testServer } from './helpers.ts'

const CACHED_ENGINES = ['fast-jwt', 'fastify-jwt'] as const

/** An engine on the real clock (fast-jwt's cache only lives on a verifier built once), registered on an app when it is a plugin. */
async function engineOf(t: TestContext, engine: (typeof CACHED_ENGINES)[number], verifyCache: number): Promise<JwtEngine> {
  const made = await engines[engine]({ keys: loadKeys('ES256'), clock: Date.now, systemClock: true, keyForm: 'keyobject', verifyCache })
  if (made.register) {
    const app = Fastify({ logger: false })
    t.after(() => app.close())
    made.register(app)
    await app.ready()
  }
  return made
}

const claims = () => {
  const now = Math.floor(Date.now() / 1000)
  return { iss: ISSUER, aud: AUDIENCE, sub: '1', name: 'user1', jti: 'cache-jti', iat: now, exp: now + 600 }
}

for (const engine of CACHED_ENGINES) {
  describe(`${engine} verify cache`, () => {
    test('a token verified again comes from the cache: the very claims object, nothing decoded or checked again', async (t) => {
      for (const verifyCache of [0, 1000]) {
        const e = await engineOf(t, engine, verifyCache)
        const token = await e.sign(claims(), 'at+jwt')
        const first = await e.verify(token, 'at+jwt')
        const second = await e.verify(token, 'at+jwt')
        assert.deepEqual(second, first)
        assert.equal(second === first, verifyCache > 0, `verifyCache ${verifyCache}`)
      }
    })

    test('the cache is keyed by the whole token and per token type: a changed signature or the other type still fails', async (t) => {
      const e = await engineOf(t, engine, 1000)
      const token = await e.sign(claims(), 'at+jwt')
      await e.verify(token, 'at+jwt')
      const [input, signature] = [token.slice(0, token.lastIndexOf('.')), token.slice(token.lastIndexOf('.') + 1)]
      const flipped = `${input}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`
      await assert.rejects(e.verify(flipped, 'at+jwt'))
      await assert.rejects(e.verify(token, 'rt+jwt'))
      assert.equal((await e.verify(token, 'at+jwt')).jti, 'cache-jti')
    })

    test('a denylisted access token is refused with the cache on: the denylist read runs after the cached verify', async (t) => {
      const statuses: Record<number, number[]> = {}
      for (const verifyCache of [0, 1000]) {
        const server = await testServer(t, { strategy: 'jwt', engine, revocation: 'denylist', verifyCache })
        const cred = await login(server)
        const me = () => opsOf(server, () => server.app.inject({ url: '/me', headers: cred.headers }))
        const before = [await me(), await me()]
        const logout = await server.app.inject({
          method: 'POST',
          url: '/logout',
          headers: cred.headers,
          payload: { refresh_token: cred.refreshToken },
        })
        const after = await me()
        statuses[verifyCache] = [...before.map((r) => r.result.statusCode), logout.statusCode, after.result.statusCode]
        // One denylist read per /me, cached verify or not.
        assert.deepEqual(
          [...before, after].map((r) => r.reads),
          [1, 1, 1],
          `verifyCache ${verifyCache}`,
        )
      }
      assert.deepEqual(statuses, { 0: [200, 200, 204, 401], 1000: [200, 200, 204, 401] })
    })

    test('without a denylist a logged-out access token passes until it expires, cached or not; a reused refresh token is refused', async (t) => {
      const statuses: Record<number, number[]> = {}
      for (const verifyCache of [0, 1000]) {
        const server = await testServer(t, { strategy: 'jwt', engine, verifyCache })
        const cred = await login(server)
        const me = async () => (await server.app.inject({ url: '/me', headers: cred.headers })).statusCode
        const refresh = async () =>
          (await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: cred.refreshToken } })).statusCode
        const seen = [await me(), await refresh(), await refresh()]
        const logout = await server.app.inject({ method: 'POST', url: '/logout', headers: cred.headers })
        statuses[verifyCache] = [...seen, logout.statusCode, await me()]
      }
      assert.deepEqual(statuses, { 0: [200, 200, 400, 204, 200], 1000: [200, 200, 400, 204, 200] })
    })
  })
}

describe('--verify-cache', () => {
  const parse = (...args: string[]) => parseServerArgs(['--strategy', 'jwt', ...args], {})
  test('a number of entries (default 0, off) for engines fast-jwt and fastify-jwt only', () => {
    assert.equal(parse('--engine', 'fast-jwt').verifyCache, 0)
    assert.equal(parse('--engine', 'fast-jwt', '--verify-cache', '1000').verifyCache, 1000)
    assert.equal(parse('--engine', 'fastify-jwt', '--verify-cache', '1').verifyCache, 1)
    assert.throws(() => parse('--engine', 'jose', '--verify-cache', '1000'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--verify-cache applies to --engine fast-jwt, fastify-jwt only; got --engine jose',
    })
    assert.throws(() => parse('--engine', 'fast-jwt', '--verify-cache', '1.5'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--verify-cache must be an integer from 0 to 1000000; got "1.5"',
    })
    assert.throws(() => parseServerArgs(['--strategy', 'session', '--verify-cache', '10'], {}), {
      code: 'ERR_SERVER_CONFIG',
      message: '--verify-cache applies to --strategy jwt only',
    })
  })
})
