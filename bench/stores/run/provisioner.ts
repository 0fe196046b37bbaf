import { StoreUnavailableHereError } from '../../../shared/errors.ts'
import type { StoreKind } from '../../../shared/kinds.ts'
import type { StoreSettings } from '../../contracts/results.ts'
import type { ProcessGroup } from '../../processes.ts'

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

interface ProvisionContext {
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

/** A host of a namespace topology, as a store started on it sees it. */
interface StoreHost {
  name: string
  address: string
  /** Runs `argv` inside the host's namespace. */
  wrap(argv: string[]): string[]
}

/**
 * How the harness makes one store ready for a run (started, on which CPUs), the flags it adds, the
 * counts and CPU it keeps itself, the faults it can take, and how it stops; what a URL the user
 * gives for it looks like. Its facts are its descriptor (`bench/stores/NAME.ts`).
 */
export interface StoreProvisioner {
  kind: StoreKind
  /** What the value of its URL flag (the descriptor's `urlFlag`) looks like; absent when it has none. */
  url?: { pattern: RegExp; looksLike: string; means: string }
  /**
   * Starts one on a host of a namespace topology (listening on the host's address), for every cell
   * of the run; absent: the topology cannot place it (its cells are skipped with the reason).
   */
  onHost?(
    host: StoreHost,
    ctx: { cpus: string | null; group: ProcessGroup },
  ): Promise<{ url: string; description: string; stop(): Promise<void> }>
  /** Throws StoreUnavailableHereError (with the fix in its message) when this machine cannot have the store. */
  provision(ctx: ProvisionContext): Promise<ProvisionedStore>
}

/** Why a store cannot be had, as its skipped cells and micro tasks say it: the store's own reason with its fix, else what failed starting it. */
export function unavailableReason(kind: StoreKind, err: unknown): string {
  return err instanceof StoreUnavailableHereError ? err.message : `could not start the ${kind} store: ${(err as Error).message}`
}
