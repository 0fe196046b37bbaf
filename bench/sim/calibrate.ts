// What the fleet model takes from a run (docs/contracts.md, "Fleet simulation"): per cell, the
// service time of one server, its CPU per request, the store's CPU per operation, store
// operations per request and the store's distance. Pure: results in, figures out.
import { SimulationInputError } from '../contracts/errors.ts'
import { median } from '../stats.ts'
import { storeDescriptors } from '../stores/index.ts'
import {
  moments,
  pointsFromHistograms,
  pointsFromQuantiles,
  quantileOf,
  scaledTo,
  type MeasuredQuantiles,
  type Points,
} from './queueing.ts'
import { ownStoreOps } from '../expected.ts'
import type { CellResult, OpenLoopPoint, ResultsFile } from '../contracts/results.ts'

export interface Calibration {
  cell: string
  strategy: CellResult['strategy']
  store: CellResult['store']
  /** Instances the cell ran with (its figures are per request, whichever instance served it). */
  instances: number
  /**
   * One server's time per request as the queue serves it, µs: the mean is the server CPU per
   * request of the cell's closed-loop windows (servers busy), the shape (p50, p99, squared
   * coefficient of variation) the servers' own request time at the lowest open-loop rate.
   */
  serviceTimeUs: { mean: number; p50: number; p99: number; scv: number; meanFrom: string; shapeFrom: string }
  serverCpuUsPerRequest: number
  /** The store process's CPU per counted operation (Redis's INFO cpu), µs; null for an in-process store. */
  storeCpuUsPerOp: number | null
  storeCpuFrom: string | null
  /** Share of one core the store process was busy in the windows its CPU per operation came from; a light-load figure
   * overstates its cost per operation. Null where not measured. */
  storeBusyShare: number | null
  /** Reads of the users table per request (GET /profile, POST /login): SQLite's, outside the model. */
  userTableReads: number
  /**
   * Operations per request that reach the cell's store (reads + writes + deletes), steady state or,
   * on the lifecycle workload, over every request the servers answered (refreshes, logins, renewals
   * included). Redis: its own command counts, so a users-table read (SQLite) is not in them.
   */
  storeOpsPerRequest: number
  /** The store is a process the servers reach over the network (Redis), so a fleet can share it and its distance matters. */
  networkStore: boolean
  /** Round trip the run added between servers and store (the delay proxy), µs; 0 on loopback. */
  storeRttUs: number
  bytesPerRequest: number
  /** The open-loop point the latency model starts from (lowest rate), or null (lifecycle cells). */
  lowLoad: { rate: number; load: number; latencyUs: MeasuredQuantiles; serverTimeUs: MeasuredQuantiles; cpuUsPerRequest?: number } | null
  /** Lifecycle cells: refreshes and logins per GET, and the access-token lifetime. */
  lifecycle: { accessTtlSeconds: number | null; refreshesPerGet: number; loginsPerGet: number; storeOpsPerGetOnly: number } | null
  /**
   * The latency model's service: each request's time in the server drawn from the servers' own
   * request times at the lowest rate (every request of its typical round, from its histogram, or
   * rebuilt from the quantiles in older results), and the core time it occupies per µs of that
   * time: the busy CPU per request (`busyCpuUs`, from `busyFrom`) over the mean of those times.
   */
  own: { from: string; meanUs: number; p50Us: number; p99Us: number; maxUs: number; busyCpuUs: number; busyFrom: string } | null
  /**
   * The servers' CPU per request measured at each open-loop rate the driver held (medians over
   * rounds), and at the closed-loop rate (the servers busy): the core time a request occupies
   * follows the rate (a sleeping server pays to wake), so the latency model reads it off these at
   * each rate, the point it predicts left out (docs/model.md, "What feeds the latency model").
   */
  coreTime: { rate: number; cpuUsPerRequest: number; from: 'open' | 'closed' }[]
  /**
   * The servers' own request time p50, p90 and p99 (onRequest to onResponse, medians over rounds) at each open-loop rate the
   * driver held: the p50 falls as the rate rises (a busy process stays warm) while a tail set by the host need not, so the latency
   * model reshapes the lowest rate's times, quantile by quantile, to the figures read off these at each rate, the point it
   * predicts left out (docs/model.md, "What feeds the latency model").
   */
  ownTime: { rate: number; p50Us: number; p90Us: number; p99Us: number }[]
  /**
   * The same figures round by round: each round of each held open-loop point at the rate that round achieved (`point`: the
   * point's rate, what leaving a point out drops), and each round's closed-loop window. A point's rounds ran at different rates
   * (each a share of its own round's closed-loop capacity) on a machine whose speed moved between rounds, and its measured
   * figures are medians over them; the latency model replays each round (docs/model.md, "What feeds the latency model").
   */
  byRound: {
    coreTime: { round: number; point: number | null; rate: number; cpuUsPerRequest: number; from: 'open' | 'closed' }[]
    ownTime: { round: number; point: number; rate: number; p50Us: number; p90Us: number; p99Us: number }[]
  }
  /** Which measurement calibrates each model quantity (docs/model.md, "What feeds the latency model"). */
  sources: { quantity: string; from: string }[]
  /** The store's single-threaded servers a call can queue at (one Redis, a cluster's masters); null for a per-connection store
   * (PostgreSQL: its host's cores, a model option). */
  storeServers: number | null
}

