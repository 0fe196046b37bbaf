import type { StoreProvisioner } from './index.ts'

/** Process memory: nothing to start, and nothing shared between a cell's instances. */
export const memoryProvisioner: StoreProvisioner = {
  kind: 'memory',
  observable: false,
  awaits: null,
  sharing: 'a copy in each process',
  placement: 'in-process',
  supports: { faults: false, delayProxy: false },
  processes: 0,
  threading: 'single',
  urlFlag: null,
  sharedAcrossInstances: false,
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
}
