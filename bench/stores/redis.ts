import type { StoreDescriptor } from './descriptor.ts'

/** Redis: one process of its own, reached over a socket; its own command counts cross-check the servers'. */
export const redisStore: StoreDescriptor = {
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
  urlFlag: '--redis-url',
}
