import * as hdr from 'hdr-histogram-js'
import { newHistogram } from '../common/histogram.ts'
import type { StatsSnapshot } from '../servers/metrics.ts'
import { drive, requestBytes, type Driver } from './drive/closed.ts'
import { openLoop, type OpenDriver, type OpenLoopOptions } from './drive/open.ts'
import type { LoadRequest } from './contracts/client.ts'
import type { ExternalCounts } from './stores/run/index.ts'
import type { CellRuntime } from './verify.ts'
import { CLIENT_BOUND_SHARE, type InstanceWindow, type OpenMeasurement, type RoundMeasurement } from './contracts/results.ts'
import type { Scenario } from './contracts/scenario.ts'

const settle = () => new Promise((r) => setTimeout(r, 100))

export type Snapshot = { stats: StatsSnapshot[]; counts: ExternalCounts | null; storeCpuUs: number | null; balancerCpuUs: number | null }

/** What a window reads: every instance, the store, and a balancer when there is one. */
export type Counted = Pick<CellRuntime, 'servers' | 'counts' | 'storeCpuUs'> & Partial<Pick<CellRuntime, 'balancerCpuUs'>>

/** Every counter of a window's edge, each instance's histogram reset to it. */
export async function snapshot(rt: Counted): Promise<Snapshot> {
  const stats = await Promise.all(rt.servers.map((s) => s.stats(true)))
  return { stats, counts: await rt.counts(), storeCpuUs: await rt.storeCpuUs(), balancerCpuUs: rt.balancerCpuUs?.() ?? null }
}

/** What every instance counted over a window, summed; the store's own counts and CPU over it. */
export interface WindowCounts {
  served: number
  serverCpuUs: number
  storeCpuUs: number | null
  /** The balancer's CPU over the window, or null without one. */
  balancerCpuUs: number | null
  /** Requests each instance served. */
  instanceRequests: number[]
  /** Each instance's own figures over the window. */
  instances: InstanceWindow[]
  /** Requests in flight at the window's edges (opening plus closing), after the wait for them to settle: 0 for an exact window. */
  unsettled: number
  /** Requests the servers answered 5xx, those whose client had gone included. */
  failed: number
  /** Answers that carried a Set-Cookie; null where a server's count was not read (remote mode). */
  setCookies: number | null
  ops: { reads: number; writes: number; deletes: number }
  external: ExternalCounts | null
  rssBytes: number
  /** Server request time, merged over the instances. */
  serverTimeUs: RoundMeasurement['serverTimeUs']
  /** The same, whole: HdrHistogram compressed base64 (what the fleet model samples service times from). */
  serverTimeHistogram: string
}

/** How long a window's edge waits for the requests in flight to settle before it is read anyway (and the window marked). */
const SETTLE_BOUND_MS = 10_000

/**
 * Reads every counter before and after `run`, each edge once the servers are quiet, and sums over
 * the instances: a request still in its handler at an edge (the warm-up's, or one whose client
 * gave up when the load stopped) would split its store operations across the edge.
 */
export async function countWindow<T>(
  rt: Counted,
  run: () => Promise<T>,
  boundMs = SETTLE_BOUND_MS,
): Promise<{ result: T; counts: WindowCounts }> {
  await quiet(rt, boundMs)
  const window = await openWindow(rt)
  const result = await run()
  await quiet(rt, boundMs)
  return { result, counts: await window.close() }
}

/**
 * Waits until no instance has a request in flight and the counters have stopped (two reads 100 ms
 * apart agree), at most `boundMs`: a request the client gave up on at the window's end may still
 * be finishing its work (a login's password hash, then its session write; a store that answers
 * late), and the window must hold both or neither. A slow machine only makes this wait longer;
 * what is still in flight after the bound is in the edge's snapshot, and the window is marked.
 */
async function quiet(rt: Counted, boundMs: number): Promise<void> {
  const read = async () => {
    const stats = await Promise.all(rt.servers.map((s) => s.stats(false)))
    return {
      moved: stats.reduce((n, s) => n + s.requests + s.reads + s.writes + s.deletes, 0),
      inFlight: stats.reduce((n, s) => n + s.inFlight, 0),
    }
  }
  const deadline = performance.now() + boundMs
  let last = -1
  do {
    await settle()
    const now = await read()
    if (now.inFlight === 0 && now.moved === last) return
    last = now.moved
  } while (performance.now() < deadline)
}

