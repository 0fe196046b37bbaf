// results.json, as every stage writes and reads it (docs/contracts.md, "results.json"), with the
// records it is reduced from. Types and constants only: reading and writing the file is
// bench/results-io.ts's.
import type { StoreKind } from '../../servers/types.ts'
import type { LibraryConfig } from '../../common/session-libraries.ts'
import type { CredentialInfo } from './client.ts'
import type { CellPlan } from './plan.ts'
import type { RuntimeKind, Scenario, Topology } from './scenario.ts'

export const SCHEMA_VERSION = 1

/** A closed-loop window that kept the servers less busy than this is flagged as client-bound. */
export const CLIENT_BOUND_SHARE = 0.9

/** Requests verification sends to the extra traced instance to check every counted store operation against outside observers. */
export const CROSS_CHECK_REQUESTS = 100

export type CellStatus = 'ok' | 'invalid' | 'skipped' | 'failed'

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  max: number
}

export interface OpsPerRequest {
  reads: number
  writes: number
  deletes: number
}

export interface Environment {
  node: string
  os: string
  cpus: { model: string; count: number }
  memoryBytes: number
  /** The installed version of each of package.json's dependencies (null: not installed) and of each optional one installed here. */
  packages: Record<string, string | null>
  gitCommit: string | null
  /** Uncommitted changes in the working tree when the run started. */
  gitDirty: boolean | null
  redisServer: string | null
  /** CPUs the load generator (and Redis) and the servers were pinned to; null when unpinned. */
  cpuAffinity?: { client: string; server: string } | null
  /** Each store process the run used: where it was, and the settings the harness started it with (null: one the user runs, as
   * it is). Absent in older results. */
  stores?: { kind: StoreKind; description: string | null; settings: StoreSettings | null }[]
  /** Where each process ran: loopback, or a namespace topology with every host's address (and why a netns scenario ran on
   * loopback). Absent in older results. */
  topology?: TopologyRecord
  /** Each Node the cells' servers ran on (a cell without `runtime` ran on the harness's own). Absent in older results. */
  runtimes?: RuntimeRecord[]
}

/** A Node that ran cells' servers, and whether it was past its end of life on the run's date. */
export interface RuntimeRecord {
  /** `node20`, `node22` or `node24`; null for a harness's own Node of another major. */
  runtime: RuntimeKind | null
  /** Its full version (`process.versions.node` of the binary), e.g. `24.22.3`. */
  version: string
  /** The harness's own Node (`process.execPath`), not an installed package. */
  own: boolean
  /** Its end of life (`YYYY-MM-DD`); null when not known. */
  endOfLife: string | null
  /** Whether the run's date (UTC) was after its end of life; null when not known. */
  pastEndOfLife: boolean | null
}

/** A scenario's topology, or `remote`: a fleet the harness did not start (`--targets`). */
export type TopologyKind = Topology | 'remote'

export interface TopologyRecord {
  /** `remote`: the servers of a fleet file (`--targets`), wherever they run. */
  kind: TopologyKind
  /** The harness's own address (the bridge's, in a namespace topology); null in remote mode. */
  harness: string | null
  /** Every host and its address; in remote mode each instance's URL. */
  hosts: { name: string; address: string }[]
  /** Why a scenario that asked for namespaces ran on loopback; null otherwise. */
  note: string | null
}

/**
 * Which CPUs the load generator (with Redis) and the servers run on. Unpinned, the two fight over
 * the same cores and a server's CPU cost per request swings with the scheduler; pinned, each
 * server always has its own half of the machine, which makes CPU µs per request repeatable.
 */
export interface CpuPlan {
  client: string
  server: string
}

/** Exact store operations one request does in steady state (docs/contracts.md, "Store operations"). */
/** Settings a store was started with, each with why. */
export type StoreSettings = Record<string, { value: string; why: string }>

