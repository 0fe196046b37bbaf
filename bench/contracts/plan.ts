// The cell plan: what one cell of a scenario is, as every stage of the harness sees it.
// Contracts import nothing from the harness (only the servers' kinds and each other).
import type {
  Alg,
  EngineKind,
  Framework,
  KeyForm,
  Preset,
  Revocation,
  SessionLibrary,
  StoreKind,
  StrategyKind,
} from '../../servers/types.ts'
import type { Balance, Balancer, RuntimeKind, WorkloadRoute } from './scenario.ts'

/** The cell axes a strategy may take (besides `instances`, which every strategy takes). */
export const AXES = [
  'store',
  'alg',
  'engine',
  'keyForm',
  'verifyCache',
  'revocation',
  'accessTtlSeconds',
  'refreshGraceSeconds',
  'refreshJitterSeconds',
  'storeRttMs',
] as const

export type Axis = (typeof AXES)[number]

/** A session cell's in-process LRU in front of its store: `entries` sessions, each served `ttlSeconds` from the read that filled it. */
export interface SessionCacheSpec {
  entries: number
  ttlSeconds: number
}

/** One fully specified cell: axes its strategy does not take are null. */
export interface CellPlan {
  id: string
  strategy: StrategyKind
  store: StoreKind | null
  alg: Alg | null
  engine: EngineKind | null
  /** How the engine is handed its key (`string` or `keyobject`); null for an engine whose key form is not an axis (all but jsonwebtoken). */
  keyForm: KeyForm | null
  /** Entries in the engine's verified-token cache (0: off); null for an engine without one (all but fast-jwt and fastify-jwt). */
  verifyCache: number | null
  revocation: Revocation | null
  /** Lifetime of the credential the client holds (JWT access token; sealed cookie's idle timeout), seconds. */
  accessTtlSeconds: number | null
  /** JWT: refresh-token grace window, seconds. */
  refreshGraceSeconds: number | null
  /** JWT, lifecycle: refresh jitter, seconds. */
  refreshJitterSeconds: number | null
  /** Round trip a delay proxy adds between the servers and Redis, ms (0: none); null for a strategy without a store. */
  storeRttMs: number | null
  instances: number
  /** What spreads the load over the instances: absent, the client's connections; `haproxy`, a real balancer in front. */
  balancer?: Balancer
  /** The balancer's choice of instance (with `balancer: 'haproxy'` only). */
  balance?: Balance
  /** The HTTP framework the servers run on; absent: `fastify`. */
  framework?: Framework
  /** A session cell's library as teams ship it (`fastify-session`, `express-session`); absent: the reference session (`authbench`). */
  sessionLibrary?: Exclude<SessionLibrary, 'authbench'>
  /** A library session's configuration: its README's (`defaults`) or its maintainers' advice (`tuned`); with `sessionLibrary` only. */
  preset?: Preset
  /** The reference session's in-process LRU (server `--session-cache`, `--session-cache-ttl`); absent: off. */
  sessionCache?: SessionCacheSpec
  /** The Node that runs the cell's servers; absent, the harness's own. */
  runtime?: RuntimeKind
  workload: WorkloadRoute
}

/** A cell as far as a descriptor cares: its axes and instance count. */
export type CellSpec = Pick<
  CellPlan,
  'strategy' | Axis | 'instances' | 'balancer' | 'balance' | 'framework' | 'runtime' | 'sessionLibrary' | 'preset' | 'sessionCache'
>
