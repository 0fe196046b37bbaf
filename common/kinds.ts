// The names of every registry's entries, read by the servers and the harness alike (the scenario
// schema, results, the registries' `satisfies Record<Kind, ...>`); nothing here imports anything.

export type StrategyKind = 'none' | 'session' | 'jwt' | 'cookie'
export type StoreKind = 'sqlite' | 'redis' | 'redis-cluster' | 'postgres' | 'memory'
export type Alg = 'HS256' | 'RS256' | 'ES256' | 'EdDSA'
export type EngineKind = 'jose' | 'fast-jwt'
export type Revocation = 'none' | 'denylist'

export const STRATEGIES = ['none', 'session', 'jwt', 'cookie'] as const satisfies readonly StrategyKind[]
export const STORES = ['sqlite', 'redis', 'redis-cluster', 'postgres', 'memory'] as const satisfies readonly StoreKind[]
export const ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const satisfies readonly Alg[]
export const ENGINES = ['jose', 'fast-jwt'] as const satisfies readonly EngineKind[]
export const REVOCATIONS = ['none', 'denylist'] as const satisfies readonly Revocation[]

/** The store a cell or a server uses when none is named: SQLite, in the server's own process, needs nothing installed. */
export const DEFAULT_STORE: StoreKind = 'sqlite'
