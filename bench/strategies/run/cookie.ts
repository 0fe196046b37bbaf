import { randomBytes } from 'node:crypto'
import { createServer, DEFAULT_CONFIG } from '../../../servers/server.ts'
import { SEALED_COOKIE } from '../../../servers/strategies/cookie.ts'
import { cookieLifecycle, cookieLogin } from './login.ts'
import type { StrategyRunner } from './runner.ts'

/** A sealed cookie: one key shared by every instance of a cell; re-sealed by use, never refreshed. */
export const cookieRunner: StrategyRunner = {
  kind: 'cookie',
  serverArgs: (c) => ['--session-idle-ttl', String(c.accessTtlSeconds)],
  sharedKeyArgs: () => ['--cookie-key', randomBytes(32).toString('hex')],
  cookieName: SEALED_COOKIE,
  login: (url, user) => cookieLogin(url, user, SEALED_COOKIE),
  lifecycle: cookieLifecycle(SEALED_COOKIE),
  async micro() {
    // The server's own app and key, so the timed path is the one a request takes.
    const server = await createServer({ ...DEFAULT_CONFIG, strategy: 'cookie', users: 1, hashCost: 4 }, { usersCache: false })
    const app = server.fastify!
    await app.ready()
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
}
