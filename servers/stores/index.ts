import type Database from 'better-sqlite3'
import type { Counters } from '../counters.ts'
import type { StateStore, StoreAddress, StoreKind } from '../types.ts'
import { createMemoryStore } from './memory.ts'
import { ConfigError } from '../../common/errors.ts'
import { createPostgresStore, POSTGRES_ADDRESS } from './postgres.ts'
import { createRedisStore, REDIS_ADDRESS, REDIS_CLUSTER_ADDRESS } from './redis.ts'
import { createSqliteStore } from './sqlite.ts'

interface StoreContext {
  /** The server's SQLite database (users always live there). */
  db: Database.Database
  counters: Counters
  /** Where the store is (`storeUrl`: its address flag's value), for a store reached at an address. */
  url?: string | undefined
  /** Prefix for keys in a shared store (a schema of its own in PostgreSQL), so tests can share one server. */
  keyPrefix?: string | undefined
  /** How long the store may take to answer before a request fails closed; the store's default when absent. */
  timeoutMs?: number | undefined
}

/** One store: how a server is told where it is (null: it lives in the server's own process), and how it is opened. */
export interface StoreEntry {
  address: StoreAddress | null
  open(ctx: StoreContext): Promise<StateStore>
}

export const stores = {
  sqlite: { address: null, open: async ({ db, counters }) => createSqliteStore(db, counters) },
  redis: {
    address: REDIS_ADDRESS,
    open: async ({ url, counters, keyPrefix, timeoutMs }) => createRedisStore({ url, counters, keyPrefix, timeoutMs }),
  },
  'redis-cluster': {
    address: REDIS_CLUSTER_ADDRESS,
    open: async ({ url, counters, keyPrefix, timeoutMs }) => createRedisStore({ cluster: url, counters, keyPrefix, timeoutMs }),
  },
  postgres: {
    address: POSTGRES_ADDRESS,
    open: async ({ url, counters, keyPrefix, timeoutMs }) =>
      createPostgresStore({ url, counters, schema: keyPrefix && schemaOf(keyPrefix), timeoutMs }),
  },
  memory: { address: null, open: async ({ counters }) => createMemoryStore(counters) },
} satisfies Record<StoreKind, StoreEntry>

/** Opens store `kind`; a store reached at an address and given none is a ConfigError naming its flag. */
export async function openStore(kind: StoreKind, ctx: StoreContext): Promise<StateStore> {
  const { address, open }: StoreEntry = stores[kind]
  if (address && !ctx.url) throw new ConfigError(`--store ${kind} needs --${address.flag} ${address.looksLike} (or ${address.env})`)
  return open(ctx)
}

/** A key prefix as a PostgreSQL schema name (tests share one server, each in a schema of its own). */
const schemaOf = (prefix: string) =>
  prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/^([0-9])/, '_$1')
