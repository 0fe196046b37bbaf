// The names of every registry's entries, read by the servers and the harness alike (the scenario
// schema, results, the registries' `satisfies Record<Kind, ...>`); nothing here imports anything.

export type StrategyKind = 'none' | 'session' | 'jwt' | 'cookie'
export type StoreKind = 'sqlite' | 'redis' | 'redis-cluster' | 'postgres' | 'memory'
export type Alg = 'HS256' | 'RS256' | 'ES256' | 'EdDSA'
export type EngineKind = 'jose' | 'fast-jwt' | 'jsonwebtoken' | 'fastify-jwt'
/** How an engine that takes either is handed its key: the secret or PEM as a string (as most code passes it), or a KeyObject. */
export type KeyForm = 'string' | 'keyobject'
export type Revocation = 'none' | 'denylist'
/** The HTTP framework a server runs on; the same routes, answers, counters and metrics on each. */
export type Framework = 'fastify' | 'express'
/** The code behind a session: this benchmark's own (`authbench`) or a library as teams ship it. */
export type SessionLibrary = 'authbench' | 'fastify-session' | 'express-session'
/** A library session configured as its README shows (`defaults`) or as its maintainers recommend against per-request writes (`tuned`). */
export type Preset = 'defaults' | 'tuned'

export const STRATEGIES = ['none', 'session', 'jwt', 'cookie'] as const satisfies readonly StrategyKind[]
export const STORES = ['sqlite', 'redis', 'redis-cluster', 'postgres', 'memory'] as const satisfies readonly StoreKind[]
export const ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const satisfies readonly Alg[]
export const ENGINES = ['jose', 'fast-jwt', 'jsonwebtoken', 'fastify-jwt'] as const satisfies readonly EngineKind[]
export const KEY_FORMS = ['string', 'keyobject'] as const satisfies readonly KeyForm[]
export const REVOCATIONS = ['none', 'denylist'] as const satisfies readonly Revocation[]
export const FRAMEWORKS = ['fastify', 'express'] as const satisfies readonly Framework[]
export const SESSION_LIBRARIES = ['authbench', 'fastify-session', 'express-session'] as const satisfies readonly SessionLibrary[]
export const PRESETS = ['defaults', 'tuned'] as const satisfies readonly Preset[]

/**
 * What each engine can do, for the scenario schema and the server's flags alike: the algorithms it
 * signs (jsonwebtoken has no EdDSA), the key forms it takes (null: its key form is not an axis),
 * whether it has a verified-token cache to switch on (fast-jwt's, which @fastify/jwt hands its options to)
 * and the frameworks it runs on (@fastify/jwt is a Fastify plugin).
 */
export const ENGINE_SUPPORT = {
  jose: { algs: ALGS, keyForms: null, verifyCache: false, frameworks: FRAMEWORKS },
  'fast-jwt': { algs: ALGS, keyForms: null, verifyCache: true, frameworks: FRAMEWORKS },
  jsonwebtoken: { algs: ['HS256', 'RS256', 'ES256'], keyForms: KEY_FORMS, verifyCache: false, frameworks: FRAMEWORKS },
  'fastify-jwt': { algs: ALGS, keyForms: null, verifyCache: true, frameworks: ['fastify'] },
} as const satisfies Record<
  EngineKind,
  { algs: readonly Alg[]; keyForms: readonly KeyForm[] | null; verifyCache: boolean; frameworks: readonly Framework[] }
>

/** Whether an engine runs on a framework (@fastify/jwt on Fastify only). */
export const engineRunsOn = (engine: EngineKind, framework: Framework): boolean =>
  (ENGINE_SUPPORT[engine].frameworks as readonly Framework[]).includes(framework)

/** The key form a cell or a server of an engine that takes one uses when none is named. */
export const DEFAULT_KEY_FORM: KeyForm = 'keyobject'

/** The store a cell or a server uses when none is named: SQLite, in the server's own process, needs nothing installed. */
export const DEFAULT_STORE: StoreKind = 'sqlite'

/** The framework a cell or a server runs on when none is named. */
export const DEFAULT_FRAMEWORK: Framework = 'fastify'

/** Strategies that run on Fastify only: the sealed cookie is @fastify/secure-session, a Fastify plugin. */
export const FASTIFY_ONLY: readonly StrategyKind[] = ['cookie']

/** The session code a cell or a server uses when none is named: the reference session written for this benchmark. */
export const DEFAULT_SESSION_LIBRARY: SessionLibrary = 'authbench'

/** The preset a library session uses when none is named. */
export const DEFAULT_PRESET: Preset = 'tuned'

/**
 * What each session library runs on, for the scenario schema and the server's flags alike: its framework
 * (@fastify/session is a Fastify plugin, express-session Express middleware), the stores it has an adapter
 * for (a Redis Cluster has none here), and the cookie it sets (the harness's clients present that one).
 */
export const SESSION_LIBRARY_SUPPORT = {
  authbench: { frameworks: FRAMEWORKS, stores: STORES, cookieName: 'sid' },
  'fastify-session': { frameworks: ['fastify'], stores: ['redis', 'postgres', 'sqlite', 'memory'], cookieName: 'sessionId' },
  'express-session': { frameworks: ['express'], stores: ['redis', 'postgres', 'sqlite', 'memory'], cookieName: 'connect.sid' },
} as const satisfies Record<SessionLibrary, { frameworks: readonly Framework[]; stores: readonly StoreKind[]; cookieName: string }>

/** Whether a session is a library's (not the reference session). */
export const isLibrary = (library: SessionLibrary | null | undefined): library is Exclude<SessionLibrary, 'authbench'> =>
  library !== null && library !== undefined && library !== DEFAULT_SESSION_LIBRARY

/** Whether a session library runs on a framework. */
export const libraryRunsOn = (library: SessionLibrary, framework: Framework): boolean =>
  (SESSION_LIBRARY_SUPPORT[library].frameworks as readonly Framework[]).includes(framework)

/** Whether a session library has an adapter for a store. */
export const libraryHasStore = (library: SessionLibrary, store: StoreKind): boolean =>
  (SESSION_LIBRARY_SUPPORT[library].stores as readonly StoreKind[]).includes(store)
