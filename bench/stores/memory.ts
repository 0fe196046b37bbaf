import type { StoreDescriptor } from './descriptor.ts'

/** Process memory: nothing to start, and nothing shared between a cell's instances. */
export const memoryStore: StoreDescriptor = {
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
  urlFlag: null,
}
