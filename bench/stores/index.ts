import type { StoreKind } from '../../common/kinds.ts'
import type { StoreDescriptor } from './descriptor.ts'

export type { StoreDescriptor } from './descriptor.ts'

/** Every store's descriptor: what the page, the model and the harness's steps read of it (how one is made ready is `run/`). */
export const storeDescriptors: Record<StoreKind, StoreDescriptor> = {
  /** SQLite lives in each cell's own file (every instance opens the same one). */
  sqlite: {
    kind: 'sqlite',
    label: 'SQLite',
    sharedAcrossInstances: true,
    observable: true,
    awaits: null,
    sharing: 'one SQLite file on this machine (instances on other machines could not share it)',
    placement: 'in-process',
    supports: { faults: false, delayProxy: false },
    processes: 0,
    threading: 'single',
  },
  /** Redis: one process of its own, reached over a socket; its own command counts cross-check the servers'. */
  redis: {
    kind: 'redis',
    label: 'Redis',
    sharedAcrossInstances: true,
    observable: true,
    awaits: 'I/O to Redis',
    sharing: 'one Redis, reachable over the network',
    placement: 'same-host',
    supports: { faults: true, delayProxy: true },
    processes: 1,
    threading: 'single',
  },
  /** A Redis Cluster: three masters (no replicas), keys of one token family on one slot; counts and CPU summed over the nodes. */
  'redis-cluster': {
    kind: 'redis-cluster',
    label: 'Redis Cluster',
    sharedAcrossInstances: true,
    observable: true,
    awaits: 'I/O to the Redis Cluster',
    sharing: 'one Redis Cluster (three masters), reachable over the network',
    placement: 'same-host',
    supports: { faults: true, delayProxy: false },
    processes: 3,
    threading: 'single',
  },
  /** PostgreSQL: a process per connection on the store's host; its counts from pg_stat_statements. */
  postgres: {
    kind: 'postgres',
    label: 'PostgreSQL',
    sharedAcrossInstances: true,
    observable: true,
    awaits: 'I/O to PostgreSQL',
    sharing: 'one PostgreSQL, reachable over the network',
    placement: 'same-host',
    supports: { faults: true, delayProxy: false },
    processes: 1,
    threading: 'per-connection',
  },
  /** Process memory: nothing to start, and nothing shared between a cell's instances. */
  memory: {
    kind: 'memory',
    label: 'process memory',
    sharedAcrossInstances: false,
    observable: false,
    awaits: null,
    sharing: 'a copy in each process',
    placement: 'in-process',
    supports: { faults: false, delayProxy: false },
    processes: 0,
    threading: 'single',
  },
}
