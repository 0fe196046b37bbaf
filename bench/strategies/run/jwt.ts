import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generatePrivateKeyPem } from '../../../servers/keys.ts'
import { VerificationError } from '../../contracts/errors.ts'
import type { Held } from '../../contracts/client.ts'
import { jwtMicroTasks } from './jwt-micro.ts'
import { decodePart } from '../jwt.ts'
import { postLogin } from './login.ts'
import type { StrategyRunner } from './runner.ts'

/** An access token in a bearer header, refreshed with the rotated refresh token before it expires. */
export const jwtRunner: StrategyRunner = {
  kind: 'jwt',
  serverArgs: (c) => [
    '--alg',
    c.alg!,
    '--engine',
    c.engine!,
    ...(c.keyForm ? ['--key-form', c.keyForm] : []),
    ...(c.verifyCache ? ['--verify-cache', String(c.verifyCache)] : []),
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
        const exp = decodePart(body.access_token.split('.')[1] ?? '').exp
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
  micro: jwtMicroTasks,
}
