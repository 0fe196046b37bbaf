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

export const STRATEGIES = ['none', 'session', 'jwt', 'cookie'] as const satisfies readonly StrategyKind[]
export const STORES = ['sqlite', 'redis', 'redis-cluster', 'postgres', 'memory'] as const satisfies readonly StoreKind[]
export const ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const satisfies readonly Alg[]
export const ENGINES = ['jose', 'fast-jwt', 'jsonwebtoken', 'fastify-jwt'] as const satisfies readonly EngineKind[]
export const KEY_FORMS = ['string', 'keyobject'] as const satisfies readonly KeyForm[]
export const REVOCATIONS = ['none', 'denylist'] as const satisfies readonly Revocation[]
export const FRAMEWORKS = ['fastify', 'express'] as const satisfies readonly Framework[]

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