/**
 * Reads every counter now; `close` reads them again and sums the differences over the instances.
 * For windows whose edges fall while load goes on (the lifecycle), with no settle around them.
 */
export async function openWindow(rt: Counted): Promise<{ close(): Promise<WindowCounts> }> {
  const before = await snapshot(rt)
  return { close: async () => windowCounts(before, await snapshot(rt)) }
}

/** What every instance counted between two edges, summed, and each instance's own share. */
export function windowCounts(before: Snapshot, after: Snapshot): WindowCounts {
  const sum = (pick: (s: StatsSnapshot) => number) => after.stats.reduce((n, s, i) => n + pick(s) - pick(before.stats[i]!), 0)
  const merged = newHistogram()
  for (const s of after.stats) merged.add(hdr.decodeFromCompressedBase64(s.requestTimeHistogram))
  const delta = (k: keyof ExternalCounts) => after.counts![k] - before.counts![k]
  return {
    served: sum((s) => s.requests),
    serverCpuUs: sum((s) => s.cpuUs),
    storeCpuUs: before.storeCpuUs !== null && after.storeCpuUs !== null ? after.storeCpuUs - before.storeCpuUs : null,
    balancerCpuUs: before.balancerCpuUs !== null && after.balancerCpuUs !== null ? after.balancerCpuUs - before.balancerCpuUs : null,
    instanceRequests: after.stats.map((s, i) => s.requests - before.stats[i]!.requests),
    instances: after.stats.map((s, i) => {
      const b = before.stats[i]!
      const { p50, p90, p99, max, mean } = s.requestTimeUs
      return {
        requests: s.requests - b.requests,
        cpuUs: s.cpuUs - b.cpuUs,
        ops: { reads: s.reads - b.reads, writes: s.writes - b.writes, deletes: s.deletes - b.deletes },
        serverTimeUs: { p50, p90, p99, max, mean },
      }
    }),
    unsettled: [...before.stats, ...after.stats].reduce((n, s) => n + s.inFlight, 0),
    failed: sum((s) => s.failed),
    setCookies: [...before.stats, ...after.stats].some((s) => s.setCookies === null) ? null : sum((s) => s.setCookies ?? 0),
    ops: { reads: sum((s) => s.reads), writes: sum((s) => s.writes), deletes: sum((s) => s.deletes) },
    external:
      before.counts && after.counts
        ? { reads: delta('reads'), writes: delta('writes'), deletes: delta('deletes'), total: delta('total') }
        : null,
    rssBytes: Math.max(...after.stats.map((s) => s.rssBytes)),
    serverTimeUs: {
      p50: merged.getValueAtPercentile(50),
      p90: merged.getValueAtPercentile(90),
      p99: merged.getValueAtPercentile(99),
      max: merged.maxValue,
      mean: merged.totalCount ? merged.mean : 0,
    },
    serverTimeHistogram: hdr.encodeIntoCompressedBase64(merged),
  }
}

/**
 * One measured window, with every instance's counters and CPU read before and after it and
 * summed. A cell's servers live through every round, so only its first window needs the warm-up
 * (JIT, connection pools).
 */
export async function measureRound(
  rt: Counted & Pick<CellRuntime, 'requests' | 'serverCpuCount' | 'targets'>,
  window: { round: number; slot: number; warmup: boolean },
  load: Scenario['load'],
  signal?: AbortSignal,
  driver: Driver = drive,
): Promise<RoundMeasurement> {
  const { round, slot } = window
  const urls = rt.targets
  if (window.warmup && load.warmupSeconds > 0) await driver(urls, rt.requests, load.connections, load.warmupSeconds, signal)
  const { result, counts: c } = await countWindow(rt, () => driver(urls, rt.requests, load.connections, load.durationSeconds, signal))
  const served = c.served
  const per = (n: number) => (served === 0 ? 0 : n / served)
  const serverCpuUs = c.serverCpuUs
  const storeCpuUs = c.storeCpuUs
  const busy = busyShare(serverCpuUs, result.durationSeconds, rt)
  return {
    round,
    slot,
    requests: served,
    durationSeconds: result.durationSeconds,
    rps: result.rps,
    latencyMs: result.latencyMs,
    serverTimeUs: c.serverTimeUs,
    cpuUsPerRequest: per(serverCpuUs),
    storeCpuUsPerRequest: storeCpuUs === null ? null : per(storeCpuUs),
    totalCpuUsPerRequest: per(serverCpuUs + (storeCpuUs ?? 0) + (c.balancerCpuUs ?? 0)),
    serverBusyShare: busy,
    clientBound: busy < CLIENT_BOUND_SHARE,
    storeOpsPerRequest: { reads: per(c.ops.reads), writes: per(c.ops.writes), deletes: per(c.ops.deletes) },
    redisCommandsPerRequest: c.external
      ? { reads: per(c.external.reads), writes: per(c.external.writes), deletes: per(c.external.deletes), total: per(c.external.total) }
      : null,
    bytesPerRequest: {
      request: requestBytes(urls[0]!, rt.requests),
      response: result.requests ? result.responseBytes / result.requests : 0,
    },
    statusCounts: result.statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    status401Share: result.requests ? (result.statusCounts['401'] ?? 0) / result.requests : 0,
    setCookieShare: c.setCookies === null ? null : per(c.setCookies),
    rssBytes: c.rssBytes,
    instanceRequests: c.instanceRequests,
    unsettledRequests: c.unsettled,
    failedAnswers: c.failed,
    balancerCpuUsPerRequest: c.balancerCpuUs === null ? null : per(c.balancerCpuUs),
  }
}