/** A calibration with the sampled distribution the model computes with (not written out). */
export interface Calibrated extends Calibration {
  /** The servers' own request times at the low-load point, every request of its typical round (what the DES samples), or null. */
  ownPoints: Points | null
}

const sumOps = (o: { reads: number; writes: number; deletes: number }) => o.reads + o.writes + o.deletes

/** A cell's CPU per request and own p50 round by round, at each round's achieved rate (`Calibration.byRound`). */
function byRound(c: CellResult): Calibration['byRound'] {
  const points = (c.openLoop ?? []).filter((p) => p.heldRounds > 0 && p.rounds.length > 0)
  // A round whose rate the driver did not hold measured the host as much as the servers: its figures are no anchor.
  const rounds = points.flatMap((p) => p.rounds.filter((r) => r.held !== false && r.achievedRate > 0).map((r) => ({ p, r })))
  return {
    coreTime: [
      ...rounds.map(({ p, r }) => ({
        round: r.round,
        point: p.achievedRate,
        rate: r.achievedRate,
        cpuUsPerRequest: r.cpuUsPerRequest,
        from: 'open' as const,
      })),
      ...(c.lifecycle ? [] : c.rounds).map((r) => ({
        round: r.round,
        point: null,
        rate: r.rps,
        cpuUsPerRequest: r.cpuUsPerRequest,
        from: 'closed' as const,
      })),
    ].sort((a, b) => a.rate - b.rate),
    ownTime: rounds
      .filter(({ r }) => r.serverTimeUs)
      .map(({ p, r }) => ({
        round: r.round,
        point: p.achievedRate,
        rate: r.achievedRate,
        p50Us: r.serverTimeUs.p50,
        p90Us: r.serverTimeUs.p90,
        p99Us: r.serverTimeUs.p99,
      }))
      .sort((a, b) => a.rate - b.rate),
  }
}

/** The lowest-rate open-loop point whose rate the driver held in at least one round. */
function lowLoadPoint(c: CellResult): OpenLoopPoint | null {
  const held = (c.openLoop ?? []).filter((p) => p.heldRounds > 0 && p.rounds.length > 0)
  return held.length ? held.reduce((a, b) => (b.achievedRate < a.achievedRate ? b : a)) : null
}

function serverQuantiles(p: OpenLoopPoint): MeasuredQuantiles | null {
  const rounds = p.rounds.filter((r) => r.serverTimeUs)
  if (!rounds.length) return null
  const m = (k: 'p50' | 'p90' | 'p99' | 'max' | 'mean') => median(rounds.map((r) => r.serverTimeUs[k]))
  return { p50: m('p50'), p90: m('p90'), p99: m('p99'), max: m('max'), mean: m('mean') }
}

