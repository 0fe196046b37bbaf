// How each session library is configured, per preset and store: the options the server hands the library and its
// store adapter, and the same settings in words for the results. One table, so what a run records is what it ran.
import { type Preset, SESSION_LIBRARY_SUPPORT, type SessionLibrary, type StoreKind } from './kinds.ts'

type Library = Exclude<SessionLibrary, 'authbench'>

/** One setting a library cell runs with that its README's configuration does not have, or a default kept on purpose. */
interface LibrarySetting {
  /** Whose option it is and its name, e.g. `express-session resave`, `connect-redis disableTouch`. */
  setting: string
  /** Its value as written in the options, e.g. `false`. */
  value: string
  /**
   * `plain-http`: what serving plain HTTP as behind a TLS-terminating proxy needs; `cookie`: the cookie a careful team
   * sets in either preset; `tuned`: the maintainers' advice against a store write per request; `default`: a default
   * the README leaves as it is, kept (the defaults preset), with what the library says of it.
   */
  kind: 'plain-http' | 'cookie' | 'tuned' | 'default'
  why: string
}

/** A library cell's whole configuration. */
export interface LibraryConfig {
  library: Library
  preset: Preset
  store: StoreKind
  /** The cookie the library sets (its own default name), which the harness's clients present. */
  cookieName: string
  /** The package that keeps the sessions in the store: the adapter teams install, or the library's own memory store. */
  adapter: string
  /** What the adapter offers against a write per request, in words. */
  adapterOffers: string
  /** The options handed to the library besides its store and secret. */
  sessionOptions: Record<string, unknown>
  /** The options handed to the adapter besides its client. */
  adapterOptions: Record<string, unknown>
  settings: LibrarySetting[]
}

const ADAPTERS: Record<StoreKind, { package: string; offers: string; touchOption: string | null } | null> = {
  redis: {
    package: 'connect-redis',
    offers: 'disableTouch: true stops the EXPIRE a touch sends (the key then keeps the TTL of its last SET)',
    touchOption: 'disableTouch',
  },
  postgres: {
    package: 'connect-pg-simple',
    offers: 'disableTouch: true stops the UPDATE of the expiry a touch sends',
    touchOption: 'disableTouch',
  },
  sqlite: {
    package: 'better-sqlite3-session-store',
    offers: 'no option: every touch is an UPDATE of the expiry (a prepared statement per call)',
    touchOption: null,
  },
  memory: null,
  'redis-cluster': null,
}

const MEMORY_STORE: Record<Library, { package: string; offers: string }> = {
  'express-session': { package: 'express-session MemoryStore', offers: 'no option: every touch rewrites the session in the map' },
  'fastify-session': { package: '@fastify/session MemoryStore', offers: 'no touch: only a save writes' },
}

/** The cookie as a careful team sets it (HttpOnly is both libraries' default), its lifetime the server's idle timeout. */
const cookieOptions = (idleSeconds: number) => ({ httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: idleSeconds * 1000 })

const cookieSettings = (library: Library, idleSeconds: number): LibrarySetting[] => [
  { setting: `${library} cookie.secure`, value: 'true', kind: 'cookie', why: 'sent over HTTPS only' },
  { setting: `${library} cookie.sameSite`, value: "'lax'", kind: 'cookie', why: 'not sent on cross-site subrequests' },
  {
    setting: `${library} cookie.maxAge`,
    value: String(idleSeconds * 1000),
    kind: 'cookie',
    why: "the server's idle timeout (--session-idle-ttl), so a session and its store entry end as the reference session's do",
  },
]

const PLAIN_HTTP: Record<Library, LibrarySetting> = {
  'express-session': {
    setting: "Express app.set('trust proxy', 1)",
    value: '1',
    kind: 'plain-http',
    why:
      'the benchmark speaks plain HTTP as a server behind a TLS-terminating proxy: the server trusts X-Forwarded-Proto: https ' +
      '(every client sends it), or express-session would not send its Secure cookie',
  },
  'fastify-session': {
    setting: 'Fastify trustProxy',
    value: 'true',
    kind: 'plain-http',
    why:
      'the benchmark speaks plain HTTP as a server behind a TLS-terminating proxy: the server trusts X-Forwarded-Proto: https ' +
      '(every client sends it), or @fastify/session would neither save the session nor send its Secure cookie',
  },
}

/** A library cell's configuration: what the server hands the library and its adapter, and the same in words. */
export function libraryConfig(library: Library, preset: Preset, store: StoreKind, idleSeconds: number): LibraryConfig {
  const adapter = ADAPTERS[store]
  const own = MEMORY_STORE[library]
  const settings: LibrarySetting[] = [PLAIN_HTTP[library], ...cookieSettings(library, idleSeconds)]
  const sessionOptions: Record<string, unknown> = { cookie: cookieOptions(idleSeconds) }
  const adapterOptions: Record<string, unknown> = {}
  if (library === 'express-session') {
    if (preset === 'tuned') {
      Object.assign(sessionOptions, { resave: false, saveUninitialized: false })
      settings.push(
        { setting: 'express-session resave', value: 'false', kind: 'tuned', why: 'an unmodified session is not saved back' },
        { setting: 'express-session saveUninitialized', value: 'false', kind: 'tuned', why: 'a visitor without a login stores nothing' },
      )
    } else
      settings.push(
        {
          setting: 'express-session resave',
          value: 'true (its default, unset)',
          kind: 'default',
          why: 'every request saves the session; the library warns "undefined resave option; provide resave option"',
        },
        {
          setting: 'express-session saveUninitialized',
          value: 'true (its default, unset)',
          kind: 'default',
          why:
            'every visitor without a session gets one saved; ' +
            'the library warns "undefined saveUninitialized option; provide saveUninitialized option"',
        },
      )
  } else if (preset === 'tuned') {
    Object.assign(sessionOptions, { saveUninitialized: false, rolling: false })
    settings.push(
      { setting: '@fastify/session saveUninitialized', value: 'false', kind: 'tuned', why: 'a visitor without a login stores nothing' },
      {
        setting: '@fastify/session rolling',
        value: 'false',
        kind: 'tuned',
        why: 'an unmodified session is not saved (nor its cookie sent) on every answer',
      },
    )
  } else
    settings.push(
      {
        setting: '@fastify/session rolling',
        value: 'true (its default)',
        kind: 'default',
        why: 'every answer saves the session and sends its cookie again',
      },
      {
        setting: '@fastify/session saveUninitialized',
        value: 'true (its default)',
        kind: 'default',
        why: 'every visitor without a session gets one saved',
      },
    )
  // A touch is express-session's: @fastify/session never calls one.
  if (preset === 'tuned' && library === 'express-session' && adapter?.touchOption) {
    adapterOptions[adapter.touchOption] = true
    settings.push({
      setting: `${adapter.package} ${adapter.touchOption}`,
      value: 'true',
      kind: 'tuned',
      why: `the maintainers' advice with resave: false: ${adapter.offers}`,
    })
  }
  return {
    library,
    preset,
    store,
    cookieName: SESSION_LIBRARY_SUPPORT[library].cookieName,
    adapter: adapter?.package ?? own.package,
    adapterOffers: adapter?.offers ?? own.offers,
    sessionOptions,
    adapterOptions,
    settings,
  }
}
