import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { VerificationError } from '../../shared/errors.ts'
import { generatePrivateKeyPem } from '../../servers/keys.ts'
import { DEFAULT_CONFIG } from '../../servers/server.ts'
import { jwtMicroTasks } from '../micro/jwt.ts'
import type { StrategyDescriptor } from './index.ts'
import { postLogin } from './login.ts'
import type { Held } from '../contracts/client.ts'

const decode = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>

/** Signed access tokens (identity from the token alone), rotated refresh tokens in the cell's store. */
export const jwtStrategy: StrategyDescriptor = {
  kind: 'jwt',
  axes: {
    store: 'sqlite',
    alg: 'HS256',
    engine: 'jose',
    revocation: 'none',
    accessTtlSeconds: DEFAULT_CONFIG.accessTtlSeconds,
    refreshGraceSeconds: 0,
    refreshJitterSeconds: 0,
    storeRttMs: 0,
  },
  idParts: (c) => [
    c.alg!,
    c.engine!,
    c.store!,
    ...(c.revocation === 'denylist' ? ['denylist'] : []),
    ...(c.accessTtlSeconds !== DEFAULT_CONFIG.accessTtlSeconds ? [`ttl${c.accessTtlSeconds}s`] : []),
    ...(c.refreshGraceSeconds ? [`grace${c.refreshGraceSeconds}s`] : []),
    ...(c.refreshJitterSeconds ? [`jitter${c.refreshJitterSeconds}s`] : []),
    ...(c.storeRttMs ? [`rtt${c.storeRttMs}ms`] : []),
  ],
  state: 'client',
  identifyReads: (c) => (c.revocation === 'denylist' ? 1 : 0),
  loginWrites: 1,
  renews: false,
  refreshes: true,
  anonymousStatus: 401,
  serverArgs: (c) => [
    '--alg',
    c.alg!,
    '--engine',
    c.engine!,
    '--revocation',
    c.revocation!,
    '--access-ttl',
    String(c.accessTtlSeconds),
    '--refresh-grace',
    String(c.refreshGraceSeconds),
  ],
  sharedKeyArgs(c, dir) {
    if (c.alg === 'HS256') return ['--jwt-secret', randomBytes(32).toString('hex')]
    const keyFile = join(dir, 'key.pem')
    writeFileSync(keyFile, generatePrivateKeyPem(c.alg!), { mode: 0o600 })
    return ['--key-file', keyFile]
  },
  cookieName: null,
  async login(url, user) {
    const res = await postLogin(url, user)
    const body = (await res.json()) as { access_token?: string }
    if (res.status !== 200 || !body.access_token) throw new VerificationError(`login of user${user} at ${url}: status ${res.status}`)
    return { headers: { authorization: `Bearer ${body.access_token}` }, raw: body.access_token }
  },
  lifecycle: {
    fromLogin(a) {
      try {
        const body = JSON.parse(a.body) as { access_token?: unknown; refresh_token?: unknown }
        if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') return null
        // The client reads `exp` from its own token (it can: the claims are not encrypted).
        const exp = decode(body.access_token.split('.')[1] ?? '').exp
        return {
          headers: { authorization: `Bearer ${body.access_token}` },
          access: body.access_token,
          refresh: body.refresh_token,
          ...(typeof exp === 'number' ? { expMs: exp * 1000 } : {}),
        } satisfies Held
      } catch {
        return null
      }
    },
    headers: (h) => h.headers,
    expiresAt: (h) => h.expMs ?? null,
    refreshBody: (h) => JSON.stringify({ refresh_token: h.refresh }),
    logout: (h) => ({ headers: h.headers, body: JSON.stringify({ refresh_token: h.refresh }) }),
  },
  describeCredential(c) {
    const [header, payload] = c.raw!.split('.')
    return {
      kind: 'bearer',
      header: 'authorization',
      bytes: Buffer.byteLength(c.headers.authorization!),
      clientReadable: true,
      decoded: { header: decode(header!), claims: decode(payload!) },
    }
  },
  lifetimeSeconds(info) {
    const exp = info.decoded?.claims.exp
    return typeof exp === 'number' ? Math.max(0, exp - Math.floor(Date.now() / 1000)) : null
  },
  breakdown: (c) => [
    { label: 'bearer extraction', task: 'parse:bearer' },
    { label: `verify ${c.alg} (${c.engine})`, task: `verify:${c.alg}:${c.engine}` },
    ...(c.revocation === 'denylist' ? [{ label: `denylist read (${c.store})`, task: `store-read:${c.store}` }] : []),
  ],
  // jose verifies through WebCrypto, whose work runs on libuv's thread pool.
  awaits: (c) => (c.engine === 'jose' ? 'the thread pool (WebCrypto)' : null),
  micro: jwtMicroTasks,
  label: {
    family: 'JWTs',
    cell: (c) => `JWT ${c.alg} with ${c.engine}${c.revocation === 'denylist' ? ` with a ${c.store} denylist` : ''}`,
    column: (c) => `jwt (${c.store})`,
    stateLives: (c) => `in the token (signed claims); refresh-token state in ${c.store}`,
    copyLives: (c, seconds) =>
      `for up to ${seconds ?? c.accessTtlSeconds ?? DEFAULT_CONFIG.accessTtlSeconds} s (the access token's remaining lifetime)`,
    clientReads: (info) =>
      info.decoded
        ? `yes, without any key: ${Object.keys(info.decoded.claims).join(', ')} (decoded from a real token)`
        : 'not measured in this run',
  },
  colorName: 'orange',
  colors: ['#e6780e', '#f39c3d', '#b35900', '#f7b56b', '#8a4500', '#fad09c', '#cc6a0c', '#5e2f00'],
}
