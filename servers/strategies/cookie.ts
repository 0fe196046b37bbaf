import { randomBytes } from 'node:crypto'
import secureSession from '@fastify/secure-session'
import type { FastifyRequest } from 'fastify'
import { readCookie } from '../credentials.ts'
import { ConfigError } from '../../common/errors.ts'
import type { HttpRequest } from '../types.ts'
import type { StrategyFactory } from './factory.ts'
import { renewalIntervalMs } from './session.ts'

export const SEALED_COOKIE = 'session'
const KEY_BYTES = 32

declare module '@fastify/secure-session' {
  interface SessionData {
    /** User id, username, created at and last seen at (ms): the whole session, in the cookie. */
    uid: number
    name: string
    c: number
    s: number
  }
}

/** The plugin's session on the request: this strategy runs on Fastify only (its `register`), so the request is Fastify's. */
const sessionOf = (req: HttpRequest) => (req as FastifyRequest).session

function sealingKey(hex: string | undefined): Buffer {
  if (hex === undefined) return randomBytes(KEY_BYTES)
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== KEY_BYTES * 2) {
    throw new ConfigError(`--cookie-key must be ${KEY_BYTES} bytes of hex (${KEY_BYTES * 2} hex digits)`)
  }
  return Buffer.from(hex, 'hex')
}

/**
 * A stateless session: the whole session sealed (XSalsa20-Poly1305, authenticated encryption)
 * in an HttpOnly cookie by @fastify/secure-session. No store is read to identify the caller;
 * idle and absolute expiry are checked here against the sealed timestamps, and the cookie is
 * re-sealed at most once a minute (a quarter of a shorter idle timeout) to move the idle deadline. Logout clears the client's cookie
 * but cannot revoke a copy of it: that copy works until it expires.
 */
export const createCookieStrategy: StrategyFactory = async ({ clock, settings }, config) => {
  const key = sealingKey(config.cookieKey)
  const idleMs = settings.sessionIdleTtlSeconds * 1000
  const absoluteMs = settings.sessionAbsoluteTtlSeconds * 1000
  const resealEveryMs = renewalIntervalMs(idleMs)

  return {
    kind: 'cookie',
    register(app) {
      app.register(secureSession, {
        key,
        cookieName: SEALED_COOKIE,
        // The library's own timestamp check, as a backstop to the absolute expiry checked below.
        expiry: settings.sessionAbsoluteTtlSeconds,
        cookie: { path: '/', httpOnly: true, secure: true, sameSite: 'lax' },
      })
    },
    async login(user, req) {
      const now = clock()
      // Nothing of a presented cookie survives a login.
      const session = sessionOf(req)
      session.regenerate()
      session.set('uid', user.id)
      session.set('name', user.username)
      session.set('c', now)
      session.set('s', now)
      return undefined
    },
    async identify(req) {
      const session = sessionOf(req)
      const uid = session.get('uid')
      const name = session.get('name')
      const created = session.get('c')
      const seen = session.get('s')
      if (typeof uid !== 'number' || typeof name !== 'string' || typeof created !== 'number' || typeof seen !== 'number') return null
      const now = clock()
      if (now - seen >= idleMs || now - created >= absoluteMs) return null
      // Re-sealed on the way out (a Set-Cookie), never written anywhere server-side.
      if (now - seen >= resealEveryMs) session.set('s', now)
      return { id: uid, username: name }
    },
    async logout(req) {
      const session = sessionOf(req)
      if (typeof session.get('uid') !== 'number') return false
      session.delete()
      return true
    },
    presented: (req) => readCookie(req.headers.cookie, SEALED_COOKIE) !== null,
  }
}
