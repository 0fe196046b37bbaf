import type Database from 'better-sqlite3'
import type { Counters } from '../counters.ts'
import { ConfigError } from '../errors.ts'
import type { StateStore, StoreKind } from '../types.ts'
import { createMemoryStore } from './memory.ts'
import { createRedisStore } from './redis.ts'
import { createSqliteStore } from './sqlite.ts'

export interface StoreContext {
  db: Database.Database
  counters: Counters
  redisUrl?: string | undefined
  keyPrefix?: string | undefined
}

export type StoreFactory = (ctx: StoreContext) => Promise<StateStore>

export const stores = {
  sqlite: async ({ db, counters }) => createSqliteStore(db, counters),
  redis: async ({ redisUrl, counters, keyPrefix }) => {
    if (!redisUrl) throw new ConfigError('--store redis needs --redis-url (or REDIS_URL)')
    return createRedisStore({ url: redisUrl, counters, keyPrefix })
  },
  memory: async ({ counters }) => createMemoryStore(counters),
} satisfies Record<StoreKind, StoreFactory>
