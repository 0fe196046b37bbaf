import { newSessionId, readCookie, SESSION_COOKIE } from '../../../servers/credentials.ts'
import { repeat } from '../../repeat.ts'
import { cookieLifecycle, cookieLogin } from './login.ts'
import type { StrategyRunner } from './runner.ts'

/** A session id in a cookie: logged in by the cookie the login sets. */
export const sessionRunner: StrategyRunner = {
  kind: 'session',
  serverArgs: (c) =>
    c.sessionCache ? ['--session-cache', String(c.sessionCache.entries), '--session-cache-ttl', String(c.sessionCache.ttlSeconds)] : [],
  sharedKeyArgs: () => [],
  cookieName: SESSION_COOKIE,
  login: (url, user) => cookieLogin(url, user, SESSION_COOKIE),
  lifecycle: cookieLifecycle(SESSION_COOKIE),
  async micro() {
    const cookieHeader = `theme=dark; _ga=GA1.2.1234567890.1700000000; ${SESSION_COOKIE}=${newSessionId()}; lang=en`
    return {
      tasks: [
        {
          id: 'session-id',
          name: 'session id generation (32 random bytes, base64url)',
          group: 'session',
          batch: 10,
          fn: repeat(10, newSessionId),
        },
        {
          id: 'parse:cookie',
          name: 'cookie parsing (sid among 4 cookies)',
          group: 'parsing',
          batch: 100,
          fn: repeat(100, () => readCookie(cookieHeader, SESSION_COOKIE)),
        },
      ],
      close: async () => {},
    }
  },
}
