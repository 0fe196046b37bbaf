import type { StoreKind } from '../../../common/kinds.ts'
import { inProcessProvisioner } from './in-process.ts'
import { postgresProvisioner } from './postgres.ts'
import type { StoreProvisioner } from './provisioner.ts'
import { redisProvisioner } from './redis.ts'
import { redisClusterProvisioner } from './redis-cluster.ts'

export type { ExternalCounts, ProvisionedStore, StoreFaults, StoreProvisioner } from './provisioner.ts'

export const storeProvisioners = {
  sqlite: inProcessProvisioner('sqlite', { name: 'SQLite', batch: 1 }),
  redis: redisProvisioner,
  'redis-cluster': redisClusterProvisioner,
  postgres: postgresProvisioner,
  memory: inProcessProvisioner('memory', { name: 'memory', batch: 10 }),
} satisfies Record<StoreKind, StoreProvisioner>