export interface ExpectedOps {
  /** Reads of session, refresh-token or denylist state (the cell's store). */
  stateReads: number
  /** Reads of the users table (always SQLite). */
  userReads: number
  writes: number
  deletes: number
  /**
   * Sessions renew their idle timeout with one write at most once a minute each, so a GET window
   * may add up to one write per session per started minute on top of `writes`.
   */
  renewals: boolean
  /**
   * The state reads go through an in-process cache (a session cache): `stateReads` is then the most a request
   * makes (a miss); a window's count is held to a bound instead (see cachedReadBound). Absent: every read is made.
   */
  cachedReads?: true
}

/** Figures of one cell in one round; each is measured, none is assumed. */
export interface RoundResult {
  round: number
  /** The window's place in its round (0, 1, 2...): cells alternate with baseline windows, B X B Y B... */
  slot: number
  requests: number
  durationSeconds: number
  rps: number
  /** Client-side (autocannon), whole milliseconds. */
  latencyMs: Percentiles
  /** Server-side request time, onRequest to onResponse, microseconds (HDR histogram). */
  serverTimeUs: Percentiles & { mean: number }
  /** Server process CPU (user + system) over the window divided by requests served. */
  cpuUsPerRequest: number
  /** The store process's own CPU over the window per request (Redis: INFO cpu); null for in-process stores. */
  storeCpuUsPerRequest: number | null
  /** Servers plus store process. */
  totalCpuUsPerRequest: number
  /**
   * Server CPU over the window divided by the CPU the servers could use (window x min(instances,
   * server CPUs)): near 1 when the load kept the servers busy, lower when the client could not.
   */
  serverBusyShare: number
  /** serverBusyShare under CLIENT_BOUND_SHARE: CPU per request was measured below saturation. */
  clientBound: boolean
  storeOpsPerRequest: OpsPerRequest
  /** Redis cells: read (GET, EXISTS), write (SET), delete (DEL, script) and all commands per request, from INFO commandstats. */
  redisCommandsPerRequest: { reads: number; writes: number; deletes: number; total: number } | null
  bytesPerRequest: { request: number; response: number }
  statusCounts: Record<string, number>
  non2xx: number
  errors: number
  timeouts: number
  /** Share of responses that were 401 (expected only across instances with a per-process store). */
  status401Share: number
  /** Answers that carried a Set-Cookie, per request the servers answered (closed loop); null where not read. Absent in older results. */
  setCookieShare?: number | null
  /** Largest server resident set size at the end of the window. */
  rssBytes: number
  /** Requests each instance served in the window, in instance order (how the load was spread). Absent in older results. */
  instanceRequests?: number[]
  /**
   * Requests still in their handlers at the window's edges (opening plus closing) after the wait
   * for them to settle (at most 10 s each edge): 0 for a window that holds each request with
   * exactly the store operations it did; more makes the window invalid. Absent in older results.
   */
  unsettledRequests?: number
  /**
   * Requests the servers answered 5xx (a store that did not answer in time: 503), counted where
   * each answer was decided, so those whose client had gone at the window's end are here even
   * though `statusCounts` never saw them. Absent in older results.
   */
  failedAnswers?: number
  /** HAProxy's own CPU over the window per request, counted in totalCpuUsPerRequest; null without a balancer. Absent in older results. */
  balancerCpuUsPerRequest?: number | null
  /**
   * Each instance's own share of the window, in instance order (`npm run observe`: the figures per
   * instance its report shows). Absent from the runs the harness drives and in older results.
   */
  instanceWindows?: (InstanceWindow & { url: string })[]
  /**
   * rps and CPU per request divided by the mean of the baseline windows just before and just after
   * this one (its bracket); null when either was not a valid measurement. 1 for the baseline itself.
   */
  ratioToBaseline: { rps: number | null; cpu: number | null } | null
  /** The baseline windows around this one, and how often this window was measured again because they disagreed; null for the baseline. */
  bracket: { beforeCpuUs: number; afterCpuUs: number; spread: number; repeats: number } | null
  /**
   * Every earlier window of this cell in this round, measured again because its brackets disagreed:
   * shown, not dropped, so a reader can see what the rule set aside. Empty when none; absent in
   * older results.
   */
  repeatedWindows?: { slot: number; cpuUsPerRequest: number; rps: number; ratioCpu: number | null; bracketSpread: number | null }[]
}

