import type { StoreProvisioner } from './provisioner.ts'

/** Process memory: nothing to start, and nothing shared between a cell's instances. */
export const memoryProvisioner: StoreProvisioner = {
  kind: 'memory',
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
}
