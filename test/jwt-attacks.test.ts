import assert from 'node:assert/strict'
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import { describe, test, type TestContext } from 'node:test'
import { SignJWT, type JWTPayload } from 'jose'
import type { Alg, EngineKind } from '../servers/types.ts'
import { keyFor, login, manualClock, testServer } from './helpers.ts'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

async function setup(t: TestContext, alg: Alg, engine: EngineKind) {
  const key = keyFor(t, alg)
  const clock = manualClock()
  const server = await testServer(t, { strategy: 'jwt', alg, engine, jwtSecret: key.jwtSecret, keyFile: key.keyFile }, { clock })
  const privateKey = alg === 'HS256' ? null : createPrivateKey(key.pem!)
  const now = Math.floor(clock() / 1000)
  const good: JWTPayload = { iss: 'authbench', aud: 'authbench-api', sub: '1', name: 'user1', jti: 'forged-jti', iat: now, exp: now + 600 }
  /** A token signed with the server's real key, with whatever header and claims the test wants. */
  const forge = async (claims: JWTPayload, header: Record<string, unknown> = {}) => {
    const input = `${b64({ alg, typ: 'at+jwt', ...header })}.${b64(claims)}`
    const signature =
      alg === 'HS256'
        ? createHmac('sha256', key.secret!).update(input).digest()
        : sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), { key: privateKey!, dsaEncoding: 'ieee-p1363' })
    return `${input}.${signature.toString('base64url')}`
  }
  const me = (token: string) => server.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
  const expect401 = async (token: string, what: string) => {
    const res = await me(token)
    assert.equal(res.statusCode, 401, what)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="authbench", error="invalid_token"', what)
  }
  return { server, clock, key, good, forge, me, expect401 }
}

for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
  for (const engine of ['jose', 'fast-jwt'] as const) {
    describe(`jwt ${alg} ${engine}`, () => {
      test('a correctly forged token is accepted (the control for every case below)', async (t) => {
        const { forge, good, me } = await setup(t, alg, engine)
        const res = await me(await forge(good))
        assert.equal(res.statusCode, 200)
        assert.deepEqual(res.json(), { id: 1, username: 'user1' })
      })

      test('alg none and its case variants', async (t) => {
        const { good, expect401 } = await setup(t, alg, engine)
        for (const none of ['none', 'None', 'NONE', 'nOnE']) {
          await expect401(`${b64({ alg: none, typ: 'at+jwt' })}.${b64(good)}.`, `alg ${none}`)
        }
      })

      test('algorithm confusion and foreign keys', async (t) => {
        const { good, key, expect401 } = await setup(t, alg, engine)
        if (alg !== 'HS256') {
          // HS256 signed with the server's public key as the HMAC secret.
          const publicPem = createPublicKey(key.pem!).export({ format: 'pem', type: 'spki' }).toString()
          const confused = await new SignJWT(good)
            .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
            .sign(new TextEncoder().encode(publicPem))
          await expect401(confused, 'HS256 with the public key')
        }
        const other = generateKeyPairSync('ed25519').privateKey
        await expect401(await new SignJWT(good).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(other), 'EdDSA, foreign key')
        await expect401(
          await new SignJWT(good).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new Uint8Array(32)),
          'HS256, foreign key',
        )
      })

      test('tampered payload and stripped signature', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine)
        const [h, , s] = (await forge(good)).split('.')
        await expect401(`${h}.${b64({ ...good, sub: '2' })}.${s}`, 'tampered sub')
        const [h2, p2] = (await forge(good)).split('.')
        await expect401(`${h2}.${p2}.`, 'stripped signature')
        await expect401(`${h2}.${p2}`, 'two segments')
        await expect401('not-a-jwt', 'garbage')
        await expect401('a.b.c', 'garbage segments')
      })

      test('expired and not yet valid', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine)
        const now = good.iat!
        await expect401(await forge({ ...good, exp: now - 1 }), 'expired')
        await expect401(await forge({ ...good, exp: now }), 'exp equal to now')
        await expect401(await forge({ ...good, nbf: now + 60 }), 'nbf in the future')
      })

      test('wrong issuer or audience, missing required claims', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine)
        await expect401(await forge({ ...good, iss: 'evil' }), 'iss')
        await expect401(await forge({ ...good, aud: 'other-api' }), 'aud')
        for (const claim of ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'] as const) {
          const { [claim]: _dropped, ...rest } = good
          await expect401(await forge(rest), `missing ${claim}`)
        }
        await expect401(await forge({ ...good, sub: 'admin' }), 'non-numeric sub')
      })

      test('unknown crit, missing or wrong typ', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine)
        await expect401(await forge(good, { crit: ['x-unknown'], 'x-unknown': true }), 'unknown crit')
        await expect401(await forge(good, { typ: undefined }), 'no typ')
        await expect401(await forge(good, { typ: 'JWT' }), 'typ JWT')
      })

      test('a refresh token is never an access token, nor the reverse', async (t) => {
        const { server, expect401 } = await setup(t, alg, engine)
        const cred = await login(server)
        await expect401(cred.refreshToken!, 'refresh token as access token')
        const res = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: cred.accessToken } })
        assert.deepEqual([res.statusCode, res.json()], [400, { error: 'invalid_grant' }])
      })
    })
  }
}

describe('bearer header and refresh body shapes', () => {
  test('malformed Authorization headers get 401 with no store access', async (t) => {
    const server = await testServer(t, { strategy: 'jwt', revocation: 'denylist' })
    const token = (await login(server)).accessToken!
    for (const authorization of [
      'Basic dXNlcjE6cHc=',
      'Bearer',
      'Bearer ',
      `Token ${token}`,
      `Bearer ${'a'.repeat(5000)}`,
      `Bearer\t${token}x`,
    ]) {
      const reads = server.counters.reads
      const res = await server.app.inject({ url: '/me', headers: { authorization } })
      assert.equal(res.statusCode, 401, authorization.slice(0, 20))
      assert.equal(server.counters.reads, reads)
    }
    assert.equal((await server.app.inject({ url: '/me', headers: { authorization: `bearer ${token}` } })).statusCode, 200)
  })

  test('refresh bodies of every wrong shape get 400', async (t) => {
    const server = await testServer(t, { strategy: 'jwt' })
    const cases: [string, string, string | undefined][] = [
      ['{"refresh_token": 123}', 'application/json', 'invalid_grant'],
      ['{"refresh_token": null}', 'application/json', 'invalid_grant'],
      ['{}', 'application/json', 'invalid_grant'],
      ['[]', 'application/json', 'invalid_grant'],
      ['{"refresh_token": "x"', 'application/json', 'FST_ERR_CTP_INVALID_JSON_BODY'],
      [JSON.stringify({ refresh_token: 'a'.repeat(10_000) }), 'application/json', 'invalid_grant'],
    ]
    for (const [payload, type, error] of cases) {
      const res = await server.app.inject({ method: 'POST', url: '/refresh', payload, headers: { 'content-type': type } })
      assert.deepEqual([res.statusCode, res.json().error], [400, error], payload.slice(0, 30))
    }
  })
})