/** One instance over one window: what it served, its CPU, its store operations (counts, not per request), its request time. */
export interface InstanceWindow {
  requests: number
  cpuUs: number
  ops: OpsPerRequest
  /** Server-side request time over the window, µs; zeros when the instance served nothing. */
  serverTimeUs: Percentiles & { mean: number }
}

/** A window as measured, before anything is derived from other windows. */
export type RoundMeasurement = Omit<RoundResult, 'ratioToBaseline' | 'bracket'>

/** One open-loop window: a cell driven on a schedule at `rate` requests/s. */
export interface OpenMeasurement {
  round: number
  /** Requests per second asked for. */
  rate: number
  /** The share of the cell's closed-loop capacity in the same round this rate stands for; null for a fixed rate. */
  fraction: number | null
  achievedRate: number
  requests: number
  completed: number
  /** From each request's due time (coordinated-omission correct), µs. */
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number }
  /** From each request's actual send, µs. */
  serviceTimeUs: { p50: number; p90: number; p99: number; max: number }
  sendLagUs: { p50: number; p99: number; max: number }
  cpuUsPerRequest: number
  storeCpuUsPerRequest: number | null
  /** The load driver's CPU (the harness process it runs in) over the window, per request answered, µs: with the store's, what
   * the load took from the client's cores. Absent in older results. */
  driverCpuUsPerRequest?: number
  serverBusyShare: number
  /** The servers' own request time (onRequest to onResponse), merged over the instances, µs: what waiting on a distant store adds shows here. */
  serverTimeUs: { p50: number; p90: number; p99: number; max: number; mean: number }
  /** The same time, every request of the window: HdrHistogram (1 µs to 60 s, 3 significant digits), compressed base64. Absent in older results. */
  serverTimeHistogram?: string
  storeOpsPerRequest: OpsPerRequest
  /**
   * Requests still in their handlers at the window's edges (opening plus closing) after the wait
   * for them to settle (at most 10 s each edge): 0 for a window that holds each request with
   * exactly the store operations it did; more makes the window invalid. Absent in older results.
   */
  unsettledRequests?: number
  /**
   * Requests the servers answered 5xx (a store that did not answer in time: 503), counted where
   * each answer was decided, so those whose client had gone at the window's end are here even
   * though `statusCounts` never saw them. Absent in older results.
   */
  failedAnswers?: number
  statusCounts: Record<string, number>
  non2xx: number
  errors: number
  /** The driver held the rate (achieved at least 95%, send lag p99 at most 10 ms). */
  held: boolean
  reason: string | null
  /**
   * A window the scenario's faults were injected into: the requests due in each 100 ms of it by what they got (`logins` and
   * `forcedLogins` 0: the open loop's clients never log in), on the fault's clock (the driver's starts a few ms after it).
   * Absent in a window without faults, and in older results.
   */
  timeline?: TimelinePoint[]
  /** With `timeline`: for each fault in the scenario's order, how soon HAProxy stopped sending to a killed instance (ms), or null. */
  routedAwayMs?: (number | null)[]
}

/** One window of the driver's latency floor: the open-loop driver against a server that answers at once, pinned where the app servers run. */
/**
 * The balancer's own cost at one offered rate (`balancerFloor`): HAProxy as a fleet cell runs it, in front of a server
 * that answers at once, driven in the open loop.
 */
export interface BalancerFloorPoint {
  rate: number
  achievedRate: number
  /** Requests the driver got answers to. */
  completed: number
  /** Requests the driver sent again after HAProxy closed the kept-alive connection they went out on (HAProxy saw both). */
  retried: number
  /** Requests that got no answer. */
  errors: number
  /** Requests HAProxy's own frontend counted in the window (the check on the driver's: `completed` + `retried` + `errors`, within 1%). */
  balancerRequests: number
  /** HAProxy's CPU (the scheduler's run time) over `completed`, µs; null when nothing was answered. */
  cpuUsPerRequest: number | null
  /** HAProxy's CPU time over the window's wall time (1: a core kept busy). */
  busyShare: number
  /** The driver held the rate (the ladder stops at the first it did not). */
  held: boolean
}

