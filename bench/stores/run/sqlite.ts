import type { StoreProvisioner } from './provisioner.ts'

/** SQLite lives in each cell's own file (every instance opens the same one): nothing to start. */
export const sqliteProvisioner: StoreProvisioner = {
  kind: 'sqlite',
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
}
