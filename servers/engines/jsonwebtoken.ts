import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import jwt, { type Algorithm, type VerifyOptions } from 'jsonwebtoken'
import { ConfigError } from '../../common/errors.ts'
import { ENGINE_SUPPORT } from '../../common/kinds.ts'
import { AUDIENCE, ISSUER, REQUIRED_CLAIMS, type Claims, type EngineFactory, type TokenType } from './engine.ts'

/**
 * jsonwebtoken as its README shows it: `jwt.sign(payload, key, options)` and `jwt.verify(token, key, options)`,
 * the algorithm pinned, issuer and audience checked by the library. It does not check `typ`, `crit` or
 * claims it was not told to, so the header and the required claims are checked here.
 *
 * `keyForm` `string` hands it the key as most code does (`process.env.JWT_SECRET`, a PEM read as text):
 * every call then tries `createPublicKey()` (verify) or `createPrivateKey()` (sign) on it first, and an
 * HS256 secret's key is the text's bytes (the `--jwt-secret` hex, not the bytes it encodes). `keyobject`
 * hands it KeyObjects made once, which it uses as they are.
 */
export const createJsonwebtokenEngine: EngineFactory = async ({ keys, clock, systemClock, keyForm }) => {
  const { alg } = keys
  if (!(ENGINE_SUPPORT.jsonwebtoken.algs as readonly string[]).includes(alg)) {
    throw new ConfigError(`jsonwebtoken signs ${ENGINE_SUPPORT.jsonwebtoken.algs.join(', ')}, not ${alg}`)
  }
  let signKey: string | KeyObject
  let verifyKey: string | KeyObject
  if (alg === 'HS256') {
    signKey = verifyKey = keyForm === 'string' ? keys.secret!.toString('hex') : createSecretKey(keys.secret!)
  } else if (keyForm === 'string') {
    signKey = keys.privateKeyPem!
    verifyKey = keys.publicKeyPem!
  } else {
    signKey = createPrivateKey(keys.privateKeyPem!)
    verifyKey = createPublicKey(keys.publicKeyPem!)
  }
  const algorithm = alg as Algorithm
  const signOptions = (typ: TokenType): jwt.SignOptions => ({
    algorithm,
    header: { alg: algorithm, typ },
    ...(keys.kid ? { keyid: keys.kid } : {}),
  })
  const signs = { 'at+jwt': signOptions('at+jwt'), 'rt+jwt': signOptions('rt+jwt') }
  const options: VerifyOptions & { complete: true } = { algorithms: [algorithm], issuer: ISSUER, audience: AUDIENCE, complete: true }
  return {
    async sign(claims, typ) {
      return jwt.sign(claims, signKey, signs[typ])
    },
    async verify(token, typ) {
      // jsonwebtoken reads the time in whole seconds; an injected clock (tests only) is handed to it per call.
      const { header, payload } = jwt.verify(
        token,
        verifyKey,
        systemClock ? options : { ...options, clockTimestamp: Math.floor(clock() / 1000) },
      )
      if (header.typ !== typ) throw new Error(`typ ${header.typ} is not ${typ}`)
      // No extension is understood, so any critical one is refused (RFC 7515, 4.1.11).
      if ('crit' in header) throw new Error('crit header')
      const claims = payload as Claims
      if (typeof claims !== 'object') throw new Error('the payload is not a claims set')
      for (const claim of REQUIRED_CLAIMS) if (claims[claim] === undefined) throw new Error(`missing ${claim}`)
      return claims
    },
  }
}
