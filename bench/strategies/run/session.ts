import { randomBytes } from 'node:crypto'
import { SESSION_LIBRARY_SUPPORT, type SessionLibrary } from '../../../common/kinds.ts'
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

/** What a client of a library session sends with every request: its servers stand behind a TLS-terminating proxy. */
const LIBRARY_REQUEST_HEADERS = { 'x-forwarded-proto': 'https' } as const

/**
 * A library session (`sessionLibrary`): its servers told the library and preset (and one cookie secret every instance
 * shares), logged in by the library's own cookie, every request sent as through a TLS-terminating proxy.
 */
export function librarySessionRunner(library: Exclude<SessionLibrary, 'authbench'>): StrategyRunner {
  const name = SESSION_LIBRARY_SUPPORT[library].cookieName
  const headers = { ...LIBRARY_REQUEST_HEADERS }
  return {
    kind: 'session',
    serverArgs: (c) => ['--session-library', library, '--preset', c.preset!],
    sharedKeyArgs: () => ['--session-secret', randomBytes(32).toString('hex')],
    requestHeaders: headers,
    cookieName: name,
    login: (url, user) => cookieLogin(url, user, name, headers),
    lifecycle: cookieLifecycle(name, headers),
  }
}