/**
 * The servers' own request times at a point, every request of one round: the round whose longest
 * time is the median's (the lower middle of an even count), as the measured points are medians
 * over rounds, where a pause that struck one round of three does not show. Rebuilt from the
 * quantiles where older results lack the histograms.
 */
function ownTimes(p: OpenLoopPoint): Points | null {
  const withHist = p.rounds.filter((r) => r.serverTimeHistogram)
  if (withHist.length === p.rounds.length && withHist.length > 0) {
    const typical = [...withHist].sort((a, b) => a.serverTimeUs.max - b.serverTimeUs.max)[Math.floor((withHist.length - 1) / 2)]!
    return pointsFromHistograms([typical.serverTimeHistogram!])
  }
  const q = serverQuantiles(p)
  return q ? pointsFromQuantiles(q) : null
}

/**
 * Operations per request that reach the cell's own store. For Redis: its own command counts (INFO
 * commandstats), so the users table's reads (always SQLite, counted with the store's in
 * results.json) stay out of Redis's queue and its CPU per operation. Else the counted operations.
 */
function storeOpsOf(c: CellResult): number {
  const counted = c.lifecycle ? sumOps(c.lifecycle.storeOpsPerRequest) : c.summary ? sumOps(c.summary.storeOpsPerRequest) : 0
  if (c.store === null || storeDescriptors[c.store].awaits === null) return counted
  const redis = c.lifecycle
    ? c.lifecycle.rounds.filter((r) => r.redisCommands && r.served > 0).map((r) => sumOps(r.redisCommands!) / r.served)
    : c.rounds.filter((r) => r.redisCommandsPerRequest).map((r) => sumOps(r.redisCommandsPerRequest!))
  return redis.length ? median(redis) : Math.max(0, counted - (c.lifecycle ? 0 : c.expected.ops.userReads))
}

/** The store process's CPU per operation it served, or null where the run did not measure it. */
function storeCpuPerOp(c: CellResult, ops = storeOpsOf(c)): number | null {
  if (ops === 0) return null
  if (c.lifecycle) {
    const rounds = c.lifecycle.rounds.filter((r) => r.storeCpuUsPerRequest !== null)
    return rounds.length ? median(rounds.map((r) => r.storeCpuUsPerRequest!)) / ops : null
  }
  return c.summary?.storeCpuUsPerRequest ? c.summary.storeCpuUsPerRequest.median / ops : null
}

