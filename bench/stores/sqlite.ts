import type { StoreProvisioner } from './index.ts'

/** SQLite lives in each cell's own file (every instance opens the same one): nothing to start. */
export const sqliteProvisioner: StoreProvisioner = {
  kind: 'sqlite',
  observable: true,
  sharedAcrossInstances: true,
  provision: async () => ({ description: null, serverArgs: [], counts: async () => null, cpuUs: async () => null, stop: async () => {} }),
}
