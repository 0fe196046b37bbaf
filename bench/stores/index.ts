import type { StoreKind } from '../../common/kinds.ts'
import type { StoreDescriptor } from './descriptor.ts'
import { memoryStore } from './memory.ts'
import { postgresStore } from './postgres.ts'
import { redisStore } from './redis.ts'
import { redisClusterStore } from './redis-cluster.ts'
import { sqliteStore } from './sqlite.ts'

export type { StoreDescriptor } from './descriptor.ts'

export const storeDescriptors = {
  sqlite: sqliteStore,
  redis: redisStore,
  'redis-cluster': redisClusterStore,
  postgres: postgresStore,
  memory: memoryStore,
} satisfies Record<StoreKind, StoreDescriptor>
