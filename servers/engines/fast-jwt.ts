import { createSigner, createVerifier } from 'fast-jwt'
import type { Alg } from '../types.ts'
import { AUDIENCE, ISSUER, REQUIRED_CLAIMS, type Claims, type EngineFactory, type TokenType } from './engine.ts'

/**
 * What fast-jwt checks in a verify, for this engine and for @fastify/jwt's (which hands them to fast-jwt): the algorithm
 * pinned, issuer, audience, every required claim and `typ`; and its verified-token cache when `verifyCache` sizes it.
 */
export const verifyOptions = (alg: Alg, typ: TokenType, verifyCache: number) => ({
  algorithms: [alg],
  allowedIss: ISSUER,
  allowedAud: AUDIENCE,
  requiredClaims: [...REQUIRED_CLAIMS],
  checkTyp: typ,
  ...(verifyCache > 0 ? { cache: verifyCache } : {}),
})

/** fast-jwt accepts a token at the very second of `exp`; RFC 7519 says "before" (as jose does): refused here too. */
export function beforeExp(claims: Claims, nowMs: number): Claims {
  if ((claims.exp as number) * 1000 <= nowMs) throw new Error('token expired')
  return claims
}

/**
 * fast-jwt with signers and verifiers built once. Its verified-token cache (`cache`) is off unless
 * `verifyCache` sizes it: an LRU of that many entries per token type, keyed by a hash of the whole
 * token, whose hit skips the signature and claim checks until the token's `exp` or the default
 * `cacheTTL` (10 minutes), whichever is first; errors are not cached (`errorCacheTTL` -1).
 */
export const createFastJwtEngine: EngineFactory = async ({ keys, clock, systemClock, verifyCache }) => {
  const { alg } = keys
  const signKey = alg === 'HS256' ? keys.secret! : keys.privateKeyPem!
  const verifyKey = alg === 'HS256' ? keys.secret! : keys.publicKeyPem!
  const signer = (typ: TokenType) =>
    createSigner({ key: signKey, algorithm: alg, header: { alg, typ }, ...(keys.kid ? { kid: keys.kid } : {}) })
  const verifier = (typ: TokenType, clockTimestamp?: number) =>
    createVerifier({
      key: verifyKey,
      ...verifyOptions(alg, typ, verifyCache),
      ...(clockTimestamp === undefined ? {} : { clockTimestamp }),
    })
  const signers = { 'at+jwt': signer('at+jwt'), 'rt+jwt': signer('rt+jwt') }
  const verifiers = { 'at+jwt': verifier('at+jwt'), 'rt+jwt': verifier('rt+jwt') }
  return {
    async sign(claims, typ) {
      return signers[typ](claims)
    },
    async verify(token, typ) {
      // An injected clock (tests only) needs a verifier (and so a cache) of its own per call; the real clock uses the prebuilt one.
      const verify = systemClock ? verifiers[typ] : verifier(typ, clock())
      return beforeExp(verify(token) as Claims, clock())
    },
  }
}
