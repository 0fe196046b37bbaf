import assert from 'node:assert/strict'
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import { describe, test, type TestContext } from 'node:test'
import { SignJWT, type JWTPayload } from 'jose'
import { ENGINE_SUPPORT, engineRunsOn } from '../common/kinds.ts'
import { parseServerArgs } from '../servers/cli-config.ts'
import { ALGS, ENGINES, FRAMEWORKS, type Alg, type EngineKind, type Framework, type KeyForm } from '../servers/types.ts'
import { keyFor, login, manualClock, testServer } from './helpers.ts'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

async function setup(t: TestContext, alg: Alg, engine: EngineKind, keyForm: KeyForm | null, framework: Framework) {
  const key = keyFor(t, alg)
  const clock = manualClock()
  const config = {
    strategy: 'jwt' as const,
    framework,
    alg,
    engine,
    jwtSecret: key.jwtSecret,
    keyFile: key.keyFile,
    ...(keyForm ? { keyForm } : {}),
  }
  const server = await testServer(t, config, { clock })
  // A string secret's key is its text (the hex), as jsonwebtoken reads a string; every other form, the bytes it encodes.
  const hmacKey = keyForm === 'string' ? Buffer.from(key.jwtSecret ?? '') : key.secret
  const privateKey = alg === 'HS256' ? null : createPrivateKey(key.pem!)
  const now = Math.floor(clock() / 1000)
  const good: JWTPayload = { iss: 'authbench', aud: 'authbench-api', sub: '1', name: 'user1', jti: 'forged-jti', iat: now, exp: now + 600 }
  /** A token signed with the server's real key, with whatever header and claims the test wants. */
  const forge = async (claims: JWTPayload, header: Record<string, unknown> = {}) => {
    const input = `${b64({ alg, typ: 'at+jwt', ...header })}.${b64(claims)}`
    const signature =
      alg === 'HS256'
        ? createHmac('sha256', hmacKey!).update(input).digest()
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

// Every algorithm an engine signs, with every engine in each key form it takes: a new JWT library is attacked by its name in ENGINES.
const variants = ALGS.flatMap((alg) =>
  ENGINES.filter((engine) => (ENGINE_SUPPORT[engine].algs as readonly Alg[]).includes(alg)).flatMap((engine) =>
    (ENGINE_SUPPORT[engine].keyForms ?? [null]).map((keyForm) => ({ alg, engine, keyForm })),
  ),
)

for (const framework of FRAMEWORKS)
  for (const { alg, engine, keyForm } of variants.filter((v) => engineRunsOn(v.engine, framework))) {
    describe(`jwt ${alg} ${engine}${keyForm ? ` ${keyForm}` : ''} on ${framework}`, () => {
      test('a correctly forged token is accepted (the control for every case below)', async (t) => {
        const { forge, good, me } = await setup(t, alg, engine, keyForm, framework)
        const res = await me(await forge(good))
        assert.equal(res.statusCode, 200)
        assert.deepEqual(res.json(), { id: 1, username: 'user1' })
      })

      test('alg none and its case variants', async (t) => {
        const { good, expect401 } = await setup(t, alg, engine, keyForm, framework)
        for (const none of ['none', 'None', 'NONE', 'nOnE']) {
          await expect401(`${b64({ alg: none, typ: 'at+jwt' })}.${b64(good)}.`, `alg ${none}`)
        }
      })

      test('algorithm confusion and foreign keys', async (t) => {
        const { good, key, expect401 } = await setup(t, alg, engine, keyForm, framework)
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
        const { good, forge, expect401 } = await setup(t, alg, engine, keyForm, framework)
        const [h, , s] = (await forge(good)).split('.')
        await expect401(`${h}.${b64({ ...good, sub: '2' })}.${s}`, 'tampered sub')
        const [h2, p2] = (await forge(good)).split('.')
        await expect401(`${h2}.${p2}.`, 'stripped signature')
        await expect401(`${h2}.${p2}`, 'two segments')
        await expect401('not-a-jwt', 'garbage')
        await expect401('a.b.c', 'garbage segments')
      })

      test('expired and not yet valid', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine, keyForm, framework)
        const now = good.iat!
        await expect401(await forge({ ...good, exp: now - 1 }), 'expired')
        await expect401(await forge({ ...good, exp: now }), 'exp equal to now')
        await expect401(await forge({ ...good, nbf: now + 60 }), 'nbf in the future')
      })

      test('wrong issuer or audience, missing required claims', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine, keyForm, framework)
        await expect401(await forge({ ...good, iss: 'evil' }), 'iss')
        await expect401(await forge({ ...good, aud: 'other-api' }), 'aud')
        for (const claim of ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'] as const) {
          const { [claim]: _dropped, ...rest } = good
          await expect401(await forge(rest), `missing ${claim}`)
        }
        await expect401(await forge({ ...good, sub: 'admin' }), 'non-numeric sub')
      })

      test('unknown crit, missing or wrong typ', async (t) => {
        const { good, forge, expect401 } = await setup(t, alg, engine, keyForm, framework)
        await expect401(await forge(good, { crit: ['x-unknown'], 'x-unknown': true }), 'unknown crit')
        await expect401(await forge(good, { typ: undefined }), 'no typ')
        await expect401(await forge(good, { typ: 'JWT' }), 'typ JWT')
      })

      test('a refresh token is never an access token, nor the reverse', async (t) => {
        const { server, expect401 } = await setup(t, alg, engine, keyForm, framework)
        const cred = await login(server)
        await expect401(cred.refreshToken!, 'refresh token as access token')
        const res = await server.app.inject({ method: 'POST', url: '/refresh', payload: { refresh_token: cred.accessToken } })
        assert.deepEqual([res.statusCode, res.json()], [400, { error: 'invalid_grant' }])
      })
    })
  }

