import type { IncomingHttpHeaders } from 'node:http'
import type { Express } from 'express'
import type { FastifyInstance } from 'fastify'
import type { Counters } from './counters.ts'

export type { Alg, EngineKind, Framework, KeyForm, Preset, Revocation, SessionLibrary, StoreKind, StrategyKind } from '../common/kinds.ts'
export { ALGS, ENGINES, FRAMEWORKS, KEY_FORMS, REVOCATIONS, STORES, STRATEGIES } from '../common/kinds.ts'
import type { StoreKind, StrategyKind } from '../common/kinds.ts'

/** Milliseconds since the epoch; injected so expiry is tested without sleeping. */
export type Clock = () => number

export interface SessionRecord {
  id: string
  userId: number
  username: string
  createdAt: number
  lastSeenAt: number
}

/**
 * Result of consuming a refresh token's server-side record: `ok` (it was unused, now used),
 * `grace` (already used, but within the grace window after its first use: a concurrent refresh,
 * not a theft), `reused` (used before the window: reuse detected), `unknown` (absent or expired).
 */
export type ConsumeResult = 'ok' | 'grace' | 'reused' | 'unknown'

/**
 * How a server is told where a store reached at an address is: the store's own file declares it,
 * and the server's flags, their environment variables and their checks are made from it.
 */
export interface StoreAddress {
  /** The flag that takes it, without its dashes, e.g. `redis-url` (`npm run bench` takes the same one). */
  flag: string
  /** The environment variable read when the flag is absent, e.g. `REDIS_URL`. */
  env: string
  /** What a value must match. */
  pattern: RegExp
  /** What it must look like, in the words of the error, e.g. `redis://host:port`. */
  looksLike: string
}

/**
 * Where session, refresh-token and denylist state lives. Methods may answer synchronously
 * (SQLite, memory) or with a promise (Redis); callers always `await`. Every method counts the
 * store operations it performs, and throws StoreUnavailableError when the store cannot answer.
 */
export interface StateStore {
  readonly kind: StoreKind
  readonly counters: Counters
  createSession(s: SessionRecord, ttlMs: number): void | Promise<void>
  getSession(id: string): SessionRecord | null | Promise<SessionRecord | null>
  touchSession(s: SessionRecord, ttlMs: number): void | Promise<void>
  deleteSession(id: string): void | Promise<void>
  /**
   * Records a newly issued refresh token as unused; false (nothing usable recorded) when its family
   * has been revoked meanwhile, so a rotation racing a revocation cannot outlive it.
   */
  putRefresh(jti: string, family: string, expiresAt: number): boolean | Promise<boolean>
  /**
   * Atomically marks an unused refresh token of `family` used at `now` (the family keeps a
   * clustered store's keys of one token family on one slot). A used one answers `grace` when its
   * first use was at most `graceMs` ago (the first use's time is kept, never moved), else `reused`.
   */
  consumeRefresh(jti: string, family: string, now: number, graceMs: number): ConsumeResult | Promise<ConsumeResult>
  /** Revokes every token of a family, and the family itself: later tokens of it are never recorded. */
  revokeFamily(family: string): void | Promise<void>
  deny(jti: string, expiresAt: number): void | Promise<void>
  isDenied(jti: string, now: number): boolean | Promise<boolean>
  /**
   * Removes state whose expiry has passed (housekeeping, not counted as request operations);
   * stores with their own expiry (Redis TTLs) do nothing. Run by the server on a timer.
   */
  purgeExpired(now: number): void | Promise<void>
  /** How much state the store holds now (live and not yet purged), for tests and reports. */
  size(now: number): StoreSize | Promise<StoreSize>
  close(): Promise<void>
}

interface StoreSize {
  sessions: number
  refreshTokens: number
  denied: number
}

export interface Identity {
  id: number
  username: string
}

interface Settings {
  accessTtlSeconds: number
  refreshTtlSeconds: number
  sessionIdleTtlSeconds: number
  sessionAbsoluteTtlSeconds: number
  /** Seconds after a refresh token's first use during which presenting it again is a concurrent refresh, not reuse. */
  refreshGraceSeconds: number
}

export interface StrategyContext {
  store: StateStore
  clock: Clock
  settings: Settings
}

/**
 * What a strategy reads of a request, whichever framework serves it: FastifyRequest and Express's
 * Request both have this shape, so neither is wrapped.
 */
export interface HttpRequest {
  readonly headers: IncomingHttpHeaders
  /** The parsed body (JSON or text), undefined when none was sent. */
  readonly body?: unknown
}

/**
 * What a strategy does to an answer: its status, a header, its body. FastifyReply has this shape, so the
 * Fastify app hands its own reply over unwrapped; the Express app hands a small object that writes to its response.
 */
export interface HttpReply {
  code(status: number): HttpReply
  header(name: string, value: string): HttpReply
  /** Decides the answer: the strategy returns what this returns, and the app sends nothing more. */
  send(body?: unknown): HttpReply
}

/**
 * One authentication strategy: how a login is answered and how a request is identified.
 * `identify` returns null for any missing or invalid credential (the app answers 401).
 */
export interface Strategy {
  readonly kind: StrategyKind
  login(user: Identity, req: HttpRequest, reply: HttpReply): Promise<unknown>
  identify(req: HttpRequest): Promise<Identity | null>
  /** Ends the presented credential; false when none valid was presented (401). */
  logout(req: HttpRequest, reply: HttpReply): Promise<boolean>
  /** JWT only; other strategies answer 404. */
  refresh?(req: HttpRequest, reply: HttpReply): Promise<unknown>
  /** JWT with an asymmetric algorithm only. */
  jwks?(): unknown
  /** The challenge sent with a 401 (`WWW-Authenticate`), given whether a credential was presented. */
  challenge?(presented: boolean): string
  /** True when the request carries a credential of this strategy's kind. */
  presented(req: HttpRequest): boolean
  /**
   * Registers what the strategy runs on (e.g. a cookie-sealing plugin) before the routes. A Fastify plugin: a strategy
   * that has one runs on Fastify only (the Express app refuses it).
   */
  register?(app: FastifyInstance): void
  /** Registers what the strategy runs on as Express middleware (a library session's), before the routes: it runs on Express only. */
  useExpress?(app: Express): void
  /**
   * The server trusts `X-Forwarded-Proto` from the client, as behind a TLS-terminating proxy (Fastify's `trustProxy`,
   * Express's `trust proxy`): a library that sends its Secure cookie only over HTTPS then sends it over the benchmark's plain HTTP.
   */
  trustProxy?: boolean
  /** Closes what the strategy opened itself (a library session's store client). */
  close?(): Promise<void>
}
