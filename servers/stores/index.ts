import type Database from 'better-sqlite3'
import type { Counters } from '../counters.ts'
import type { ServerConfig } from '../config.ts'
import type { StateStore, StoreKind } from '../types.ts'
import { createMemoryStore } from './memory.ts'
import { ConfigError } from '../../common/errors.ts'
import { createPostgresStore } from './postgres.ts'
import { createRedisStore } from './redis.ts'
import { createSqliteStore } from './sqlite.ts'

interface StoreContext {
  /** The server's SQLite database (users always live there). */
  db: Database.Database
  counters: Counters
  /** The server's configuration; each store reads the flags it needs (e.g. `redisUrl`). */
  config: Pick<ServerConfig, 'redisUrl'> & Partial<Pick<ServerConfig, 'redisClusterUrl' | 'postgresUrl'>>
  /** Prefix for keys in a shared store (a schema of its own in PostgreSQL), so tests can share one server. */
  keyPrefix?: string | undefined
}

export type StoreFactory = (ctx: StoreContext) => Promise<StateStore>

export const stores = {
  sqlite: async ({ db, counters }) => createSqliteStore(db, counters),
  redis: async ({ config, counters, keyPrefix }) => createRedisStore({ url: config.redisUrl, counters, keyPrefix }),
  'redis-cluster': async ({ config, counters, keyPrefix }) => {
    if (!config.redisClusterUrl)
      throw new ConfigError('--store redis-cluster needs --redis-cluster-url host:port,host:port (or REDIS_CLUSTER_URL)')
    return createRedisStore({ cluster: config.redisClusterUrl, counters, keyPrefix })
  },
  postgres: async ({ config, counters, keyPrefix }) =>
    createPostgresStore({ url: config.postgresUrl, counters, schema: keyPrefix && schemaOf(keyPrefix) }),
  memory: async ({ counters }) => createMemoryStore(counters),
} satisfies Record<StoreKind, StoreFactory>

/** A key prefix as a PostgreSQL schema name (tests share one server, each in a schema of its own). */
const schemaOf = (prefix: string) =>
  prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/^([0-9])/, '_$1')
