import { StoreUnavailableHereError } from '../../contracts/errors.ts'
import type { StoreKind } from '../../../common/kinds.ts'
import type { SessionRecord, StoreAddress } from '../../../servers/types.ts'
import type { MicroTask, StoreSettings } from '../../contracts/results.ts'
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
  /** Addresses of stores the user runs (their address flags), by kind; absent: the provisioner starts its own. */
  urls: Partial<Record<StoreKind, string>>
  /** The CPU used so far by a store the run started on a namespace host (at its URL in `urls`), by kind, µs. */
  hostedCpu?: Partial<Record<StoreKind, () => Promise<number | null>>>
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

/** The session records every store's micro tasks hold and read, the same in each. */
export interface MicroSessions {
  ids: string[]
  record(i: number): SessionRecord
  /** An id at random among `ids`. */
  pick(): string
}

/** A store's micro-benchmark tasks: session reads among the stored sessions, timed alone. */
interface StoreMicro {
  /** The tasks it lists, skipped with the reason, when it cannot be had or its tasks cannot be set up. */
  listed: readonly (readonly [id: string, name: string])[]
  /** Why its tasks are skipped when none was given or started and no other reason is known. */
  notInstalled?: string
  /** Its tasks over `sessions`; `url` is the one given or started privately (null in-process); what undoes the setup goes in `closers`. */
  tasks(url: string | null, sessions: MicroSessions, closers: (() => unknown)[]): Promise<MicroTask[]>
}

/** A store reached at an address: how one is named, and how a private one is started. */
interface StoreAt {
  /**
   * The server's own declaration (`address` in `servers/stores/NAME.ts`): the flag (`npm run bench`
   * and `npm run bench:micro` take the same one, and its environment variable), what a value looks like.
   */
  option: StoreAddress
  /** What giving one to `npm run bench` means, for its usage. */
  means: string
  /**
   * Starts a private one on a free loopback port, tracked in `group`: the micro-benchmarks' when none
   * is given, and each test file's shared one (`test/helpers.ts`).
   */
  startPrivate(group: ProcessGroup): Promise<{ url: string; stop(): Promise<void> }>
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
  /** Where it is, for a store reached at an address; absent: it lives in the servers' own processes. */
  address?: StoreAt
  /**
   * Starts one on hosts of a namespace topology (listening on each host's address), for every cell
   * of the run: one host per process its descriptor names (`processes`: a cluster's three masters,
   * each on a host of its own), the first shared with every other store; absent: the topology
   * cannot place it (its cells are skipped with the reason).
   */
  onHost?(
    hosts: StoreHost[],
    ctx: { cpus: string | null; group: ProcessGroup },
  ): Promise<{
    url: string
    description: string
    /** Its CPU so far (µs), where the store's own protocol cannot tell it (PostgreSQL's processes, read from /proc). */
    cpuUs?(): Promise<number | null>
    stop(): Promise<void>
  }>
  /** Its micro-benchmark tasks; absent: it has none. */
  micro?: StoreMicro
  /** Throws StoreUnavailableHereError (with the fix in its message) when this machine cannot have the store. */
  provision(ctx: ProvisionContext): Promise<ProvisionedStore>
}

/** Why a store cannot be had, as its skipped cells and micro tasks say it: the store's own reason with its fix, else what failed starting it. */
export function unavailableReason(kind: StoreKind, err: unknown): string {
  return err instanceof StoreUnavailableHereError ? err.message : `could not start the ${kind} store: ${(err as Error).message}`
}

/** The store the user gave (`given`), else a private one its provisioner starts, tracked in `group`; `stop` stops only what was started. */
export function givenOrPrivate(at: StoreAt, given: string | null, group: ProcessGroup): Promise<{ url: string; stop(): Promise<void> }> {
  return given ? Promise.resolve({ url: given, stop: async () => {} }) : at.startPrivate(group)
}