/** Per-cell calibration from a run; cells without what the model needs are left out with the reason. */
export function calibrate(results: ResultsFile): { cells: Calibrated[]; skipped: { cell: string; reason: string }[] } {
  const ok = results.cells.filter((c) => c.status === 'ok')
  const donors = ok.flatMap((c) => {
    const v = storeCpuPerOp(c)
    return v === null || !c.store ? [] : [{ cell: c.id, store: c.store, v }]
  })
  const skipped: { cell: string; reason: string }[] = []
  const cells: Calibrated[] = []
  for (const c of results.cells) {
    if (c.status !== 'ok') {
      skipped.push({ cell: c.id, reason: `status ${c.status}` })
      continue
    }
    const low = lowLoadPoint(c)
    const networkStore = c.store !== null && storeDescriptors[c.store].awaits !== null
    let cpu: number
    let meanFrom: string
    let lifecycle: Calibration['lifecycle'] = null
    if (c.lifecycle) {
      cpu = c.lifecycle.cpuUsPerRequest
      meanFrom = 'server CPU per request over the lifecycle windows (every request kind)'
      const l = c.lifecycle
      const gets = Math.max(1, l.requests)
      lifecycle = {
        accessTtlSeconds: l.accessTtlSeconds,
        refreshesPerGet: l.refreshes / gets,
        loginsPerGet: l.logins / gets,
        storeOpsPerGetOnly: ownStoreOps(c.expected.ops),
      }
    } else if (c.summary && low) {
      cpu = c.summary.cpuUsPerRequest.median
      meanFrom = 'server CPU per request in the closed-loop windows (servers busy)'
    } else {
      skipped.push({
        cell: c.id,
        reason: low ? 'no closed-loop window to take its CPU per request from' : 'no open-loop point the driver held (closed loop only)',
      })
      continue
    }
    const opsPerRequest = storeOpsOf(c)
    const serverQ = low ? serverQuantiles(low) : null
    const lowServer = serverQ ? pointsFromQuantiles(serverQ) : null
    const shapeFrom = serverQ ? `servers' request time at ${Math.round(low!.achievedRate)}/s` : 'none measured: taken as fixed'
    const service = scaledTo(lowServer ?? new Float64Array(1000).fill(cpu), cpu)
    const m = moments(service)
    const ownPoints = low ? ownTimes(low) : null
    const ownM = ownPoints ? moments(ownPoints) : null
    // Busy CPU per request: the closed-loop windows', or the busiest held open-loop point's where
    // that is lower (two instances on one core thrash in a closed loop: it is no saturation to trust).
    const busiest = (c.openLoop ?? [])
      .filter((p) => p.heldRounds > 0)
      .reduce<OpenLoopPoint | null>((a, b) => (a === null || b.achievedRate > a.achievedRate ? b : a), null)
    const busy =
      busiest && busiest.cpuUsPerRequest < cpu
        ? {
            us: busiest.cpuUsPerRequest,
            from:
              `server CPU per request at ${Math.round(busiest.achievedRate)}/s, the busiest open-loop point the driver held ` +
              `(under the closed-loop windows' ${cpu.toFixed(0)} µs)`,
          }
        : { us: cpu, from: meanFrom }
    const prov = c.store === null ? null : storeDescriptors[c.store]
    const own = storeCpuPerOp(c, opsPerRequest)
    const donor = own === null && networkStore ? (donors.find((d) => d.store === c.store) ?? null) : null
    cells.push({
      cell: c.id,
      strategy: c.strategy,
      store: c.store,
      instances: c.instances,
      serviceTimeUs: { mean: m.mean, p50: quantileOf(service, 0.5), p99: quantileOf(service, 0.99), scv: m.scv, meanFrom, shapeFrom },
      serverCpuUsPerRequest: cpu,
      storeCpuUsPerOp: networkStore ? (own ?? donor?.v ?? null) : null,
      storeCpuFrom: !networkStore
        ? null
        : own !== null
          ? "INFO cpu over this cell's windows"
          : donor
            ? `INFO cpu of ${donor.cell} (this cell did no store operation per request)`
            : null,
      storeBusyShare:
        own !== null && c.summary?.storeCpuUsPerRequest && !c.lifecycle
          ? (c.summary.storeCpuUsPerRequest.median * c.summary.rps.median) / 1e6
          : null,
      userTableReads: c.lifecycle ? 0 : c.expected.ops.userReads,
      storeOpsPerRequest: opsPerRequest,
      networkStore,
      storeRttUs: c.storeRtt?.addedUs ?? 0,
      bytesPerRequest: c.summary ? c.summary.bytesPerRequest.request + c.summary.bytesPerRequest.response : 0,
      lowLoad: low
        ? {
            rate: low.achievedRate,
            load: (low.achievedRate * cpu) / c.instances / 1e6,
            latencyUs: { p50: low.latencyUs.p50, p90: low.latencyUs.p90, p99: low.latencyUs.p99, max: low.latencyUs.max },
            serverTimeUs: serverQ ?? { p50: cpu, p90: cpu, p99: cpu, max: cpu },
            cpuUsPerRequest: low.cpuUsPerRequest,
          }
        : null,
      lifecycle,
      own:
        ownPoints && ownM
          ? {
              from:
                `servers' own request time ` +
                `at ${Math.round(low!.achievedRate)}/s (${
                  low!.rounds.every((r) => r.serverTimeHistogram)
                    ? 'every request of ' + 'the round whose longest time is the median, from its histogram'
                    : "rebuilt from the windows' quantiles"
                })`,
              meanUs: ownM.mean,
              p50Us: quantileOf(ownPoints, 0.5),
              p99Us: quantileOf(ownPoints, 0.99),
              maxUs: ownPoints[ownPoints.length - 1]!,
              busyCpuUs: busy.us,
              busyFrom: busy.from,
            }
          : null,
      coreTime: [
        ...(c.openLoop ?? [])
          .filter((p) => p.heldRounds > 0 && p.rounds.length > 0)
          .map((p) => ({ rate: p.achievedRate, cpuUsPerRequest: p.cpuUsPerRequest, from: 'open' as const })),
        ...(c.summary && !c.lifecycle
          ? [{ rate: c.summary.rps.median, cpuUsPerRequest: c.summary.cpuUsPerRequest.median, from: 'closed' as const }]
          : []),
      ].sort((a, b) => a.rate - b.rate),
      ownTime: (c.openLoop ?? [])
        .filter((p) => p.heldRounds > 0 && p.rounds.length > 0)
        .flatMap((p) => {
          const q = serverQuantiles(p)
          return q ? [{ rate: p.achievedRate, p50Us: q.p50, p90Us: q.p90, p99Us: q.p99 }] : []
        })
        .sort((a, b) => a.rate - b.rate),
      byRound: byRound(c),
      storeServers: prov === null || !networkStore || prov.threading === 'per-connection' ? null : Math.max(1, prov.processes),
      sources: [
        { quantity: 'service demand (capacity)', from: meanFrom },
        ...(ownPoints
          ? [
              {
                quantity: 'time in the server (sampled per request)',
                from:
                  `servers' own request times at ${Math.round(low!.achievedRate)}/s, the lowest rate the driver ` +
                  `held${
                    low!.rounds.every((r) => r.serverTimeHistogram)
                      ? ' (every request of the round whose longest time is ' + 'the median, from its histogram)'
                      : " (rebuilt from the windows' p50, p90, p99, max and mean: an older run)"
                  }`,
              },
              { quantity: 'core time per request, busy', from: busy.from },
              {
                quantity: "core time of a process's wake-up",
                from: results.driverFloor?.some((f) => typeof f.cpuUsPerRequest === 'number')
                  ? `its shape by sleep the floor server's CPU per request above its busiest rate's; its size the cell's CPU per ` +
                    `request at ${Math.round(low!.achievedRate)}/s above busy`
                  : 'not measured in this run (the busy CPU alone)',
              },
            ]
          : []),
        ...(networkStore
          ? [
              {
                quantity: 'store service per operation',
                from:
                  own !== null
                    ? "INFO cpu over this cell's windows, per command Redis counted (INFO commandstats)"
                    : donor
                      ? `INFO cpu of ${donor.cell}`
                      : 'not measured',
              },
              { quantity: 'store operations per request', from: "the store's own command counts per request" },
            ]
          : []),
        {
          quantity: 'outside the servers',
          from: results.driverFloor?.length
            ? "the driver's floor at the rate (a server that answers at once, pinned where the servers run), less that server's own time"
            : 'not measured in this run: no latency is judged',
        },
        {
          quantity: 'wake-ups (a core asleep, a process idle)',
          from: results.driverFloor?.length
            ? "the floor's p50 outside its server and its server's own p50, each above the busiest rate's, against the idle gap"
            : 'not measured in this run',
        },
      ],
      ownPoints,
    })
  }
  return { cells, skipped }
}

/** Throws with the scenario to run when a run has nothing the model can start from. */
export function requireOpenLoop(results: ResultsFile, cells: Calibrated[]): void {
  if (cells.some((c) => c.lowLoad || c.lifecycle)) return
  const what = !results.cells.some((c) => c.openLoop?.length)
    ? `"${results.scenario.name}" ran closed loop only`
    : `"${results.scenario.name}" has no open-loop point the driver held`
  throw new SimulationInputError(
    `${what}: the model needs each cell's service time at low load, from an open-loop run. Run scenarios/latency.ts (npm run ` +
      `bench -- scenarios/latency.ts), or a scenario with load.mode "open", and simulate that folder.`,
  )
}
