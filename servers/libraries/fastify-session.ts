import type { FastifyPluginCallback, FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySessionPlugin from '@fastify/session'
import type { LibraryConfig } from '../../common/session-libraries.ts'
import { readCookie } from '../credentials.ts'
import type { HttpRequest, Strategy } from '../types.ts'
import type { OpenedLibraryStore } from './stores.ts'

/** The part of @fastify/session's request session this strategy uses. */
interface PluginSession {
  get(key: string): unknown
  set(key: string, value: unknown): void
  regenerate(): Promise<void>
  destroy(): Promise<void>
}

// Its Store and MemoryStore hang off the plugin function, which its types do not say.
const fastifySession = fastifySessionPlugin as unknown as FastifyPluginCallback<Record<string, unknown>> & {
  Store: new () => object
  MemoryStore: new () => object
}
export const fastifySessionBase = fastifySession

const sessionOf = (req: HttpRequest) => (req as unknown as FastifyRequest & { session: PluginSession | null }).session

/**
 * @fastify/session with @fastify/cookie as their READMEs register them (its own cookie name), on the adapter teams
 * install for the cell's store (connect-redis's store object works as it is), with the preset's options; login
 * regenerates the session (no fixation), logout destroys it.
 */
export function fastifySessionStrategy(config: LibraryConfig, opened: OpenedLibraryStore, secret: string, clearCookie: string): Strategy {
  return {
    kind: 'session',
    trustProxy: true,
    register(app) {
      app.register(fastifyCookie)
      app.register(fastifySession, { store: opened.store, secret, ...config.sessionOptions })
    },
    async login(user, req) {
      await sessionOf(req)!.regenerate()
      // regenerate() replaced the request's session: set the user on the new one, which the library saves as the answer goes.
      const s = sessionOf(req)!
      s.set('userId', user.id)
      s.set('username', user.username)
      return undefined
    },
    async identify(req) {
      const s = sessionOf(req)
      const id = s?.get('userId')
      return typeof id === 'number' ? { id, username: s!.get('username') as string } : null
    },
    async logout(req, reply) {
      const s = sessionOf(req)
      if (typeof s?.get('userId') !== 'number') return false
      await s!.destroy()
      reply.header('set-cookie', clearCookie)
      return true
    },
    challenge: () => `Cookie realm="authbench", cookie-name="${config.cookieName}"`,
    presented: (req) => readCookie(req.headers.cookie, config.cookieName) !== null,
    close: opened.close,
  }
}
