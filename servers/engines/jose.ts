import { SignJWT, importPKCS8, importSPKI, jwtVerify, type JWTVerifyOptions } from 'jose'
import { AUDIENCE, ISSUER, REQUIRED_CLAIMS, type EngineFactory, type TokenType } from './engine.ts'

/** jose through WebCrypto, with keys imported once as CryptoKeys (raw bytes per call cost more). */
export const createJoseEngine: EngineFactory = async ({ keys, clock, systemClock }) => {
  const { alg } = keys
  let signKey: CryptoKey
  let verifyKey: CryptoKey
  if (alg === 'HS256') {
    signKey = verifyKey = await crypto.subtle.importKey('raw', new Uint8Array(keys.secret!), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ])
  } else {
    signKey = await importPKCS8(keys.privateKeyPem!, alg)
    verifyKey = await importSPKI(keys.publicKeyPem!, alg)
  }
  const headers = {
    'at+jwt': { alg, typ: 'at+jwt', ...(keys.kid ? { kid: keys.kid } : {}) },
    'rt+jwt': { alg, typ: 'rt+jwt', ...(keys.kid ? { kid: keys.kid } : {}) },
  }
  const base = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE, requiredClaims: [...REQUIRED_CLAIMS] }
  const options: Record<TokenType, JWTVerifyOptions> = {
    'at+jwt': { ...base, typ: 'at+jwt' },
    'rt+jwt': { ...base, typ: 'rt+jwt' },
  }
  return {
    sign(claims, typ) {
      return new SignJWT(claims).setProtectedHeader(headers[typ]).sign(signKey)
    },
    async verify(token, typ) {
      const opts = systemClock ? options[typ] : { ...options[typ], currentDate: new Date(clock()) }
      return (await jwtVerify(token, verifyKey, opts)).payload
    },
  }
}
