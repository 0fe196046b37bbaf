import type { StoreProvisioner } from './index.ts'

/** SQLite lives in each cell's own file (every instance opens the same one): nothing to start. */
export const sqliteProvisioner: StoreProvisioner = {
  kind: 'sqlite',
  observable: true,
  awaits: null,
  sharing: 'one SQLite file on this machine (instances on other machines could not share it)',
  placement: 'in-process',
  supports: { faults: false, delayProxy: false },
  processes: 0,
  threading: 'single',
  urlFlag: null,
  sharedAcrossInstances: true,
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
}