export interface FloorMeasurement {
  round: number
  rate: number
  achievedRate: number
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number }
  sendLagUs: { p50: number; p99: number; max: number }
  /** The answering server's own time per request (arrival to the end of the answer), µs. */
  serverTimeUs: { p50: number; p99: number }
  /** Every request's latency, HdrHistogram compressed base64. */
  latencyHistogram: string
  held: boolean
  /** The answering server's CPU per request over the window (its scheduler run time), µs; null where it cannot be read. */
  cpuUsPerRequest: number | null
}

/** The driver's latency floor at one rate: medians over the rounds; the histogram is the round's whose p99 is the median (so
 * its quantiles read as the cells' points do). */
export interface FloorPoint {
  rate: number
  achievedRate: number
  latencyUs: { p50: number; p90: number; p99: number; max: number }
  serverTimeUs: { p50: number; p99: number }
  /** The driver's send lag p99 there, µs (median of rounds; absent in older results). */
  sendLagP99Us?: number
  /** The answering server's CPU per request, µs (median of rounds); null where not read (absent in older results). */
  cpuUsPerRequest?: number | null
  heldRounds: number
  rounds: number
  latencyHistogram: string
}

/** A cell's open-loop results at one rate point, medians over the rounds. */
export interface OpenLoopPoint {
  rate: number
  fraction: number | null
  achievedRate: number
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number }
  cpuUsPerRequest: number
  serverBusyShare: number
  /** Rounds in which the driver held the rate, of all rounds at this point. */
  heldRounds: number
  rounds: OpenMeasurement[]
  /**
   * Faults: each round's window at this rate read off its timeline (`rounds[i].timeline`), in the order of `rounds`; null
   * for a cell no fault applied to. The cell's `timeline` and `recovery` are its first point's first window's. Absent in older results.
   */
  recoveries?: Recovery[] | null
}

export interface LatencySummary {
  p50: number
  p90: number
  p99: number
  max: number
  count: number
}

/** Users' GETs due in 100 ms of the measured window (thieves' probes not included), and what else began then. */
export interface TimelineBucket {
  tMs: number
  requests: number
  /** Answered 2xx. */
  ok: number
  status401: number
  /** Answered 502 by a balancer: the instance it sent the request to died with the request (or its connection) open. */
  status502: number
  status503: number
  /** 5xx other than 502 and 503 (there should be none: the servers fail closed with 503, a balancer answers 502 or 503). */
  status5xx: number
  /** No answer. */
  errors: number
  refreshes: number
  logins: number
  /** Logins because a credential stopped working (a lost session, a revoked family). */
  forcedLogins: number
  latencyUsP50: number
  latencyUsP99: number
  /** The slowest answered GET due in the bucket, from its due time (0: none answered); a GET not answered is in `errors`. */
  latencyUsMax: number
}

export interface LifecycleResult {
  durationSeconds: number
  /** Users' GET requests due in the measured window (thieves' probes not included). */
  requests: number
  completed: number
  statusCounts: Record<string, number>
  /** GETs of a logged-in user refused (an access token expired before its refresh, a session gone). */
  unexpected401: number
  status503: number
  errors: number
  logins: number
  /** Logins a user had to make because its credential stopped working (not after its own logout), retries included. */
  forcedLogins: number
  /** Users who had to log in again (each counted once). */
  usersForcedToLogIn: number
  refreshes: number
  /**
   * Refreshes refused (invalid_grant: the family revoked), of which `invalidGrantAfterUnavailable`
   * were retries after a 503 (the store may have completed a rotation the server had given up on:
   * the retry then looks like reuse); answered 503 (store unavailable, retried with back-off); unanswered.
   */
  refreshFailures: { invalidGrant: number; invalidGrantAfterUnavailable: number; unavailable: number; errors: number }
  logouts: number
  races: { attempted: number; familyRevoked: number }
  /** Thieves' requests. */
  probes: number
  revocationLagMs: {
    p50: number | null
    p99: number | null
    max: number | null
    samples: number
    censored: number
    probeIntervalMs: number
  }
  /** Every measured lag, ms, sorted. */
  lagSamplesMs: number[]
  /** The lag on every instance (below); null with one instance. Absent in older results. */
  everyInstanceLagMs?: EveryInstanceLag | null
  /** Every lag on every instance, ms, sorted. */
  everyInstanceLagSamplesMs?: number[]
  latencyUs: { requests: LatencySummary; refreshes: LatencySummary }
  sendLagUs: { p50: number; p99: number; max: number }
  refreshRate: { meanPerSecond: number; peakPerSecond: number; peakAtMs: number | null }
  /**
   * Users' GETs due in a refresh storm (100 ms with at least STORM_FACTOR times the mean refresh rate) or the
   * half second after it, against the others due once the users' first logins were all answered; null: none.
   */
  duringPeak: { latencyUsP99: number | null; otherLatencyUsP99: number | null }
  /** 100 ms buckets of the measured window. */
  timeline: TimelineBucket[]
  held: boolean
  reason: string | null
  interrupted: boolean
}

