import type { StoreDescriptor } from './descriptor.ts'

/** A Redis Cluster: three masters (no replicas), keys of one token family on one slot; counts and CPU summed over the nodes. */
export const redisClusterStore: StoreDescriptor = {
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
  urlFlag: '--redis-cluster-url',
}