describe('jsonwebtoken key forms', () => {
  // HS256 tokens HMAC'd with the hex text's bytes, and with the bytes it encodes: only a string reaches jsonwebtoken as text.
  test('a string secret is read as its text, a KeyObject as its bytes; alg none and another alg are refused in both', async (t) => {
    const key = keyFor(t, 'HS256')
    const clock = manualClock()
    const now = Math.floor(clock() / 1000)
    const claims = { iss: 'authbench', aud: 'authbench-api', sub: '1', name: 'user1', jti: 'forged-jti', iat: now, exp: now + 600 }
    const signed = (hmacKey: Buffer) => {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt' })}.${b64(claims)}`
      return `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`
    }
    const byText = signed(Buffer.from(key.jwtSecret!))
    const byBytes = signed(key.secret!)
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`
    const es256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
    const statuses: Record<string, number[]> = {}
    for (const keyForm of ['string', 'keyobject'] as const) {
      const server = await testServer(
        t,
        { strategy: 'jwt', alg: 'HS256', engine: 'jsonwebtoken', keyForm, jwtSecret: key.jwtSecret },
        { clock },
      )
      const me = async (token: string) =>
        (await server.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode
      statuses[keyForm] = [await me(byText), await me(byBytes), await me(none), await me(es256)]
    }
    assert.deepEqual(statuses, { string: [200, 401, 401, 401], keyobject: [401, 200, 401, 401] })
  })

  test('--key-form: string or keyobject (the default), engine jsonwebtoken only, which signs no EdDSA', () => {
    const parse = (...args: string[]) => parseServerArgs(['--strategy', 'jwt', ...args], {})
    assert.equal(parse('--engine', 'jsonwebtoken', '--key-form', 'string').keyForm, 'string')
    assert.equal(parse('--engine', 'jsonwebtoken').keyForm, 'keyobject')
    assert.throws(() => parse('--engine', 'jsonwebtoken', '--key-form', 'buffer'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--key-form must be one of string, keyobject; got "buffer"',
    })
    assert.throws(() => parse('--engine', 'jose', '--key-form', 'string'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--key-form applies to --engine jsonwebtoken only; got --engine jose',
    })
    assert.throws(() => parseServerArgs(['--strategy', 'session', '--key-form', 'string'], {}), {
      code: 'ERR_SERVER_CONFIG',
      message: '--alg, --engine, --key-form and --revocation apply to --strategy jwt only',
    })
    assert.throws(() => parse('--engine', 'jsonwebtoken', '--alg', 'EdDSA'), {
      code: 'ERR_SERVER_CONFIG',
      message: '--engine jsonwebtoken signs HS256, RS256, ES256, not --alg EdDSA',
    })
  })

  test('jsonwebtoken refuses EdDSA, which it cannot sign, before the server starts', async (t) => {
    await assert.rejects(testServer(t, { strategy: 'jwt', alg: 'EdDSA', engine: 'jsonwebtoken' }), { code: 'ERR_SERVER_CONFIG' })
  })

  test('@fastify/jwt, a Fastify plugin, is refused on Express before the server starts', async (t) => {
    await assert.rejects(testServer(t, { strategy: 'jwt', engine: 'fastify-jwt', framework: 'express' }), {
      code: 'ERR_SERVER_CONFIG',
      message: /runs on --framework fastify only/,
    })
    assert.throws(() => parseServerArgs(['--strategy', 'jwt', '--engine', 'fastify-jwt', '--framework', 'express']), {
      code: 'ERR_SERVER_CONFIG',
      message: '--engine fastify-jwt runs on --framework fastify only (a Fastify plugin); got --framework express',
    })
  })
})

for (const framework of FRAMEWORKS)
  describe(`bearer header and refresh body shapes on ${framework}`, () => {
    test('malformed Authorization headers get 401 with no store access', async (t) => {
      const server = await testServer(t, { strategy: 'jwt', revocation: 'denylist', framework })
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
      const server = await testServer(t, { strategy: 'jwt', framework })
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
