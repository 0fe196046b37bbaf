import type { FastifyInstance } from 'fastify'
import { buildApp, fastifyHttpApp } from './app.ts'
import { buildExpressApp } from './express-app.ts'
import type { HttpApp } from './http.ts'
import { newCounters, type Counters } from './counters.ts'
import { openDatabase, sqlTracer } from './db.ts'
import { StoreUnavailableError } from '../common/errors.ts'
import { ServerMetrics } from './metrics.ts'
import { openStore } from './stores/index.ts'
import { strategies } from './strategies/index.ts'
import type { ServerConfig } from './config.ts'
import { DEFAULT_FRAMEWORK, DEFAULT_KEY_FORM, DEFAULT_PRESET, DEFAULT_SESSION_LIBRARY, DEFAULT_STORE, isLibrary } from '../common/kinds.ts'
import type { Clock, StateStore, Strategy } from './types.ts'
import { createLibrarySession } from './libraries/index.ts'
import { existsSync } from 'node:fs'
import { DEFAULT_HASH_COST, saveUsersCache, seedUsers, usersCachePath, Users } from './users.ts'

export type { ServerConfig } from './config.ts'

export const DEFAULT_CONFIG: Omit<ServerConfig, 'strategy'> = {
  framework: DEFAULT_FRAMEWORK,
  store: DEFAULT_STORE,
  sessionLibrary: DEFAULT_SESSION_LIBRARY,
  preset: DEFAULT_PRESET,
  alg: 'HS256',
  engine: 'jose',
  keyForm: DEFAULT_KEY_FORM,
  verifyCache: 0,
  revocation: 'none',
  sessionCache: null,
  accessTtlSeconds: 900,
  refreshTtlSeconds: 1_209_600,
  sessionIdleTtlSeconds: 1800,
  sessionAbsoluteTtlSeconds: 43_200,
  refreshGraceSeconds: 0,
  users: 1000,
  hashCost: DEFAULT_HASH_COST,
}

export interface ServerOptions {
  /** Injected time source (tests); the real clock when absent. */
  clock?: Clock
  /** Count and time every response for the harness. */
  metrics?: boolean
  /** Also count responses by route and status, and their time in the exported buckets, for `/metrics` (--metrics-port). */
  exportMetrics?: boolean
  /** Prefix for Redis keys, so tests can share one redis-server. */
  redisKeyPrefix?: string
  /** Start new databases from a cached copy of the seeded users (see usersCachePath). Default true. */
  usersCache?: boolean
  /** How often expired sessions, refresh tokens and denylist entries are purged. Default PURGE_INTERVAL_MS. */
  purgeIntervalMs?: number
}

/** Expired state is purged this often, so a long run holds only live state (Redis expires keys itself). */
const PURGE_INTERVAL_MS = 60_000

export interface Server {
  /** The app on its framework (`config.framework`): listen, inject, close. */
  app: HttpApp
  /** The Fastify app itself, on Fastify (a plugin's decorations, as the sealed cookie's); null on Express. */
  fastify: FastifyInstance | null
  /** The reference stores' state (null for a library session, whose adapter is its own). */
  store: StateStore | null
  users: Users
  counters: Counters
  metrics: ServerMetrics | null
  dbPath: string
  close(): Promise<void>
}

/** Opens the database, seeds users, connects the store, builds the strategy and the app. */
export async function createServer(config: ServerConfig, options: ServerOptions = {}): Promise<Server> {
  const counters = newCounters()
  const cache = options.usersCache === false ? null : usersCachePath(config.users, config.hashCost)
  const tracer = config.traceSql ? sqlTracer() : null
  const database = openDatabase(config.db, cache && existsSync(cache) ? cache : undefined, tracer ? { trace: tracer.trace } : {})
  let store: StateStore | null = null
  let strategy: Strategy | null = null
  try {
    const seeded = await seedUsers(database.db, config.users, config.hashCost)
    if (cache && seeded === config.users) saveUsersCache(database.db, cache)
    const clock = options.clock ?? Date.now
    const users = new Users(database.db, counters, config.hashCost)
    const library = config.strategy === 'session' && isLibrary(config.sessionLibrary) ? config.sessionLibrary : null
    if (library) {
      // A library session keeps its sessions through its own adapter (opened and counted by it), on its own clock.
      strategy = await createLibrarySession(library, config, {
        counters,
        dbPath: database.path,
        trace: tracer?.trace,
        keyPrefix: options.redisKeyPrefix,
      })
    } else {
      store = await openStore(config.store, {
        db: database.db,
        counters,
        url: config.storeUrl,
        keyPrefix: options.redisKeyPrefix,
        timeoutMs: config.storeTimeoutMs,
      })
      strategy = await strategies[config.strategy](
        {
          store,
          clock,
          settings: {
            accessTtlSeconds: config.accessTtlSeconds,
            refreshTtlSeconds: config.refreshTtlSeconds,
            sessionIdleTtlSeconds: config.sessionIdleTtlSeconds,
            sessionAbsoluteTtlSeconds: config.sessionAbsoluteTtlSeconds,
            refreshGraceSeconds: config.refreshGraceSeconds,
          },
        },
        { ...config, systemClock: options.clock === undefined },
      )
    }
    database.serving()
    const metrics = options.metrics ? new ServerMetrics(counters, tracer?.counts ?? null, options.exportMetrics === true) : null
    const purgeStore = store
    const purger = purgeStore
      ? setInterval(() => {
          if (metrics) metrics.purges++
          // A busy or unreachable store is purged at the next tick; any other failure is a bug and surfaces.
          Promise.resolve()
            .then(() => purgeStore.purgeExpired(clock()))
            .catch((err: unknown) => {
              if (!(err instanceof StoreUnavailableError)) throw err
            })
        }, options.purgeIntervalMs ?? PURGE_INTERVAL_MS)
      : null
    purger?.unref()
    const appOptions = { strategy, users, ...(metrics ? { metrics } : {}), ...(config.calibrate ? { calibrate: config.calibrate } : {}) }
    const fastify = config.framework === 'fastify' ? buildApp(appOptions) : null
    const app = fastify ? fastifyHttpApp(fastify) : buildExpressApp(appOptions)
    const openedStore = store
    const built = strategy
    return {
      app,
      fastify,
      store,
      users,
      counters,
      metrics,
      dbPath: database.path,
      async close() {
        if (purger) clearInterval(purger)
        await app.close()
        await built.close?.()
        await openedStore?.close()
        database.close()
      },
    }
  } catch (err) {
    await strategy?.close?.()
    await store?.close()
    database.close()
    throw err
  }
}