/**
 * With more than one instance, a second thief after each logout presents the copy to every instance directly (past any
 * balancer), each until it is refused: the time from the logout until the last instance refused it. An instance that
 * caches what it read (a session cache, a verify cache that skipped a revocation check) keeps serving the copy after
 * another instance ended it; this is that lag, measured.
 */
export interface EveryInstanceLag {
  p50: number | null
  p99: number | null
  max: number | null
  samples: number
  /** Of `samples`, copies every instance refused the first time it was presented (at once: no instance served it after the logout). */
  refusedAtFirst: number
  /** Copies still working on some instance when the thieves stopped. */
  censored: number
  instances: number
  probeIntervalMs: number
}

/** One lifecycle window: the driver's figures and the servers' and store's counts over the measured window. */
export interface LifecycleMeasurement extends Omit<LifecycleResult, 'revocationLagMs'> {
  round: number
  revocationLagMs: LifecycleResult['revocationLagMs']
  /** Requests the servers answered in the window: users' GETs, logins, refreshes, logouts and thieves' probes. */
  served: number
  cpuUsPerRequest: number
  storeCpuUsPerRequest: number | null
  storeOps: OpsPerRequest
  storeOpsPerSecond: OpsPerRequest
  storeOpsPerRequest: OpsPerRequest
  /** Redis's own command counts over the window (INFO commandstats), or null. */
  redisCommands: { reads: number; writes: number; deletes: number; total: number } | null
  drainSeconds: number
  /** With faults: for each fault in the scenario's order, ms from an instance's kill until HAProxy reported it DOWN (null: a
   * store fault, or not seen); null without faults. */
  routedAwayMs?: (number | null)[] | null
}

/**
 * A cell's whole-lifetime figures (docs/contracts.md, "Token lifecycle"): counts summed over the
 * rounds, rates over their total measured time, lag percentiles over every sample.
 */
export interface LifecycleSummary {
  accessTtlSeconds: number | null
  /** A user's GETs per credential lifetime: what time compression keeps (seconds of TTL stand for minutes). */
  requestsPerLifetime: number | null
  durationSeconds: number
  users: number
  requests: number
  logins: number
  forcedLogins: number
  refreshes: number
  /** Refreshes refused or failed: invalid_grant (family revoked; some of them retries after a 503), store unavailable (503, retried), no answer. */
  refreshFailures: number
  refreshFailuresBy: { invalidGrant: number; invalidGrantAfterUnavailable: number; unavailable: number; errors: number }
  logouts: number
  unexpected401: number
  status503: number
  errors: number
  probes: number
  races: { attempted: number; familyRevoked: number }
  storeOpsPerSecond: OpsPerRequest
  storeOpsPerRequest: OpsPerRequest
  /** Server CPU per request the servers answered (every kind), µs. */
  cpuUsPerRequest: number
  revocationLagMs: {
    p50: number | null
    p99: number | null
    max: number | null
    samples: number
    censored: number
    probeIntervalMs: number
  }
  /** The lag on every instance over every round's samples; null with one instance. Absent in older results. */
  everyInstanceLagMs?: EveryInstanceLag | null
  latencyUs: { requests: { p50: number; p99: number }; refreshes: { p50: number; p99: number } | null }
  refreshRate: { meanPerSecond: number; peakPerSecond: number }
  duringPeak: { latencyUsP99: number | null; otherLatencyUsP99: number | null }
  /** What the arithmetic of the strategy and the client's policy predicts, beside the measurement. */
  expected: {
    refreshes: number | null
    refreshesAtTtl: number | null
    refreshIntervalSeconds: number | null
    lagMedianMs: number
    /**
     * A session-cached cell's store reads per user GET in steady state, as the cache implies (cachedReadsPerGet): users that
     * keep to one instance (no balancer, or a sticky one); null without a cache, or when a balancer spreads each user over
     * the instances (then each instance fills its own entry, at times the balancer decides). Absent in older results.
     */
    stateReadsPerGet?: number | null
  }
  /** Every round held its schedule. */
  held: boolean
  reason: string | null
  rounds: LifecycleMeasurement[]
}

