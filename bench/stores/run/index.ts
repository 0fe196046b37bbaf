import type { StoreKind } from '../../../shared/kinds.ts'
import { memoryProvisioner } from './memory.ts'
import { postgresProvisioner } from './postgres.ts'
import type { StoreProvisioner } from './provisioner.ts'
import { redisProvisioner } from './redis.ts'
import { redisClusterProvisioner } from './redis-cluster.ts'
import { sqliteProvisioner } from './sqlite.ts'

export type { ExternalCounts, ProvisionContext, ProvisionedStore, StoreFaults, StoreHost, StoreProvisioner } from './provisioner.ts'

export const storeProvisioners = {
  sqlite: sqliteProvisioner,
  redis: redisProvisioner,
  'redis-cluster': redisClusterProvisioner,
  postgres: postgresProvisioner,
  memory: memoryProvisioner,
} satisfies Record<StoreKind, StoreProvisioner>
