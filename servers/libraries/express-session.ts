import type { Request } from 'express'
import session from 'express-session'
import type { LibraryConfig } from '../../common/session-libraries.ts'
import { readCookie } from '../credentials.ts'
import type { HttpRequest, Strategy } from '../types.ts'
import type { OpenedLibraryStore } from './stores.ts'

declare module 'express-session' {
  interface SessionData {
    userId: number
    username: string
  }
}

/** express-session's session on the request: this strategy runs on Express only (its `useExpress`), so the request is Express's. */
const sessionOf = (req: HttpRequest) => (req as Request).session

const promised = (run: (cb: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => run((err) => (err ? reject(err) : resolve())))

/**
 * express-session as its README wires it (Express middleware, its own cookie name), on the adapter teams install for
 * the cell's store, with the preset's options; login regenerates the session (no fixation), logout destroys it.
 */
export function expressSessionStrategy(config: LibraryConfig, opened: OpenedLibraryStore, secret: string, clearCookie: string): Strategy {
  const middleware = session({ store: opened.store as unknown as session.Store, secret, ...config.sessionOptions })
  return {
    kind: 'session',
    trustProxy: true,
    useExpress(app) {
      app.use(middleware)
    },
    async login(user, req) {
      const r = req as Request
      await promised((cb) => r.session.regenerate(cb))
      r.session.userId = user.id
      r.session.username = user.username
      // Saved by the library as the answer ends, with its cookie.
      return undefined
    },
    async identify(req) {
      const s = sessionOf(req)
      return s?.userId === undefined || s.username === undefined ? null : { id: s.userId, username: s.username }
    },
    async logout(req, reply) {
      const s = sessionOf(req)
      if (s?.userId === undefined) return false
      await promised((cb) => s.destroy(cb))
      reply.header('set-cookie', clearCookie)
      return true
    },
    challenge: () => `Cookie realm="authbench", cookie-name="${config.cookieName}"`,
    presented: (req) => readCookie(req.headers.cookie, config.cookieName) !== null,
    close: opened.close,
  }
}
