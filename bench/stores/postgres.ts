import type { StoreDescriptor } from './descriptor.ts'

/** PostgreSQL: a process per connection on the store's host; its counts from pg_stat_statements. */
export const postgresStore: StoreDescriptor = {
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
  urlFlag: '--postgres-url',
}
