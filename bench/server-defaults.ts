// What the page and the model state about the servers' own settings, kept here so that rendering
// a report or a simulation loads no server code; test/unit/server-defaults.test.ts holds each
// equal to the servers' value (servers/server.ts, servers/strategies/session.ts, servers/stores/redis.ts).

/** The servers' default lifetimes (`DEFAULT_CONFIG`), seconds. */
export const SERVER_DEFAULTS = {
  /** A JWT access token's lifetime. */
  accessTtlSeconds: 900,
  /** A session's (and a sealed cookie's) idle timeout. */
  sessionIdleTtlSeconds: 1800,
  /** A session's (and a sealed cookie's) absolute deadline after login. */
  sessionAbsoluteTtlSeconds: 43_200,
} as const

/** Idle-timeout renewal writes at most this often per session. */
export const TOUCH_INTERVAL_MS = 60_000

/** How often an active session's idle deadline is moved (once a minute, or every quarter of a shorter idle timeout). */
export const renewalIntervalMs = (idleMs: number): number => Math.min(TOUCH_INTERVAL_MS, idleMs / 4)

/** At most one renewal per user per interval: a user sending q requests in an interval writes at most once in q requests. */
export const renewalWritesPerRequest = (requestsPerUserPerInterval: number): number =>
  Math.min(1, 1 / Math.max(1, requestsPerUserPerInterval))

/**
 * A Redis command (or a PostgreSQL statement) that has not answered in this long fails, and the
 * request with it (fail closed). The server's `--store-timeout-ms` changes it; only the instruction
 * counter and a smoke run (which measures nothing) pass that flag, so no measured run does.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500

/** A smoke run's store timeout: ten times the servers' own, so a machine busy with other work does not fail a run that measures nothing. */
export const SMOKE_STORE_TIMEOUT_MS = 10 * REDIS_COMMAND_TIMEOUT_MS

/** The store timeout a run's servers had: the servers' own, or a smoke run's. */
export const storeTimeoutMsOf = (smoke: boolean): number => (smoke ? SMOKE_STORE_TIMEOUT_MS : REDIS_COMMAND_TIMEOUT_MS)

/** A smoke run's closed-loop window (s): thousands of requests at 20 connections on a quiet machine, hundreds on a busy one. */
export const SMOKE_WINDOW_SECONDS = 0.3
