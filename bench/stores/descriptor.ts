import type { StoreKind } from '../../common/kinds.ts'

/**
 * What the harness knows about one store without running it: whether a cell's instances share its
 * state, where it runs, what the harness can do with it, how it uses cores, and the words the page
 * uses. Pure data: the page and the model read these, so nothing here may load server code or a
 * store client (how a store is made ready, and its address flag, are its provisioner's, `bench/stores/run/`).
 */
export interface StoreDescriptor {
  kind: StoreKind
  /** Its name in sentences, e.g. `Redis`. */
  label: string
  /** Every instance of a cell sees the same state (false: one copy per server process). */
  sharedAcrossInstances: boolean
  /**
   * Something outside the servers' own counters sees this store's operations (SQLite's statement
   * trace, Redis's INFO commandstats), so verification can check the counts against it.
   */
  observable: boolean
  /** What a request waits on when it uses this store (e.g. `I/O to Redis`); null when the store answers in the same turn. */
  awaits: string | null
  /** How the cell's instances share it, for the comparison table. */
  sharing: string
  /** Where it runs: inside each server's process, or a process of its own reached over a socket (on this machine unless the run adds a distance). */
  placement: 'in-process' | 'same-host'
  /** What the harness can do with it when it runs it: inject faults (pause, kill, restart, flush), put a delay proxy in front. */
  supports: { faults: boolean; delayProxy: boolean }
  /** Store server processes that share its load (one Redis; a cluster's masters), for the fleet model; 0 in-process. */
  processes: number
  /** How it uses cores: one thread per process (Redis), or a process per connection over the host's cores (PostgreSQL). */
  threading: 'single' | 'per-connection'
}
