import { MAX_TOKEN_LENGTH, newTokenId, readBearer } from '../credentials.ts'
import { AUDIENCE, ISSUER, type Claims, type JwtEngine, type TokenType } from '../engines/engine.ts'
import { engines } from '../engines/index.ts'
import { loadKeys } from '../keys.ts'
import type { Identity } from '../types.ts'
import type { StrategyFactory } from './factory.ts'

interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
}

const SUB_PATTERN = /^[1-9][0-9]{0,9}$/

async function verified(engine: JwtEngine, token: unknown, typ: TokenType): Promise<Claims | null> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null
  try {
    const claims = await engine.verify(token, typ)
    if (typeof claims.sub !== 'string' || !SUB_PATTERN.test(claims.sub)) return null
    if (typeof claims.name !== 'string' || typeof claims.jti !== 'string') return null
    if (typ === 'rt+jwt' && typeof claims.fam !== 'string') return null
    return claims
  } catch {
    // Every verification failure (signature, alg, typ, claims, expiry, syntax) is the same 401.
    return null
  }
}

/**
 * Signed access tokens (identity from the token alone) plus rotated refresh tokens whose `jti`
 * is recorded server-side; optional per-request denylist check of the access token's `jti`.
 */
export const createJwtStrategy: StrategyFactory = async ({ store, clock, settings }, config) => {
  // Keys are imported once, here, never per request.
  const keys = loadKeys(config.alg, { jwtSecret: config.jwtSecret, keyFile: config.keyFile })
  const engine = await engines[config.engine]({
    keys,
    clock,
    systemClock: config.systemClock,
    keyForm: config.keyForm,
    verifyCache: config.verifyCache,
  })
  const denylist = config.revocation === 'denylist'
  const graceMs = settings.refreshGraceSeconds * 1000

  /** A new pair in `family`, or null when the family was revoked while it was being issued. */
  const issue = async (user: Identity, family: string): Promise<TokenPair | null> => {
    const iat = Math.floor(clock() / 1000)
    const base = { iss: ISSUER, aud: AUDIENCE, sub: String(user.id), name: user.username, iat }
    const refreshJti = newTokenId()
    const refreshExp = iat + settings.refreshTtlSeconds
    const [access, refresh] = await Promise.all([
      engine.sign({ ...base, jti: newTokenId(), exp: iat + settings.accessTtlSeconds }, 'at+jwt'),
      engine.sign({ ...base, jti: refreshJti, fam: family, exp: refreshExp }, 'rt+jwt'),
    ])
    if (!(await store.putRefresh(refreshJti, family, refreshExp * 1000))) return null
    return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: settings.accessTtlSeconds }
  }

  const accessClaims = async (header: string | undefined): Promise<Claims | null> => {
    const claims = await verified(engine, readBearer(header), 'at+jwt')
    if (claims === null) return null
    if (denylist && (await store.isDenied(claims.jti as string, clock()))) return null
    return claims
  }

  const refreshToken = (body: unknown): unknown =>
    typeof body === 'object' && body !== null ? (body as { refresh_token?: unknown }).refresh_token : undefined

  return {
    kind: 'jwt',
    async login(user) {
      // A fresh family cannot have been revoked.
      return (await issue(user, newTokenId()))!
    },
    async identify(req) {
      const claims = await accessClaims(req.headers.authorization)
      return claims === null ? null : { id: Number(claims.sub), username: claims.name as string }
    },
    async refresh(req, reply) {
      const claims = await verified(engine, refreshToken(req.body), 'rt+jwt')
      const result = claims === null ? 'unknown' : await store.consumeRefresh(claims.jti as string, claims.fam as string, clock(), graceMs)
      // Within the grace window a just-rotated token is a concurrent refresh (two tabs): it gets a pair of its own, same family.
      if (claims === null || (result !== 'ok' && result !== 'grace')) {
        // A rotated token presented again means it leaked: the whole family is revoked.
        if (claims !== null && result === 'reused') await store.revokeFamily(claims.fam as string)
        return reply.code(400).send({ error: 'invalid_grant' })
      }
      const pair = await issue({ id: Number(claims.sub), username: claims.name as string }, claims.fam as string)
      // The family was revoked (reuse detected, logout) while this rotation was under way: nothing was issued.
      return pair ?? reply.code(400).send({ error: 'invalid_grant' })
    },
    async logout(req) {
      const refresh = await verified(engine, refreshToken(req.body), 'rt+jwt')
      const access = await accessClaims(req.headers.authorization)
      if (refresh === null && access === null) return false
      if (refresh !== null && (access === null || refresh.sub === access.sub)) await store.revokeFamily(refresh.fam as string)
      if (access !== null && denylist) await store.deny(access.jti as string, (access.exp as number) * 1000)
      return true
    },
    // An engine that is a Fastify plugin (@fastify/jwt) goes on the app; the others need nothing there.
    ...(engine.register ? { register: (app) => engine.register!(app) } : {}),
    jwks: keys.publicJwk ? () => ({ keys: [keys.publicJwk] }) : undefined,
    challenge: (presented) => (presented ? 'Bearer realm="authbench", error="invalid_token"' : 'Bearer realm="authbench"'),
    presented: (req) => req.headers.authorization !== undefined,
  }
}
