import type { SessionCacheConfig } from './session-cache.ts'
import type { Alg, EngineKind, Framework, KeyForm, Preset, Revocation, SessionLibrary, StoreKind, StrategyKind } from './types.ts'

/** One server's configuration; the CLI flags map onto it one to one (see README). */
export interface ServerConfig {
  strategy: StrategyKind
  /** The HTTP framework the routes run on: Fastify (the default) or Express 5; the same answers on each. */
  framework: Framework
  store: StoreKind
  /** Session strategy: the code behind it, the reference (`authbench`, the default) or a library as teams ship it. */
  sessionLibrary: SessionLibrary
  /** A library session: its README's configuration (`defaults`) or its maintainers' advice against per-request writes (`tuned`, the default). */
  preset: Preset
  /** A library session: the secret that signs its cookie (every instance of a cell shares one); random per start when absent. */
  sessionSecret?: string | undefined
  alg: Alg
  engine: EngineKind
  /** How the engine is handed its key, for an engine that takes either (jsonwebtoken): a string or a KeyObject. */
  keyForm: KeyForm
  /** Entries in the engine's verified-token cache (fast-jwt's `cache`, in fast-jwt and @fastify/jwt), 0 = off. */
  verifyCache: number
  revocation: Revocation
  /** Session strategy: an in-process LRU of sessions in front of the store (`--session-cache`, `--session-cache-ttl`); null = off. */
  sessionCache: SessionCacheConfig | null
  /** Where the store is, for a store reached at an address: the value of its address flag (`address` in `stores/index.ts`). */
  storeUrl?: string | undefined
  /**
   * How long a store reached at an address (Redis, PostgreSQL) may take to answer before the request
   * fails closed (503); the store's own default (500 ms) when absent. Only the instruction counter
   * sets it: under valgrind the server runs some fifty times slower and every answer would time out.
   */
  storeTimeoutMs?: number | undefined
  /** SQLite file; a fresh temporary file (removed on close) when absent. */
  db?: string | undefined
  jwtSecret?: string | undefined
  keyFile?: string | undefined
  /** Cookie strategy: the 32-byte sealing key, hex; random per start when absent. */
  cookieKey?: string | undefined
  accessTtlSeconds: number
  refreshTtlSeconds: number
  sessionIdleTtlSeconds: number
  sessionAbsoluteTtlSeconds: number
  /** Seconds after a refresh token's first use during which it may be presented again (a concurrent refresh); 0 = none. */
  refreshGraceSeconds: number
  users: number
  hashCost: number
  /** Count the statements SQLite reports executing (verification servers only: it costs every statement a call). */
  traceSql?: boolean
  /** A known cost added to every request (`AppOptions.calibrate`): for checking the harness's measuring only. */
  calibrate?: { burnUs: number; waitMs: number }
}
