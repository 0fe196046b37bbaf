import fastifyJwt, { type FastifyJWTOptions, type JWT } from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import type { Claims, EngineFactory, TokenType } from './engine.ts'
import { beforeExp, verifyOptions } from './fast-jwt.ts'

const NAMESPACES = { 'at+jwt': 'access', 'rt+jwt': 'refresh' } as const satisfies Record<TokenType, string>

/**
 * @fastify/jwt as its README shows it: the plugin registered on the app, once per token type (its
 * `namespace` option), each with its `sign` and `verify` options so `app.jwt.access.sign()` and
 * `.verify()` use the signer and verifier it built at registration (options passed per call build new
 * ones). The algorithm is pinned and issuer, audience, required claims and `typ` are checked by fast-jwt
 * inside it, which refuses any `crit` header it was not told of.
 *
 * `verifyCache` turns on fast-jwt's verified-token cache (`verify.cache`, an LRU of that many entries
 * per token type, keyed by a hash of the whole token): a token found there skips the signature and claim
 * checks until its `exp` or fast-jwt's default `cacheTTL` (10 minutes), whichever is first. Errors are not
 * cached (fast-jwt's `errorCacheTTL` -1: @fastify/jwt's own 10-minute error cache applies only when no
 * `verify` options are given).
 */
export const createFastifyJwtEngine: EngineFactory = async ({ keys, clock, systemClock, verifyCache }) => {
  const { alg } = keys
  const secret = alg === 'HS256' ? keys.secret! : { private: keys.privateKeyPem!, public: keys.publicKeyPem! }
  const options = (typ: TokenType): FastifyJWTOptions => ({
    secret,
    namespace: NAMESPACES[typ],
    sign: { algorithm: alg, header: { alg, typ }, ...(keys.kid ? { kid: keys.kid } : {}) },
    verify: verifyOptions(alg, typ, verifyCache),
  })
  let jwt: Record<TokenType, JWT> | null = null
  const registered = (): Record<TokenType, JWT> => {
    if (jwt === null) throw new Error('@fastify/jwt is not registered on an app that is ready')
    return jwt
  }
  return {
    register(app: FastifyInstance) {
      app.register(fastifyJwt, options('at+jwt'))
      app.register(fastifyJwt, options('rt+jwt'))
      app.addHook('onReady', async () => {
        const namespaces = app.jwt as unknown as Record<string, JWT>
        jwt = { 'at+jwt': namespaces[NAMESPACES['at+jwt']]!, 'rt+jwt': namespaces[NAMESPACES['rt+jwt']]! }
      })
    },
    async sign(claims, typ) {
      return registered()[typ].sign(claims)
    },
    async verify(token, typ) {
      // An injected clock (tests only) is handed to fast-jwt per call, which builds a verifier (and an empty cache) for it.
      const claims = (
        systemClock ? registered()[typ].verify(token) : registered()[typ].verify(token, { clockTimestamp: clock() })
      ) as Claims
      return beforeExp(claims, clock())
    },
  }
}
