import type { StoreKind } from '../../../shared/kinds.ts'
import type { StoreProvisioner } from './provisioner.ts'

/** A store inside each server's process (SQLite's file, process memory): nothing to start, count from outside, fault or stop. */
export const inProcessProvisioner = (kind: StoreKind): StoreProvisioner => ({
  kind,
  provision: async () => ({
    description: null,
    serverArgs: [],
    counts: async () => null,
    cpuUs: async () => null,
    faults: null,
    stop: async () => {},
  }),
})
