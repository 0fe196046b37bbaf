import { StoreUnavailableHereError } from '../../shared/errors.ts'
import type { StoreKind } from '../../servers/types.ts'
import type { StoreSettings } from '../contracts/results.ts'
import type { ProcessGroup } from '../processes.ts'
import { memoryProvisioner } from './memory.ts'
import { redisProvisioner } from './redis.ts'
import { postgresProvisioner } from './postgres.ts'
import { redisClusterProvisioner } from './redis-cluster.ts'
import { sqliteProvisioner } from './sqlite.ts'

/** Command counts a store keeps itself, read before and after a window to cross-check the servers' own counts. */
export interface ExternalCounts {
  /** Commands that read state (e.g. Redis GET, EXISTS). */
  reads: number
  /** Commands that write state (Redis SET: every store write issues exactly one). */
  writes: number
  /** Commands that delete state (Redis DEL, and the family-revoking script). */
  deletes: number
  /** Every command. */
  total: number
}

export interface ProvisionContext {
  /** CPUs a store process should run on (the load generator's half), or null. */
  cpus: string | null
  /** Every child a provisioner starts is tracked here, so it is stopped on every exit path. */
  group: ProcessGroup
  /** Addresses of stores the user runs (`--redis-url`), by kind; absent: the provisioner starts its own. */
  urls: Partial<Record<StoreKind, string>>
}

/** A store ready for a run. */
export interface ProvisionedStore {
  /** One line for the progress log, e.g. `started a private redis-server on redis://127.0.0.1:41234`. */
  description: string | null
  /** Flags every server of a cell using this store gets. */
  serverArgs: string[]
  /** The settings the harness started it with, each with why; null for a store the user runs or one with nothing to set. */
  settings?: StoreSettings | null
  /** The store's own counts, or null when it keeps none (in-process stores). */
  counts(): Promise<ExternalCounts | null>
  /** CPU time the store process has used (µs, user + system, all its threads), or null for in-process stores. */
  cpuUs(): Promise<number | null>
  /** Faults the harness can inject (a store process it started itself); null when it cannot (in-process, or the user's own). */
  faults: StoreFaults | null
  stop(): Promise<void>
}

/** What a fault timeline can do to a store the harness runs. */
export interface StoreFaults {
  /** Freeze the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): Promise<void>
  resume(): Promise<void>
  /** SIGKILL: connections refused until `start`. */
  kill(): Promise<void>
  /** Stop it and start it again on the same address, empty (no persistence). */
  restart(): Promise<void>
  /** Start it again (empty) if it is down; resume it if paused. Safe to call any time. */
  ensureUp(): Promise<void>
  /** Drop every key (FLUSHALL). */
  flush(): Promise<void>
}

/**
 * Everything the harness knows about one store: whether several instances of a cell share its
 * state, how it is made ready for a run (started, on which CPUs), the flags it adds, the counts
 * it keeps itself, and how it stops.
 */
export interface StoreProvisioner {
  kind: StoreKind
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
  /** The `npm run bench` flag that names one the user runs (`--redis-url`; its environment variable `REDIS_URL`), what its value looks like, or null when it has none. */
  urlFlag: string | null
  url?: { pattern: RegExp; looksLike: string; means: string }
  /** Throws StoreUnavailableHereError (with the fix in its message) when this machine cannot have the store. */
  provision(ctx: ProvisionContext): Promise<ProvisionedStore>
}

export const storeProvisioners = {
  sqlite: sqliteProvisioner,
  redis: redisProvisioner,
  'redis-cluster': redisClusterProvisioner,
  postgres: postgresProvisioner,
  memory: memoryProvisioner,
} satisfies Record<StoreKind, StoreProvisioner>

/** Why a store cannot be had, as its skipped cells and micro tasks say it: the store's own reason with its fix, else what failed starting it. */
export function unavailableReason(kind: StoreKind, err: unknown): string {
  return err instanceof StoreUnavailableHereError ? err.message : `could not start the ${kind} store: ${(err as Error).message}`
}
