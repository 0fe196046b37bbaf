import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { jwtVerify } from 'jose'
import { readBearer } from '../../../servers/credentials.ts'
import { AUDIENCE, ISSUER, REQUIRED_CLAIMS } from '../../../servers/engines/engine.ts'
import { engines } from '../../../servers/engines/index.ts'
import { loadKeys } from '../../../servers/keys.ts'
import { ALGS, DEFAULT_KEY_FORM, ENGINE_SUPPORT, ENGINES, type Alg } from '../../../common/kinds.ts'
import { engineParts } from '../jwt.ts'
import { repeat } from '../../repeat.ts'
import type { MicroTask } from '../../contracts/results.ts'

/** Entries in the cached engines' verify cache here: one token is verified again and again, so any size hits. */
const MICRO_VERIFY_CACHE = 1000

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

function floorVerifier(alg: Alg, token: string, secret: Buffer | null, publicKey: KeyObject | null): () => boolean {
  const dot = token.lastIndexOf('.')
  const input = Buffer.from(token.slice(0, dot))
  const sig = Buffer.from(token.slice(dot + 1), 'base64url')
  switch (alg) {
    case 'HS256':
      return () => timingSafeEqual(createHmac('sha256', secret!).update(input).digest(), sig)
    case 'RS256':
      return () => verify('sha256', input, publicKey!, sig)
    case 'ES256':
      return () => verify('sha256', input, { key: publicKey!, dsaEncoding: 'ieee-p1363' }, sig)
    case 'EdDSA':
      return () => verify(null, input, publicKey!, sig)
  }
}

/**
 * Sign and verify for every algorithm and engine (the servers' own engine code; jsonwebtoken in each
 * key form, a string beside a KeyObject), node:crypto's bare signature check as the floor, jose with
 * raw secret bytes per call, bearer extraction. fast-jwt and @fastify/jwt verify also from their verify
 * cache (`verify:ALG:ENGINE:cached`), the token verified once before.
 */
export async function jwtMicroTasks(): Promise<{ tasks: MicroTask[]; close(): Promise<void> }> {
  const tasks: MicroTask[] = []
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: '42', name: 'user42', jti: 'AAAAAAAAAAAAAAAAAAAAAA', iat: now, exp: now + 900 }
  let sampleToken = ''
  const apps: FastifyInstance[] = []

  for (const alg of ALGS) {
    const keys = loadKeys(alg)
    for (const engineName of ENGINES) {
      const support = ENGINE_SUPPORT[engineName]
      if (!(support.algs as readonly Alg[]).includes(alg)) continue
      for (const keyForm of support.keyForms ?? [null]) {
        // An engine with a verify cache is measured with it off and on: the same token again is a cache hit.
        for (const verifyCache of support.verifyCache ? [0, MICRO_VERIFY_CACHE] : [0]) {
          const options = { keys, clock: Date.now, systemClock: true, keyForm: keyForm ?? DEFAULT_KEY_FORM, verifyCache }
          const engine = await engines[engineName](options)
          if (engine.register) {
            const app = Fastify({ logger: false })
            apps.push(app)
            engine.register(app)
            await app.ready()
          }
          const token = await engine.sign(claims, 'at+jwt')
          if (alg === 'HS256' && engineName === 'jose') sampleToken = token
          const part = engineParts({ engine: engineName, keyForm }).join(':')
          const name = `${engineName}${keyForm ? ` (${keyForm === 'string' ? 'string key' : 'KeyObject'})` : ''}`
          tasks.push({
            id: `verify:${alg}:${part}${verifyCache ? ':cached' : ''}`,
            name: `verify ${alg} ${name}${verifyCache ? ', from its verify cache' : ''}`,
            group: 'jwt-verify',
            batch: 1,
            fn: () => engine.verify(token, 'at+jwt'),
          })
          if (verifyCache) continue
          tasks.push({
            id: `sign:${alg}:${part}`,
            name: `sign ${alg} ${name}`,
            group: 'jwt-sign',
            batch: 1,
            fn: () => engine.sign(claims, 'at+jwt'),
          })
        }
      }
    }
    const token = `${b64({ alg, typ: 'at+jwt' })}.${b64(claims)}`
    const signature =
      alg === 'HS256'
        ? createHmac('sha256', keys.secret!).update(token).digest()
        : sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(token), {
            key: createPrivateKey(keys.privateKeyPem!),
            dsaEncoding: 'ieee-p1363',
          })
    const publicKey = keys.publicKeyPem ? createPublicKey(keys.publicKeyPem) : null
    tasks.push({
      id: `floor:${alg}`,
      name: `verify ${alg} node:crypto (signature only)`,
      group: 'floor',
      batch: alg === 'HS256' ? 10 : 1,
      fn: repeat(alg === 'HS256' ? 10 : 1, floorVerifier(alg, `${token}.${signature.toString('base64url')}`, keys.secret, publicKey)),
    })
    if (alg === 'HS256') {
      const engine = await engines.jose({ keys, clock: Date.now, systemClock: true, keyForm: DEFAULT_KEY_FORM, verifyCache: 0 })
      const hsToken = await engine.sign(claims, 'at+jwt')
      const raw = new Uint8Array(keys.secret!)
      const opts = { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', requiredClaims: [...REQUIRED_CLAIMS] }
      // The mistake users make: raw bytes make jose import the key on every call.
      tasks.push({
        id: 'jose-raw:HS256',
        name: 'verify HS256 jose, raw secret bytes per call',
        group: 'jose-key',
        batch: 1,
        fn: () => jwtVerify(hsToken, raw, opts),
      })
    }
  }
  const bearer = `Bearer ${sampleToken}`
  tasks.push({
    id: 'parse:bearer',
    name: 'bearer header extraction',
    group: 'parsing',
    batch: 100,
    fn: repeat(100, () => readBearer(bearer)),
  })
  return {
    tasks,
    close: async () => {
      for (const app of apps) await app.close()
    },
  }
}
