import type { StoreDescriptor } from './descriptor.ts'

/** SQLite lives in each cell's own file (every instance opens the same one). */
export const sqliteStore: StoreDescriptor = {
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
  urlFlag: null,
}
