import { randomBytes } from 'node:crypto'
import { createServer, DEFAULT_CONFIG } from '../../servers/server.ts'
import { SEALED_COOKIE } from '../../servers/strategies/cookie.ts'
import type { StrategyDescriptor } from './index.ts'
import { cookieLifecycle, cookieLogin } from './login.ts'

/** A stateless session sealed in an encrypted, authenticated cookie: no store read, no revocation. */
export const cookieStrategy: StrategyDescriptor = {
  kind: 'cookie',
  // The sealed cookie's lifetime is its idle timeout (re-sealed by use, never refreshed).
  axes: { accessTtlSeconds: DEFAULT_CONFIG.sessionIdleTtlSeconds },
  idParts: (c) => (c.accessTtlSeconds !== DEFAULT_CONFIG.sessionIdleTtlSeconds ? [`ttl${c.accessTtlSeconds}s`] : []),
  state: 'client',
  identifyReads: () => 0,
  loginWrites: 0,
  renews: false,
  refreshes: false,
  anonymousStatus: 401,
  serverArgs: (c) => ['--session-idle-ttl', String(c.accessTtlSeconds)],
  sharedKeyArgs: () => ['--cookie-key', randomBytes(32).toString('hex')],
  cookieName: SEALED_COOKIE,
  login: (url, user) => cookieLogin(url, user, SEALED_COOKIE),
  lifecycle: cookieLifecycle(SEALED_COOKIE),
  describeCredential: (c) => ({
    kind: 'cookie',
    header: 'cookie',
    bytes: Buffer.byteLength(c.headers.cookie!),
    clientReadable: false,
    decoded: null,
  }),
  // A copy keeps working until the sealed idle or absolute deadline, which only the server checks.
  lifetimeSeconds: () => null,
  breakdown: () => [{ label: 'cookie parsing and unsealing (@fastify/secure-session)', task: 'unseal:cookie' }],
  async micro() {
    // The server's own app and key, so the timed path is the one a request takes.
    const server = await createServer({ ...DEFAULT_CONFIG, strategy: 'cookie', users: 1, hashCost: 4 }, { usersCache: false })
    await server.app.ready()
    const app = server.app
    const now = Date.now()
    const sealed = app.encodeSecureSession(app.createSecureSession({ uid: 42, name: 'user42', c: now, s: now }))
    const header = `theme=dark; _ga=GA1.2.1234567890.1700000000; ${SEALED_COOKIE}=${encodeURIComponent(sealed)}; lang=en`
    return {
      tasks: [
        {
          id: 'unseal:cookie',
          name: 'sealed cookie: parse every cookie, unseal, read the session',
          group: 'cookie',
          batch: 1,
          fn: () => app.decodeSecureSession(app.parseCookie(header)[SEALED_COOKIE]!)?.get('uid'),
        },
      ],
      close: () => server.close(),
    }
  },
  label: {
    family: 'sealed cookies',
    cell: () => 'a sealed-cookie session',
    column: () => 'cookie (sealed, no store)',
    stateLives: () => "in the cookie, sealed (encrypted and authenticated) with the server's key; no store",
    clientReads: () => "no: encrypted; only the server's key opens it",
    copyLives: (c) =>
      `until its idle deadline (${c.accessTtlSeconds ?? DEFAULT_CONFIG.sessionIdleTtlSeconds} s after its last re-seal) and, kept in use, up to its absolute deadline (${DEFAULT_CONFIG.sessionAbsoluteTtlSeconds} s after login): only the sealed timestamps end it`,
  },
  colorName: 'green',
  colors: ['#27ae60', '#58d68d', '#1e8449', '#82e0aa'],
}
