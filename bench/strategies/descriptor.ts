import type { StrategyKind } from '../../common/kinds.ts'
import type { Credential, CredentialInfo } from '../contracts/client.ts'
import type { Axis, CellPlan, CellSpec } from '../contracts/plan.ts'
import type { LibraryOps } from './session-libraries.ts'

/**
 * What the harness knows about one strategy without running it, in one object: how a cell of it is
 * expanded and named, what it costs in store operations, how its credential is described, and how
 * it is explained and drawn. Pure data and functions: the page and the model read these, so
 * nothing here may load server code or a runtime package (how a strategy is run is its runner,
 * `bench/strategies/run/`). The pipeline calls these and never asks which strategy it holds.
 */
export interface StrategyDescriptor {
  kind: StrategyKind
  /** The axes this strategy takes, each with its default; an absent axis is null in its cells. */
  axes: Partial<{ [A in Axis]: NonNullable<CellPlan[A]> }>
  /**
   * A cache on each instance that can serve a credential after another instance revoked it: its name and how long it
   * can (a session cache: its TTL), or 0 s when it cannot (fast-jwt's verify cache: the denylist is read after it);
   * null for a cell with no such cache. The lifecycle report sets the lag on every instance beside it.
   */
  instanceCache?(c: CellSpec): { name: string; keepsSeconds: number; why: string } | null
  /** Takes a cell's `sessionCache` (an in-process LRU in front of its store): the reference session only. */
  cachesSessions?: true
  /** The parts of a cell id after the strategy name, e.g. `['HS256', 'jose', 'sqlite']`. */
  idParts(c: CellSpec): string[]
  /** Where user state lives: nowhere (no authentication), on the server, or with the client. */
  state: 'none' | 'server' | 'client'
  /** Store reads (sessions, denylist) one GET needs to identify the caller. */
  identifyReads(c: CellSpec): number
  /** Store writes one login makes. */
  loginWrites: number
  /** GETs may renew a session's idle timeout (one write per session per minute at most). */
  renews: boolean
  /**
   * The store operations of a cell whose costs are its code's, not the reference's (a session library: every GET's
   * read and its save or touch, exactly, and a login's); null or absent: identifyReads, loginWrites and renews say them.
   */
  libraryOps?(c: CellSpec): LibraryOps | null
  /** Its client refreshes a short-lived credential with a long-lived one (rotated). */
  refreshes: boolean
  /** Status of a GET without any credential. */
  anonymousStatus: number
  /** What the client holds and can read, from a real credential. */
  describeCredential(c: Credential): CredentialInfo
  /** Seconds a logged-out credential still works if a copy survives: a token's remaining lifetime; null when only server-side timeouts bound it. */
  lifetimeSeconds(info: CredentialInfo): number | null
  /** The micro-benchmark tasks a request of this cell pays for beyond the framework, with labels. */
  breakdown(c: CellSpec): { label: string; task: string }[]
  /** What identifying a caller waits on outside the event loop's turn (e.g. a thread pool), or null. */
  awaits?(c: CellSpec): string | null
  /** Words for findings and tables. */
  label: {
    /** The strategy's cells as a group, e.g. `sessions`. */
    family: string
    /** e.g. `a sqlite session lookup`. */
    cell(c: CellSpec): string
    /** Comparison table column, e.g. `session (sqlite)`. */
    column(c: CellSpec): string
    /** Where user state lives, for the comparison table. */
    stateLives(c: CellSpec): string
    /** Whether the client can read its credential, for the comparison table. */
    clientReads(info: CredentialInfo): string
    /** How long a copy of a logged-out credential keeps working, when logout does not end it (`keepsWorkingSeconds` as probed). */
    copyLives(c: CellSpec, keepsWorkingSeconds: number | null): string
  }
  /** Chart shades; the first is the strategy's colour, named in `colorName` for captions. */
  colors: string[]
  colorName: string
}