/** A cell's 100 ms buckets as results.json holds them (docs/contracts.md, "Store at a distance, store CPU, faults, clusters"). */
export type TimelinePoint = Pick<
  TimelineBucket,
  | 'tMs'
  | 'requests'
  | 'ok'
  | 'status401'
  | 'status502'
  | 'status503'
  | 'status5xx'
  | 'errors'
  | 'latencyUsP50'
  | 'latencyUsP99'
  | 'logins'
  | 'forcedLogins'
> &
  /** Absent in results written before it was recorded, and in the fleet model's replayed timelines. */
  Partial<Pick<TimelineBucket, 'latencyUsMax'>>

/** One fault and what followed it, up to the next fault, in ms into the measured window. */
export interface Episode {
  action: NonNullable<Scenario['faults']>[number]['action']
  faultAtMs: number
  /** When the store was meant to be back; null when it stayed down to the window's end. */
  storeBackAtMs: number | null
  /** The first 100 ms from the fault on in which a user's GET failed (401, 503, another 5xx, no answer); null: none did. */
  firstErrorMs: number | null
  lastErrorMs: number | null
  /** The start of the first half second, once the store was back, with no failed GET and p99 latency near its level before the
   * fault; null: not within the window. */
  recoveredAtMs: number | null
  /** recoveredAtMs less storeBackAtMs. */
  recoveryMs: number | null
  /** Logins forced by lost state (retries included) in the episode, and their peak over 100 ms as a rate: the login storm. */
  forcedLogins: number
  loginStormPeakPerSecond: number
  /** Users' GETs by what they got, from the fault until the store or instance was back (`during`), and from then until the next
   * fault or the window's end (`after`). */
  during: EpisodeStatuses
  after: EpisodeStatuses | null
  /** kill-instance: ms from the kill until HAProxy's stats socket reported the dead instance's server DOWN (from then on it
   * sends it nothing); null for a store fault, or when not seen within 10 s. */
  routedAwayMs: number | null
  /**
   * The slowest answered GET due from the fault until the store or instance was back, ms from its due time: how long a request
   * waited before the servers gave up on the store (a GET never answered counts in `during.errors` instead). Null in results
   * written before it was recorded.
   */
  slowestDuringMs: number | null
}

/** Users' GETs in part of an episode, by status: 2xx, 401, 502 and 503 (a balancer's or a server's), any other 5xx, no answer. */
export type EpisodeStatuses = Pick<TimelinePoint, 'requests' | 'ok' | 'status401' | 'status502' | 'status503' | 'status5xx' | 'errors'>

/** What the faults did to the users and how long they took to get over them. */
export interface Recovery {
  firstErrorMs: number | null
  lastErrorMs: number | null
  /** When the last episode recovered. */
  recoveredAtMs: number | null
  /** Users who had to log in again in the window (a session or refresh state lost), each counted once. */
  sessionsLost: number
  episodes: Episode[]
}

/** What a cell's delay proxy was asked to add and what it adds (PINGs in turn, through it and straight to Redis). */
export interface StoreRtt {
  askedMs: number
  addedUs: number
  directUs: number
}

