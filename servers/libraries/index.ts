import { randomBytes } from 'node:crypto'
import session from 'express-session'
import { ConfigError } from '../../common/errors.ts'
import type { SessionLibrary } from '../../common/kinds.ts'
import { type LibraryConfig, libraryConfig } from '../../common/session-libraries.ts'
import type { ServerConfig } from '../config.ts'
import type { Counters } from '../counters.ts'
import type { Strategy } from '../types.ts'
import { expressSessionStrategy } from './express-session.ts'
import { fastifySessionBase, fastifySessionStrategy } from './fastify-session.ts'
import { openLibraryStore, type OpenedLibraryStore, type StoreBase } from './stores.ts'

type Library = Exclude<SessionLibrary, 'authbench'>

/** Each library: the store base its adapters extend (and its own memory store), and how its strategy is made. */
const libraries = {
  'express-session': { base: session as unknown as StoreBase, strategy: expressSessionStrategy },
  'fastify-session': { base: fastifySessionBase as unknown as StoreBase, strategy: fastifySessionStrategy },
} satisfies Record<
  Library,
  { base: StoreBase; strategy: (c: LibraryConfig, o: OpenedLibraryStore, secret: string, clear: string) => Strategy }
>

/** The secret that signs the library's cookie: every instance of a cell shares one (`--session-secret`); random per start when absent. */
function secretOf(given: string | undefined): string {
  if (given === undefined) return randomBytes(32).toString('hex')
  if (given.length < 32) throw new ConfigError('--session-secret must be at least 32 characters (@fastify/session refuses shorter)')
  return given
}

/**
 * A library session: its store adapter opened (and counted) and the library wired as its README shows, with the
 * preset's options; the same routes and answers as the reference session.
 */
export async function createLibrarySession(
  library: Library,
  config: ServerConfig,
  ctx: { counters: Counters; dbPath: string; trace?: ((sql: string) => void) | undefined; keyPrefix?: string | undefined },
): Promise<Strategy> {
  const c = libraryConfig(library, config.preset, config.store, config.sessionIdleTtlSeconds)
  const secret = secretOf(config.sessionSecret)
  const { base, strategy } = libraries[library]
  const opened = await openLibraryStore({
    config: c,
    base,
    counters: ctx.counters,
    url: config.storeUrl,
    dbPath: ctx.dbPath,
    trace: ctx.trace,
    keyPrefix: ctx.keyPrefix,
    timeoutMs: config.storeTimeoutMs,
  })
  const clearCookie = `${c.cookieName}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`
  return strategy(c, opened, secret, clearCookie)
}