/** Server CPU over the window and the CPUs the servers may use (one per instance at most). */
function busyShare(serverCpuUs: number, seconds: number, rt: Pick<CellRuntime, 'servers' | 'serverCpuCount'>): number {
  return seconds > 0 ? serverCpuUs / (seconds * 1e6 * Math.min(rt.servers.length, rt.serverCpuCount)) : 0
}

/** What every open-loop window of a run hands the driver: the run's arrivals and connections, seeded by its round. */
export function openOptions(
  urls: string[],
  requests: LoadRequest[],
  rate: number,
  durationSeconds: number,
  load: Scenario['load'],
  round: number,
  signal?: AbortSignal,
): OpenLoopOptions {
  return {
    urls,
    requests,
    rate,
    durationSeconds,
    connections: Math.max(100, load.connections),
    arrivals: load.arrivals,
    seed: round,
    ...(signal ? { signal } : {}),
  }
}

/** One open-loop window at `rate` requests/s, connections spread over the instances, every counter read around it. */
export async function measureOpen(
  rt: Counted & Pick<CellRuntime, 'requests' | 'serverCpuCount' | 'targets'>,
  point: { round: number; rate: number; fraction: number | null },
  load: Scenario['load'],
  signal?: AbortSignal,
  open: OpenDriver = openLoop,
): Promise<OpenMeasurement> {
  // The driver runs in this process: its CPU over the window is what the load took from the client's cores.
  let driverCpuUs = 0
  const { result: r, counts: c } = await countWindow(rt, async () => {
    const before = process.cpuUsage()
    const out = await open(openOptions(rt.targets, rt.requests, point.rate, load.durationSeconds, load, point.round, signal))
    const used = process.cpuUsage(before)
    driverCpuUs = used.user + used.system
    return out
  })
  const per = (n: number) => (c.served === 0 ? 0 : n / c.served)
  return {
    round: point.round,
    rate: point.rate,
    fraction: point.fraction,
    achievedRate: r.achievedRate,
    requests: r.requests,
    completed: r.completed,
    latencyUs: r.latencyUs,
    serviceTimeUs: r.serviceTimeUs,
    sendLagUs: r.sendLagUs,
    cpuUsPerRequest: per(c.serverCpuUs),
    storeCpuUsPerRequest: c.storeCpuUs === null ? null : per(c.storeCpuUs),
    driverCpuUsPerRequest: per(driverCpuUs),
    serverBusyShare: busyShare(c.serverCpuUs, r.durationSeconds, rt),
    serverTimeUs: c.serverTimeUs,
    serverTimeHistogram: c.serverTimeHistogram,
    storeOpsPerRequest: { reads: per(c.ops.reads), writes: per(c.ops.writes), deletes: per(c.ops.deletes) },
    unsettledRequests: c.unsettled,
    failedAnswers: c.failed,
    statusCounts: r.statusCounts,
    non2xx: r.non2xx,
    errors: r.errors,
    held: r.held,
    reason: r.reason ?? r.note,
    // The open loop's clients never log in: a timeline's logins are the lifecycle's.
    ...(r.timeline ? { timeline: r.timeline.map((b) => ({ ...b, logins: 0, forcedLogins: 0 })) } : {}),
  }
}