/** How the run controlled the machine's drift (see docs/architecture.md, "Noise control"). */
export interface NoiseControl {
  method: 'bracketed' | 'none'
  /** Seed of the per-round shuffle of the cell order. */
  seed: number
  /** Brackets whose two baseline windows differ by more than this share get their window measured again. */
  bracketTolerance: number
  maxRepeats: number
  /** Windows measured again because their brackets disagreed (each is kept in its round's `repeatedWindows`). */
  repeats: number
  /** Spread of every bracket (|before - after| / mean), median and max. */
  bracketSpread: { median: number; max: number } | null
  /** The cell order of each round, as run. */
  orders: string[][]
  /**
   * Adaptive rounds (scenario `load.moreRounds`): the looks (round counts) planned, the error rate each look's intervals
   * use (0.05 split across them), each look as it went (the cells whose comparisons were still unresolved there, and so
   * measured on), and why the run stopped adding rounds. Absent without `moreRounds`.
   */
  looks?: {
    planned: number[]
    alpha: number
    taken: { rounds: number; unresolved: string[] }[]
    stopped: 'decided' | 'last-look' | 'time-cap' | 'interrupted'
  }
}

export interface Interval {
  median: number
  /** Order statistics of the median over the rounds (the name is historical: see `coverage`). */
  ci95: [number, number]
  /** The probability that interval holds the true median: 75% for 3 rounds, 94% for 5, at least 95% from 6. */
  coverage: number
}

export interface CellSummary {
  rps: Interval
  latencyMs: Percentiles
  serverTimeUs: Percentiles
  cpuUsPerRequest: Interval
  /** Store process CPU per request (Redis cells); null for in-process stores. */
  storeCpuUsPerRequest: Interval | null
  /** Servers plus store process, per request. */
  totalCpuUsPerRequest: Interval
  /** Median over rounds of the servers' busy share. */
  serverBusyShare: number
  /** Rounds whose window left the servers under CLIENT_BOUND_SHARE busy. */
  clientBoundRounds: number
  storeOpsPerRequest: OpsPerRequest
  bytesPerRequest: { request: number; response: number }
  non2xx: number
  errors: number
  status401Share: number
  rssBytes: number
  /**
   * Server CPU per request over the baseline's, µs: per round the cell's less the mean of the two
   * baseline windows around it, median and interval over rounds; 0 for the baseline, null without
   * a bracketed round (open-loop and lifecycle runs, older results).
   */
  overheadUs?: Interval | null
  /** Medians of the per-round ratios to the mean of the two baseline windows around each window. */
  ratioToBaseline: { rps: number | null; cpu: number | null }
  /**
   * The server's instructions per request, counted under valgrind's callgrind after the rounds
   * (scenario `measure.instructions`); null when not asked, absent in older results.
   */
  instructionsPerRequest?: InstructionCount | null
}

/**
 * Instructions per request of one cell, counted on one server started for the count (one
 * instance, as the cell starts it) under valgrind's callgrind: after an uncounted warm-up of the
 * cell's own requests, sequential on one keep-alive connection, each batch counted with
 * instrumentation on. The count does not move with the host's speed, so one start per cell
 * stands for every round (how far two starts agree, cell by cell: docs/contracts.md). What it
 * holds: the server process's own user-space instructions, every thread. What it misses: time in
 * the kernel (syscalls, the loopback network stack), waiting on the store, the store's own process.
 */
export interface InstructionCount {
  /** Instructions per request over every counted batch (the batches are of one size: their mean). */
  mean: number
  /** The lowest and highest batch. */
  low: number
  high: number
  /** Each batch's instructions per request, in order. */
  perBatch: number[]
  warmupRequests: number
  batchRequests: number
  /** Wall-clock seconds the count took, the server's start under valgrind included. */
  seconds: number
}

/** What happened to an access credential after logout, measured against every instance. */
export interface RevocationProbe {
  /** Status of GET /me with the logged-out credential, one per instance. */
  statusAfterLogout: number[]
  /**
   * 0 when logout ends it everywhere at once; else how long it keeps working somewhere (a JWT's
   * remaining lifetime), or null when that is bounded only by the server-side session timeouts.
   */
  keepsWorkingSeconds: number | null
}

/**
 * One primitive to time. `fn` performs `batch` operations per call (tiny operations are repeated
 * so the timer's own cost does not dominate); setup happens before, outside the timed region.
 */
export interface MicroTask {
  /** Stable key the cost breakdown looks up, e.g. `verify:HS256:jose`, `store-read:sqlite`. */
  id: string
  name: string
  group: 'jwt-verify' | 'jwt-sign' | 'floor' | 'jose-key' | 'session' | 'cookie' | 'store' | 'parsing'
  batch: number
  fn: () => unknown
}

export interface MicroTaskResult {
  id: string
  name: string
  group: MicroTask['group']
  status: 'ok' | 'skipped' | 'failed'
  reason: string | null
  /** Operations per second (batched tasks count each operation). */
  opsPerSecond: number | null
  meanUs: number | null
  /** p99 of the timed calls divided by the batch size. */
  p99Us: number | null
  /**
   * Process CPU time (all threads, so WebCrypto's thread pool counts) per operation over the
   * timed calls: what a request pays in CPU, where meanUs of an asynchronous task is wall time.
   */
  cpuUs: number | null
  samples: number | null
}

export interface MicroResults {
  environment: Environment
  quick: boolean
  startedAt: string
  tasks: MicroTaskResult[]
}

/**
 * A library session cell's configuration as its servers ran it (`sessionLibrary`): the library, preset and store, the
 * cookie the library sets (the harness's clients presented it), the adapter and what it offers against a write per
 * request, and every setting that is not the README's configuration (or a default kept on purpose), each with why.
 */
export type SessionLibraryRecord = Pick<
  LibraryConfig,
  'library' | 'preset' | 'store' | 'cookieName' | 'adapter' | 'adapterOffers' | 'settings'
>

export interface CellResult extends CellPlan {
  status: CellStatus
  /** A library session's configuration (`sessionLibrary`); absent or null for every other cell. */
  library?: SessionLibraryRecord | null
  reason: string | null
  /** A finding to show rather than hide, e.g. the share of 401s across instances. */
  note: string | null
  expected: { ops: ExpectedOps; status401Share: number }
  credential: CredentialInfo | null
  revocationProbe: RevocationProbe | null
  rounds: RoundResult[]
  summary: CellSummary | null
  /** Open mode: the latency curve, one point per rate (fixed rates first, then capacity fractions); null in closed mode. */
  openLoop: OpenLoopPoint[] | null
  /** Lifecycle workload: the cell's whole-lifetime figures; null for other workloads. */
  lifecycle: LifecycleSummary | null
  /** Faults applied to this cell (its store, its instances, its store host's link): its first window in 100 ms buckets; null
   * otherwise. */
  timeline: TimelinePoint[] | null
  /** Faults applied to this cell: what the users went through and how long recovery took; null otherwise. */
  recovery: Recovery | null
  /**
   * A delay proxy between the servers and Redis (`storeRttMs`): the round trip asked, the round trip
   * it adds (median of PINGs in turn, through it less straight to Redis, µs), and its own CPU per
   * chunk forwarded over the cell's life; null without one.
   */
  storeRtt: { askedMs: number; addedUs: number; directUs: number; proxyCpuUsPerChunk: number | null } | null
}

export interface ResultsFile {
  schemaVersion: typeof SCHEMA_VERSION
  /** `faults`: the scenario's fault timeline, null when it has none (older results files lack the field: read it as null);
   * `simulate`: the scenario asked for the fleet model (absent: false). */
  scenario: {
    name: string
    description: string
    file: string
    workload: Scenario['workload']
    load: Scenario['load']
    baseline: string
    faults?: Scenario['faults'] | null
    simulate?: boolean
  }
  smoke: boolean
  startedAt: string
  finishedAt: string
  environment: Environment
  interrupted: boolean
  noiseControl: NoiseControl
  cells: CellResult[]
  /** Open-loop runs on this machine: the load driver's latency floor at a grid of rates (a server that answers at once, where
   * the servers run); absent in older results and elsewhere. */
  driverFloor?: FloorPoint[]
  /** A run with a HAProxy cell (not remote): HAProxy's own CPU per request at each rate of a ladder, nothing behind it to wait on. */
  balancerFloor?: BalancerFloorPoint[]
  micro: MicroResults | null
}
