// The fleet model's latency layer (docs/model.md, "The latency model"): the DES driven as the run
// was (its arrival process, round robin over its instances, the cores they shared), each request's
// time in the server drawn from what the servers measured at low load, its store calls visits to
// the store's queue, a wake-up for a request that finds its core asleep, and the time outside the
// servers taken from the driver's floor at that rate. Pure: calibration in, predictions out.
import { cpuCount } from '../affinity.ts'
import { storeDescriptors } from '../stores/index.ts'
import { median } from '../stats.ts'
import { roundMedians } from '../summarize.ts'
import type { FloorPoint, OpenLoopPoint, ResultsFile } from '../contracts/results.ts'
import type { Calibrated } from './calibrate.ts'
import { simulate, wakeAt, type DesOptions } from './des.ts'
import { pointsFromHistograms, quantileOf, type Points } from './queueing.ts'

/**
 * Points whose measured utilisation is at or under this share are judged: the CPU the servers used over their cores, and
 * the CPU a store on the client's cores used over them, whichever is the higher. The driver's own CPU is not in it: within
 * 1.2 ms of its next send it spins, so it reads about half a core at 1,000/s and a whole one from about 1,200/s whatever
 * the servers do; whether it kept its schedule is its send lag, and a point whose rate it did not hold is not judged.
 */
export const JUDGED_CAPACITY = 0.7
/** A point's p50 holds within this share of the measured p50, its p99 within the second. */
export const TOLERANCE = { p50: 0.25, p99: 0.5 } as const
/** A layer (a cell, or every cell at one instance count) is published where at least these shares of its judged points held. */
export const TARGET_SHARE = { p50: 0.8, p99: 0.6 } as const
/** Requests the DES runs per predicted point (at least a second of arrivals). */
const REQUESTS = 20_000

/**
 * The driver's floor as the model reads it, per floor rate: the idle gap its server slept between
 * requests, the wake-up that gap cost (the floor's p50 outside the server above the busiest rate's),
 * and the time outside the server less that wake-up (the client and the loopback), as points.
 */
export interface FloorModel {
  rates: number[]
  gapUs: number[]
  wakeUs: number[]
  /** The driver's own send lag p99 at each floor rate (null in older results): what a cell's point is held against. */
  lagP99Us: (number | null)[]
  /** Outside the server at each floor rate, its wake-up taken out, µs. */
  outside: Points[]
  /**
   * The tail (p90 up) of the time outside the servers, quantile by quantile the median over the
   * floor's rates: the machine's timer and scheduler lateness, which does not follow the rate, and
   * which one window's p99 is too noisy to stand for.
   */
  tail: Points
  /** The wake-up table by idle gap, ascending (what the DES charges a request that finds its core asleep). */
  wake: { gapUs: number[]; us: number[] }
  /** The answering server's own time above the busiest rate's, by how long it slept: what a process pays inside itself after
   * sleeping (the DES adds it to a request that finds its instance idle). */
  instanceWake: { gapUs: number[]; us: number[] }
  /** The answering server's CPU per request above the busiest rate's, by how long it slept: the core time a process's wake-up
   * costs; null where the floor's CPU was not read. */
  cpuWake: { gapUs: number[]; us: number[] } | null
}

/** A table that only falls as the rate rises (its value at each rate at least the next busier rate's), less its busiest value. */
function fallingFromBusiest(values: number[]): number[] {
  const ref = values[values.length - 1]!
  const out = values.map(() => 0)
  let least = 0
  for (let k = values.length - 1; k >= 0; k--) {
    least = Math.max(least, values[k]! - ref)
    out[k] = least
  }
  return out
}

/**
 * The floor server's own queue at each floor rate, as sorted waits (µs), or null where its CPU was not read: the DES replaying
 * that server as it ran (the floor's arrivals at that rate, its own p50 as each request's time in it, its CPU per request at
 * its busiest rate as the core time of a request that finds it awake, what it paid above that at each sleep where one falls).
 * A server that answers at once still queues: on a quiet run it read 33 µs of CPU a request at 16,000/s, half its core.
 */
export function floorQueue(
  held: FloorPoint[],
  cpuWake: { gapUs: number[]; us: number[] } | null,
  arrivals: 'constant' | 'poisson',
): Float64Array[] | null {
  const busy = held[held.length - 1]?.cpuUsPerRequest
  if (!cpuWake || typeof busy !== 'number') return null
  return held.map((p) => {
    const own = Math.max(1, p.serverTimeUs.p50)
    const r = simulate({
      seed: 1,
      instances: 1,
      rate: p.rate,
      durationUs: (Math.max(REQUESTS, p.rate) / p.rate) * 1e6,
      arrivals,
      appUs: { kind: 'det', value: own },
      occupancy: Math.max(1, busy / own),
      occupancyBeyondUs: Math.max(0, busy - own),
      instanceWakeCpu: cpuWake,
      storeOps: 0,
      storeUs: null,
      storeRttUs: 0,
    })
    return r.responseUs.map((x) => Math.max(0, x - own))
  })
}

/** Rounds of `withoutQueue`'s correction. */
const UNQUEUE_ROUNDS = 8

/** Sorted x + w, each x paired with a w in a scrambled order (the two independent), as the DES adds a queue to the time outside. */
function addIndependent(x: Points, w: Float64Array): Float64Array {
  const n = x.length
  return Float64Array.from(x, (v, i) => v + w[Math.floor((((i * 7919) % n) + 0.5) * (w.length / n))]!).sort()
}

/**
 * The time outside the servers without the floor server's own queue: the sorted times y that, with the queue's waits `w`
 * added independently of them (as the DES adds a cell's queue), read as the floor measured (`x`, sorted): y moved quantile by
 * quantile by what y + w misses x by, a few rounds from y = x. Without waits, x as it is.
 */
export function withoutQueue(x: Points, w: Float64Array | null): Points {
  if (!w?.length || !x.length) return x
  let y = Float64Array.from(x)
  for (let round = 0; round < UNQUEUE_ROUNDS; round++) {
    const sum = addIndependent(y, w)
    y = Float64Array.from(y, (v, i) => Math.max(0, v + x[i]! - sum[i]!)).sort()
  }
  return y
}

/**
 * The floor model from a run's driver floor (the rates the driver held), or null without one. The time outside the servers
 * has the floor server's own queue taken out (`floorQueue`, quantile by quantile): the DES queues each cell's requests on its
 * own core time, so a floor that kept its server's queue would count the queue at a busy rate twice.
 */
export function floorModel(floor: FloorPoint[] | undefined, arrivals: 'constant' | 'poisson' = 'poisson'): FloorModel | null {
  const held = (floor ?? []).filter((p) => p.heldRounds > 0).sort((a, b) => a.rate - b.rate)
  if (held.length < 2) return null
  // The histogram is one round's (the one whose p99 is the median), whose p50 can sit 15-20 µs off the median over rounds: it is
  // moved to that median, as the cells' measured p50 are medians over rounds.
  const coldUs = fallingFromBusiest(held.map((p) => p.serverTimeUs.p50))
  const cpu = held.every((p) => typeof p.cpuUsPerRequest === 'number') ? fallingFromBusiest(held.map((p) => p.cpuUsPerRequest!)) : null
  const gapUs = held.map((p) => Math.max(0, 1e6 / p.rate - p.serverTimeUs.p50))
  const order = gapUs.map((_, k) => k).sort((a, b) => gapUs[a]! - gapUs[b]!)
  const cpuWake = cpu ? { gapUs: order.map((k) => gapUs[k]!), us: order.map((k) => cpu[k]!) } : null
  // The floor server's own queue is taken out first: the DES queues each cell on its own core time.
  const queue = floorQueue(held, cpuWake, arrivals)
  const outsideAll = held.map((p, k) => {
    const latency = pointsFromHistograms([p.latencyHistogram])!
    const moved = p.latencyUs.p50 - quantileOf(latency, 0.5)
    return withoutQueue(
      latency.map((x) => Math.max(0, x + moved - p.serverTimeUs.p50)),
      queue?.[k] ?? null,
    )
  })
  const p50 = outsideAll.map((o) => quantileOf(o, 0.5))
  // The wake-up falls as the rate rises (shorter sleeps); noise between neighbouring rates is not a
  // wake-up, so the table is made monotone from the busiest rate down.
  const wakeUs = fallingFromBusiest(p50)
  const outside = outsideAll.map((o, k) => o.map((x) => Math.max(0, x - wakeUs[k]!)))
  const n = outside[0]!.length
  const tail = new Float64Array(n - Math.floor(TAIL_FROM * n))
  for (let i = 0; i < tail.length; i++) tail[i] = median(outside.map((o) => o[Math.floor(TAIL_FROM * n) + i]!))
  return {
    rates: held.map((p) => p.rate),
    gapUs,
    wakeUs,
    lagP99Us: held.map((p) => p.sendLagP99Us ?? null),
    outside,
    tail,
    wake: { gapUs: order.map((k) => gapUs[k]!), us: order.map((k) => wakeUs[k]!) },
    instanceWake: { gapUs: order.map((k) => gapUs[k]!), us: order.map((k) => coldUs[k]!) },
    cpuWake,
  }
}

/** From this quantile up, the time outside the servers is the floor's pooled tail. */
const TAIL_FROM = 0.9

/** Outside the servers at `rate`: up to p90 the two floor rates around it mixed by log distance (the nearest alone past the ends),
 * above it the pooled tail; each times its factor in `level`. */
export function outsideAt(f: FloorModel, rate: number, level: OutsideLevel = UNSCALED): Points {
  const body = level.body === 1 ? bodyAt(f, rate) : bodyAt(f, rate).map((x) => x * level.body)
  const from = body.length - f.tail.length
  const out = Float64Array.from(body)
  for (let i = 0; i < f.tail.length; i++) out[from + i] = Math.max(body[from - 1] ?? 0, f.tail[i]! * level.tail)
  return out.sort()
}

/** Factors on the floor's time outside the servers: its body (up to p90) and its tail (from p90). */
export interface OutsideLevel {
  body: number
  tail: number
}
const UNSCALED: OutsideLevel = { body: 1, tail: 1 }

function bodyAt(f: FloorModel, rate: number): Points {
  const { rates, outside } = f
  if (rate <= rates[0]!) return outside[0]!
  if (rate >= rates[rates.length - 1]!) return outside[outside.length - 1]!
  const k = rates.findIndex((r) => r >= rate)
  const a = (Math.log(rate) - Math.log(rates[k - 1]!)) / (Math.log(rates[k]!) - Math.log(rates[k - 1]!))
  const lo = outside[k - 1]!
  const hi = outside[k]!
  const n = lo.length
  const take = Math.round(a * n)
  const mixed = new Float64Array(n)
  // Every other point of each, in proportion: a sample of the mixture.
  for (let i = 0; i < n; i++)
    mixed[i] = i < take ? hi[Math.floor(((i + 0.5) * hi.length) / take)]! : lo[Math.floor(((i - take + 0.5) * lo.length) / (n - take))]!
  return mixed.sort()
}

/** How many cores the run's servers had: the instances share them (two instances on one core are one queue). */
export function serverCores(results: ResultsFile): number {
  const a = results.environment.cpuAffinity
  return a ? cpuCount(a.server) : results.environment.cpus.count
}

/**
 * The core time a request occupies at `rate`: the cell's CPU per request at the open-loop rates it held, linear in the log of
 * the rate between the two around `rate` (flat past the ends), with the closed-loop rate (the servers busy) as the top end.
 * The point at `leaveOut` is not used, so a point is predicted from what was measured elsewhere; the closed-loop figure is
 * taken at most as the lowest open-loop one (two instances on one core thrash in a closed loop). Null without any figure.
 */
export function coreTimeAt(anchors: CoreAnchor[], rate: number, leaveOut: number | null = null): number | null {
  const open = anchors.filter((a) => a.from === 'open' && kept(a, leaveOut))
  const closed = anchors.find((a) => a.from === 'closed')
  const pts = open.map((a) => ({ rate: a.rate, us: a.cpuUsPerRequest }))
  if (closed && (!pts.length || closed.rate > pts[pts.length - 1]!.rate))
    pts.push({ rate: closed.rate, us: Math.min(closed.cpuUsPerRequest, ...pts.map((p) => p.us)) })
  return inLogRate(pts, rate)
}

/** The servers' own request time at a rate, at its p50, p90 and p99, µs. */
export interface OwnShape {
  p50: number
  p90: number
  p99: number
}

/**
 * The servers' own request time at `rate`, its p50, p90 and p99: each the cell's figures at the open-loop rates it held, linear
 * in the log of the rate between the two around `rate` (flat past the ends), the point at `leaveOut` not used, and each at least
 * the quantile below it. Null without any figure.
 */
export function ownShapeAt(anchors: OwnAnchor[], rate: number, leaveOut: number | null = null): OwnShape | null {
  const at = (k: 'p50Us' | 'p90Us' | 'p99Us') =>
    inLogRate(
      anchors.filter((a) => kept(a, leaveOut)).map((a) => ({ rate: a.rate, us: a[k] })),
      rate,
    )
  const p50 = at('p50Us')
  if (p50 === null) return null
  const p90 = Math.max(p50, at('p90Us')!)
  return { p50, p90, p99: Math.max(p90, at('p99Us')!) }
}

/** The p50, p90 and p99 of sorted points. */
export function shapeOf(x: Points): OwnShape {
  return { p50: quantileOf(x, 0.5), p90: quantileOf(x, 0.9), p99: quantileOf(x, 0.99) }
}

/**
 * Sorted points moved from the quantiles `from` to `to`: each point scaled by a factor that is the p50's ratio up to the p50,
 * the p99's from the p99, and linear in the quantile between the p50's, the p90's and the p99's ratios. Points at those three
 * quantiles land on `to`'s figures (to the points' spacing); the shape between them is kept.
 */
export function reshape(x: Points, from: OwnShape, to: OwnShape): Points {
  const f50 = from.p50 > 0 ? to.p50 / from.p50 : 1
  const f90 = from.p90 > 0 ? to.p90 / from.p90 : f50
  const f99 = from.p99 > 0 ? to.p99 / from.p99 : f90
  const n = x.length
  return Float64Array.from(x, (v, i) => {
    const q = (i + 0.5) / n
    const f = q <= 0.5 ? f50 : q <= 0.9 ? f50 + ((f90 - f50) * (q - 0.5)) / 0.4 : q <= 0.99 ? f90 + ((f99 - f90) * (q - 0.9)) / 0.09 : f99
    return v * f
  }).sort()
}

/** A core-time figure: a point's (medians over its rounds), or one round's (`point` the rate of the point it was a round of). */
type CoreAnchor = Calibrated['coreTime'][number] & { point?: number | null }
/** An own-time figure, likewise. */
type OwnAnchor = Calibrated['ownTime'][number] & { point?: number }
/** Whether an anchor is not of the point left out (a round's anchor is of its point, whatever rate that round achieved). */
const kept = (a: { rate: number; point?: number | null }, leaveOut: number | null) =>
  leaveOut === null || Math.abs((a.point ?? a.rate) - leaveOut) > 1e-9

/** A figure at `rate` off figures at ascending rates: linear in the log of the rate between the two around it, flat past the ends. */
function inLogRate(pts: { rate: number; us: number }[], rate: number): number | null {
  if (!pts.length) return null
  if (rate <= pts[0]!.rate) return pts[0]!.us
  const k = pts.findIndex((p) => p.rate >= rate)
  if (k < 0) return pts[pts.length - 1]!.us
  const a = pts[k - 1]!
  const b = pts[k]!
  return a.us + ((b.us - a.us) * Math.log(rate / a.rate)) / Math.log(b.rate / a.rate)
}

/** Where the run's processes ran: the servers' cores, and the client's (the driver, and a store on the same host), or null unpinned. */
export interface RunCores {
  server: number
  client: number | null
}

/** The cores of a run: its pinned split, or every CPU shared (`client` null). */
export function runCores(results: ResultsFile): RunCores {
  const a = results.environment.cpuAffinity
  return a ? { server: cpuCount(a.server), client: cpuCount(a.client) } : { server: results.environment.cpus.count, client: null }
}

/**
 * A point's utilisation as measured, medians over its rounds: the servers' CPU over their cores, and a same-host store's
 * over the client's (null where no store shares the client's cores, or its CPU was not measured). Unpinned, every process
 * shares every core: `servers` is then all of it.
 */
export function measuredUtilisation(p: OpenLoopPoint, cores: RunCores, storeOnClient: boolean): { servers: number; client: number | null } {
  const rounds = p.rounds.length ? p.rounds : []
  const share = (us: number, r: { achievedRate: number }, n: number) => (us * r.achievedRate) / 1e6 / Math.max(1, n)
  const clientUs = (r: OpenLoopPoint['rounds'][number]) => (storeOnClient ? (r.storeCpuUsPerRequest ?? null) : null)
  const known = rounds.every((r) => clientUs(r) !== null)
  if (cores.client === null)
    return { servers: median(rounds.map((r) => share(r.cpuUsPerRequest + (known ? clientUs(r)! : 0), r, cores.server))), client: null }
  return {
    servers: median(rounds.map((r) => share(r.cpuUsPerRequest, r, cores.server))),
    client: known && rounds.length ? median(rounds.map((r) => share(clientUs(r)!, r, cores.client!))) : null,
  }
}

/** What the DES needs for one cell: the run's arrivals, its instances on their cores, its measured times. */
export interface LatencyInputs {
  arrivals: 'constant' | 'poisson'
  cores: number
  /** The client's cores where the run was pinned (the driver, and a same-host store), or null. */
  clientCores?: number | null
  floor: FloorModel | null
  /** A per-connection store's servers (PostgreSQL's host cores). */
  storeHostCores: number
}

/** The DES options for a cell at `rate` (its instances, cores and arrivals unless asked otherwise). */
function desOptions(
  c: Calibrated,
  rate: number,
  inputs: LatencyInputs,
  over: Partial<DesOptions> = {},
  busyCpuUs = c.own?.busyCpuUs ?? 0,
  ownAt: OwnShape | null = null,
): DesOptions | null {
  if (!c.ownPoints || !c.own) return null
  const instances = over.instances ?? c.instances
  const requests = Math.max(REQUESTS, rate)
  const f = inputs.floor
  const lowGap = c.lowLoad ? Math.max(0, (c.instances * 1e6) / c.lowLoad.rate - c.own.meanUs) : 0
  // The servers' own times were measured at the lowest rate. At another rate they are reshaped to the own p50, p90 and p99
  // read off the cell's other rates (a busy process stays warm: its p50 falls as the rate rises, while a tail the host sets
  // need not), and each instance sleeps about N / rate between requests: what that sleep cost inside them is taken out, and
  // the DES adds back what each request's own sleep costs.
  const scaled = ownAt !== null ? reshape(c.ownPoints, shapeOf(c.ownPoints), ownAt) : c.ownPoints
  const scaledMean = scaled.reduce((a, b) => a + b, 0) / scaled.length
  const gap = scaled === c.ownPoints ? lowGap : Math.max(0, (instances * 1e6) / rate - scaledMean)
  const cold = f ? wakeAt(f.instanceWake, gap) : 0
  const own = cold > 0 ? scaled.map((x) => Math.max(1, x - cold)) : scaled
  // The core time a request takes: the busy CPU per request, plus, for a request that finds its
  // process asleep, a wake-up whose shape by sleep is the floor server's CPU and whose size is
  // what the cell's lowest rate cost above busy (every request there found its process asleep).
  const floorWake = f?.cpuWake && c.lowLoad?.cpuUsPerRequest !== undefined ? wakeAt(f.cpuWake, lowGap) : 0
  const k = floorWake > 0 ? Math.max(0, c.lowLoad!.cpuUsPerRequest! - c.own.busyCpuUs) / floorWake : 0
  const wakeCpu = k > 0 ? { gapUs: f!.cpuWake!.gapUs, us: f!.cpuWake!.us.map((x) => x * k) } : null
  const ownMean = own.reduce((a, b) => a + b, 0) / own.length
  return {
    seed: 1,
    instances,
    rate,
    durationUs: (requests / rate) * 1e6,
    arrivals: inputs.arrivals,
    appUs: { kind: 'points', points: own },
    occupancy: ownMean > 0 ? busyCpuUs / ownMean : 1,
    // The busy CPU beyond the time in the handler (parsing, writing) is a fixed cost, not a share of a pause.
    occupancyBeyondUs: Math.max(0, busyCpuUs - ownMean),
    // A request that awaits its store spends most of its time in the server waiting, its event loop serving others: it holds
    // its core for its busy CPU at most, not a share of its wait (at low load a quarter of the Redis session's took over 1 ms).
    ...(c.networkStore ? { occupancy: 1, occupancyBeyondUs: 0, occupancyMaxUs: busyCpuUs } : {}),
    instanceWake: f?.instanceWake ?? null,
    instanceWakeCpu: wakeCpu,
    coreOf: Array.from({ length: instances }, (_, i) => i % Math.max(1, inputs.cores)),
    storeOps: c.networkStore && c.storeCpuUsPerOp !== null ? c.storeOpsPerRequest : 0,
    storeUs: c.networkStore && c.storeCpuUsPerOp !== null ? { kind: 'det', value: c.storeCpuUsPerOp } : null,
    storeServers: c.storeServers ?? inputs.storeHostCores,
    storeRttUs: 0,
    storeInApp: true,
    wake: inputs.floor?.wake ?? null,
    outsideUs: inputs.floor ? { kind: 'points', points: outsideAt(inputs.floor, rate) } : null,
    ...over,
  }
}

/** Rounds at most of fitting a store-awaiting cell's time in the server to the measured one, and how near is near enough. */
const FIT_ROUNDS = 6
const FIT_WITHIN = 0.02

/**
 * A cell that awaits a network store, its own time fitted at `rate`: a request that awaits its store resumes behind the
 * requests its event loop took up meanwhile, and the servers' own time (onRequest to onResponse) holds that wait, while the DES
 * queues each request at its core before its time in the server starts. So the own time the DES samples (`to`) is moved until
 * the DES's time in the server (its wait at the core, its own time, its wait at the store: between the request's arrival and
 * its answer, less the wake-up and what lies outside) has `ownAt`'s p50, p90 and p99 (`inner` what it reached), the core time
 * held at `coreTimeUs` meanwhile (`busy` the busy CPU that gives it: a shorter time in the server can hold the core for less).
 * A cell that answers in one turn of its loop waits before its timer starts: its own time is the measured one as it is.
 */
export function fitTimeInServer(
  c: Calibrated,
  rate: number,
  inputs: LatencyInputs,
  over: Partial<DesOptions>,
  busyCpuUs: number,
  ownAt: OwnShape,
  coreTimeUs: number | null,
): { to: OwnShape; busy: number; inner: OwnShape } {
  let to = ownAt
  let busy = busyCpuUs
  // The own time held the run's round trip to the store, not one asked of the fleet (`storeRttUs`, added beyond it).
  const inServer = () => simulate({ ...desOptions(c, rate, inputs, over, busy, to)!, outsideUs: null, wake: null, storeRttUs: 0 })
  let sim = inServer()
  for (let k = 0; k < FIT_ROUNDS; k++) {
    const inner = shapeOf(sim.responseUs)
    const ratio = { p50: ownAt.p50 / inner.p50, p90: ownAt.p90 / inner.p90, p99: ownAt.p99 / inner.p99 }
    const coreOff = coreTimeUs ? Math.abs(sim.meanBusyUs - coreTimeUs) / coreTimeUs : 0
    if (Math.max(coreOff, ...Object.values(ratio).map((x) => Math.abs(x - 1))) <= FIT_WITHIN) break
    if (coreTimeUs) busy = busyFor(c, busy, coreTimeUs, sim.meanBusyUs)
    const p50 = Math.max(1, to.p50 * ratio.p50)
    const p90 = Math.max(p50, to.p90 * ratio.p90)
    to = { p50, p90, p99: Math.max(p90, to.p99 * ratio.p99) }
    sim = inServer()
  }
  return { to, busy, inner: shapeOf(sim.responseUs) }
}

/** The busy CPU per request under which the DES's mean core time moves from `spentUs` to `coreTimeUs` (at least a fifth of the
 * cell's busy CPU). */
function busyFor(c: Calibrated, busy: number, coreTimeUs: number, spentUs: number): number {
  return Math.max(0.2 * c.own!.busyCpuUs, busy + coreTimeUs - spentUs)
}

/** The median of positive figures taken in their logs (a median of factors). */
function geometricMedian(xs: number[]): number {
  return Math.exp(median(xs.map(Math.log)))
}

/** Outside levels pooled: each factor's geometric median. */
export function pooledLevel(levels: OutsideLevel[]): OutsideLevel {
  return { body: geometricMedian(levels.map((l) => l.body)), tail: geometricMedian(levels.map((l) => l.tail)) }
}

/** The DES's p50 and p99 for a cell at `rate`, with its mean wake-up and its cores' busy share. */
function predictAt(
  c: Calibrated,
  rate: number,
  inputs: LatencyInputs,
  over: Partial<DesOptions> = {},
  coreTimeUs: number | null = null,
  ownAt: OwnShape | null = null,
): { p50Us: number; p99Us: number; meanWakeUs: number; cpuUsPerRequest: number; options: DesOptions } | null {
  let o = desOptions(c, rate, inputs, over, undefined, ownAt)
  if (!o) return null
  let r = simulate(o)
  let busy = c.own!.busyCpuUs
  // The core time read off the cell's other rates: the busy share moved so that the DES's mean core time per request (its
  // wake-ups' CPU included, where they fall) is that figure.
  if (coreTimeUs !== null && Math.abs(r.meanBusyUs - coreTimeUs) > 0.01 * coreTimeUs) {
    busy = busyFor(c, busy, coreTimeUs, r.meanBusyUs)
    o = desOptions(c, rate, inputs, over, busy, ownAt)!
    r = simulate(o)
  }
  if (ownAt !== null && c.networkStore) {
    const fit = fitTimeInServer(c, rate, inputs, over, busy, ownAt, coreTimeUs)
    if (fit.to !== ownAt) {
      o = desOptions(c, rate, inputs, over, fit.busy, fit.to)!
      r = simulate(o)
    }
  }
  return {
    p50Us: quantileOf(r.responseUs, 0.5),
    p99Us: quantileOf(r.responseUs, 0.99),
    meanWakeUs: r.meanWakeUs,
    cpuUsPerRequest: r.meanBusyUs,
    options: o,
  }
}

/**
 * A point predicted as it was measured: each of its rounds replayed at the rate that round achieved, with the core time and
 * own p50 read off that round's figures at the cell's other points (`leaveOut`, the point's rate, not used), and each figure
 * the median over the rounds, as the measured point's are. A round whose own figures are missing (an older run) reads the
 * cell's medians over rounds.
 */
function predictRounds(
  c: Calibrated,
  p: OpenLoopPoint,
  inputs: LatencyInputs,
  leaveOut: number | null,
  levelOf: (round: number | null, rate: number) => OutsideLevel = () => UNSCALED,
): {
  p50Us: number
  p99Us: number
  meanWakeUs: number
  cpuUsPerRequest: number
  coreTimeUs: number | null
  ownP50Us: number | null
  byRound: { round: number | null; rate: number; p50Us: number; options: DesOptions }[]
  outsideLevel: OutsideLevel
} | null {
  const rounds = p.rounds.filter((r) => r.achievedRate > 0)
  const each = (rounds.length ? rounds.map((r) => ({ round: r.round, rate: r.achievedRate })) : [{ round: null, rate: p.achievedRate }])
    .map(({ round, rate }) => {
      const level = levelOf(round, rate)
      // The time outside the servers at the level this round's other points set (`outsideLevels`).
      const over: Partial<DesOptions> =
        level !== UNSCALED && inputs.floor ? { outsideUs: { kind: 'points', points: outsideAt(inputs.floor, rate, level) } } : {}
      const core = (c.byRound?.coreTime ?? []).filter((a) => a.round === round)
      const own = (c.byRound?.ownTime ?? []).filter((a) => a.round === round)
      const coreTimeUs = core.some((a) => a.from === 'open' && kept(a, leaveOut))
        ? coreTimeAt(core, rate, leaveOut)
        : coreTimeAt(c.coreTime ?? [], rate, leaveOut)
      const ownAt = own.some((a) => kept(a, leaveOut)) ? ownShapeAt(own, rate, leaveOut) : ownShapeAt(c.ownTime ?? [], rate, leaveOut)
      const pred = predictAt(c, rate, inputs, over, coreTimeUs, ownAt)
      return pred ? { ...pred, round, rate, coreTimeUs, ownP50Us: ownAt?.p50 ?? null } : null
    })
    .filter((x) => x !== null)
  if (!each.length) return null
  const med = (pick: (x: (typeof each)[number]) => number | null) => {
    const xs = each.map(pick).filter((x): x is number => x !== null)
    return xs.length ? median(xs) : null
  }
  return {
    p50Us: med((x) => x.p50Us)!,
    p99Us: med((x) => x.p99Us)!,
    meanWakeUs: med((x) => x.meanWakeUs)!,
    cpuUsPerRequest: med((x) => x.cpuUsPerRequest)!,
    coreTimeUs: med((x) => x.coreTimeUs),
    ownP50Us: med((x) => x.ownP50Us),
    byRound: each.map((x) => ({ round: x.round, rate: x.rate, p50Us: x.p50Us, options: x.options })),
    outsideLevel: pooledLevel(each.map((x) => levelOf(x.round, x.rate))),
  }
}

const pct = (predicted: number, measured: number) => (measured > 0 ? ((predicted - measured) / measured) * 100 : 0)

/** The kinds of reason a prediction can miss by, each explained once on the page. */
export const MISS_REASONS = {
  'driver-lag':
    "the load driver's own lateness at this point is far above its floor at the same rate: it shared its CPU with Redis and the " +
    "machine's other work, and a late send counts against the request",
  pauses:
    'the measured tail is pauses (garbage collection, the other processes on two cores), not queueing: the maximum is many times ' +
    "the median, and the servers' own p99 here is far above their low-load one",
  'server-time-changes':
    "the servers' own p50 request time here is not the low-load one the model draws from: it fell (a busy server's caches stay " +
    "warm) or grew (it waited on something the model does not hold: the store's connection, its CPU shared with the driver)",
  'cpu-changes':
    "the servers' CPU per request here is not the model's (its busy CPU plus the wake-ups it counts at this rate), so their " +
    'queue is not the one the model built',
} as const
type MissReason = keyof typeof MISS_REASONS

export interface ValidationRow {
  cell: string
  instances: number
  arrivals: 'constant' | 'poisson'
  rate: number
  fraction: number | null
  /** The point the calibration was taken from (the servers' own time): shown, not judged. */
  calibration: boolean
  /** The rate's share of the cell's measured capacity (its closed-loop rate in the run). */
  load: number
  /** The utilisation the point measured (what it is judged against): the servers' CPU over their cores, the driver's and a
   * same-host store's over the client's (null where not recorded). */
  utilisation: { servers: number; client: number | null }
  /** The core time per request the model used here, read off the cell's other rates (the point left out), µs; null where the
   * run measured none (the busy CPU alone). */
  coreTimeUs: number | null
  /** The servers' own request time p50 the model reshaped their low-load times to here (their p90 and p99 with it), read off the cell's other rates (the
   * point left out), µs; null where the run measured none (the low-load times as they were). */
  ownP50Us: number | null
  /** The factors on the floor's time outside the servers (its body up to p90, its tail from p90) the point was predicted with,
   * read off the cell's other points (`outsideLevels`; geometric medians over the point's rounds); 1 where none set one. */
  outsideLevel: OutsideLevel
  /** Why the p99 is not judged at a judged point: a stall the model does not hold dominates the measured tail; else null. */
  stall: string | null
  /** The point's rounds that did not measure the servers, each with why (`roundsThatMeasured`): the measured and predicted
   * figures are the other rounds'. Empty where every round did. */
  dropped: string[]
  measured: { p50Us: number; p99Us: number; cpuUsPerRequest: number; serverP50Us: number | null; sendLagP99Us: number | null }
  /** The DES's latency, its mean wake-up, and its core time per request (beside the measured CPU per request: a check of the wake-up's CPU). */
  predicted: { p50Us: number; p99Us: number; meanWakeUs: number; cpuUsPerRequest: number }
  /** The analytic cross-check (M/G/1 wait, Poisson arrivals, on the same service and outside times): a bound above constant arrivals' queueing. */
  bound: { p99Us: number } | null
  errorPct: { p50: number; p99: number }
  /** Each quantile within its tolerance; null where the point is not judged, `p99` null where a stall dominates its tail. */
  within: { p50: boolean; p99: boolean | null } | null
  /** Why the point is not judged, or null where it is. */
  notJudged: string | null
  holds: boolean | null
  reasons: { code: MissReason; figures: string }[] | null
  why: string | null
}

function sendLagP99(p: OpenLoopPoint): number | null {
  const xs = p.rounds.map((r) => r.sendLagUs?.p99).filter((x): x is number => typeof x === 'number')
  return xs.length ? median(xs) : null
}

function serverQ(p: OpenLoopPoint, q: 'p50' | 'p99'): number | null {
  const xs = p.rounds.filter((r) => r.serverTimeUs).map((r) => r.serverTimeUs[q])
  return xs.length ? median(xs) : null
}

/**
 * A host stall that dominates a point's measured p99, or null: the driver's own send lag p99 (a late send is the host's, not
 * the servers') or the servers' own p99 (a pause inside them) is at least half the measured p99 and over twice its own at the
 * driver's floor or at low load. The model samples neither the stalls of this point's seconds nor can any run repeat them.
 */
function stallOf(c: Calibrated, p: OpenLoopPoint, floorLagP99: number | null): string | null {
  const p99 = p.latencyUs.p99
  const lag = sendLagP99(p)
  if (lag !== null && lag >= p99 / 2 && lag > 2 * (floorLagP99 ?? 0))
    return (
      `the driver's send lag p99 ${(lag / 1000).toFixed(1)} ms is ${Math.round((lag / p99) * 100)}% of the measured p99` +
      `${floorLagP99 === null ? '' : ` (${(floorLagP99 / 1000).toFixed(1)} ms in the floor)`}`
    )
  const here = serverQ(p, 'p99')
  const low = c.lowLoad?.serverTimeUs.p99 ?? null
  if (here !== null && low !== null && here >= p99 / 2 && here > 2 * low)
    return (
      `the servers' own p99 ${(here / 1000).toFixed(1)} ms is ${Math.round((here / p99) * 100)}% of the measured p99 ` +
      `(${(low / 1000).toFixed(2)} ms at low load)`
    )
  return null
}

/** Why a prediction missed, read off the measurements at that point: each reason with its figures. */
function whyMissed(
  c: Calibrated,
  p: OpenLoopPoint,
  floorLagP99: number | null,
  err: { p50: number; p99: number },
  modelCpu: number,
): { code: MissReason; figures: string }[] {
  const reasons: { code: MissReason; figures: string }[] = []
  const lag = sendLagP99(p)
  if (Math.abs(err.p99) > TOLERANCE.p99 * 100 && lag !== null && lag > 2 * (floorLagP99 ?? 0) && lag > p.latencyUs.p99 / 4)
    reasons.push({
      code: 'driver-lag',
      figures: `send lag p99 ${(lag / 1000).toFixed(1)} ms${floorLagP99 === null ? '' : `, ${(floorLagP99 / 1000).toFixed(1)} ms in the floor`}`,
    })
  const lowP99 = c.lowLoad?.serverTimeUs.p99 ?? null
  const hereP99 = serverQ(p, 'p99')
  if (
    err.p99 < -TOLERANCE.p99 * 100 &&
    p.latencyUs.max > 20 * p.latencyUs.p50 &&
    hereP99 !== null &&
    lowP99 !== null &&
    hereP99 > 2 * lowP99
  )
    reasons.push({
      code: 'pauses',
      figures:
        `max ${(p.latencyUs.max / 1000).toFixed(1)} ms, median ${(p.latencyUs.p50 / 1000).toFixed(2)} ms; servers' ` +
        `p99 ${(hereP99 / 1000).toFixed(2)} ms here, ${(lowP99 / 1000).toFixed(2)} ms at low load`,
    })
  const here = serverQ(p, 'p50')
  const low = c.lowLoad?.serverTimeUs.p50 ?? null
  if (
    Math.abs(err.p50) > TOLERANCE.p50 * 100 &&
    here !== null &&
    low !== null &&
    Math.abs(here - low) > TOLERANCE.p50 * low &&
    Math.sign(low - here) === Math.sign(err.p50)
  )
    reasons.push({
      code: 'server-time-changes',
      figures: `${here.toFixed(0)} µs here, ${low.toFixed(0)} µs at ${Math.round(c.lowLoad!.rate)}/s`,
    })
  const cpuGap = (p.cpuUsPerRequest - modelCpu) / modelCpu
  const under = err.p50 < -TOLERANCE.p50 * 100 || err.p99 < -TOLERANCE.p99 * 100
  const over = err.p50 > TOLERANCE.p50 * 100 || err.p99 > TOLERANCE.p99 * 100
  if ((under && cpuGap > TOLERANCE.p50) || (over && cpuGap < -TOLERANCE.p50))
    reasons.push({
      code: 'cpu-changes',
      figures: `${p.cpuUsPerRequest.toFixed(0)} µs per request here, ${modelCpu.toFixed(0)} µs in the model`,
    })
  return reasons
}

/** A round whose time outside the servers at its p50 is over this many times its point's calmest round's measured the host. */
const OUTSIDE_STALL = 4

/**
 * The rounds of a point that measured the servers at the utilisation it is judged at, the point's figures the medians over
 * them, and why each other round did not: the driver did not hold its rate (it sent late: the arrivals were not the ones
 * asked); the round ran its cores over the judged utilisation (`busiest`: each round's rate is a share of its own round's
 * capacity, and the machine's speed moves between rounds); or the round's time outside the servers at its p50 (its latency p50
 * less the servers' own p50) was over `OUTSIDE_STALL` times the point's calmest round's: at the utilisation judged their queues
 * differ by less than that, while a host that stalled the client or the loopback through a round's seconds does not.
 */
export function roundsThatMeasured(
  p: OpenLoopPoint,
  busiest: (r: OpenLoopPoint['rounds'][number]) => number = () => 0,
): { point: OpenLoopPoint; dropped: { round: number; why: string }[] } {
  const dropped: { round: number; why: string }[] = []
  const outside = (r: OpenLoopPoint['rounds'][number]) => (r.serverTimeUs ? r.latencyUs.p50 - r.serverTimeUs.p50 : null)
  const held = p.rounds.filter((r) => {
    if (r.held === false) {
      dropped.push({ round: r.round, why: `round ${r.round}: the driver did not hold ${Math.round(r.rate)}/s` })
      return false
    }
    const u = busiest(r)
    if (u > JUDGED_CAPACITY + 1e-9) {
      dropped.push({
        round: r.round,
        why: `round ${r.round}: measured utilisation ${Math.round(u * 100)}%, over ${JUDGED_CAPACITY * 100}%`,
      })
      return false
    }
    return true
  })
  const known = held.map(outside).filter((x): x is number => x !== null && x > 0)
  const calmest = known.length ? Math.min(...known) : null
  const kept = held.filter((r) => {
    const us = outside(r)
    if (calmest === null || us === null || us <= OUTSIDE_STALL * calmest) return true
    dropped.push({
      round: r.round,
      why:
        `round ${r.round}: ${(us / 1000).toFixed(2)} ms outside the servers at its p50, ` +
        `${(us / calmest).toFixed(1)}x its calmest round's ${(calmest / 1000).toFixed(2)} ms`,
    })
    return false
  })
  if (kept.length === p.rounds.length || kept.length === 0) return { point: kept.length ? p : { ...p, rounds: [], heldRounds: 0 }, dropped }
  return { point: { ...p, rounds: kept, heldRounds: kept.length, ...roundMedians(kept) }, dropped }
}

/** Steps at most of each search for the outside time's level at one round, and how near its p50, then its p99, must come. */
const LEVEL_STEPS = 12
const LEVEL_WITHIN = { p50: 0.02, p99: 0.05 } as const

/**
 * The factor in [1/20, 20] under which `at` reads `target` within `within`, by bisection on its log (`at` rising with it); where
 * none does (the rest of the model alone is above the target, or far below it), the bound nearest it.
 */
function factorFor(at: (k: number) => number, target: number, within: number): number {
  let lo = Math.log(1 / 20)
  let hi = Math.log(20)
  let k = 0
  for (let step = 0; step < LEVEL_STEPS; step++) {
    k = (lo + hi) / 2
    const got = at(Math.exp(k))
    if (Math.abs(got - target) <= within * target) return Math.exp(k)
    if (got > target) hi = k
    else lo = k
  }
  return Math.exp(k)
}

/**
 * The level of the time outside the servers for each point and round of a cell, read off the cell's other points in the same
 * round: at each, the factor on the floor's outside body (up to p90) under which the DES's p50 is the measured one, then the
 * factor on its tail under which the DES's p99 is. The floor ran minutes away from the cell's points, and on a shared machine
 * the time outside the servers moves between minutes by more than the queue the model is judged on (a floor p50 of 0.19-0.46
 * ms beside cells whose own points read 0.09-0.11 ms outside their servers; a floor p99 of 4.7-7.2 ms beside cell points at
 * 1.1-3.3 ms), while a cell's points of one round run back to back. Only points at or under the judged utilisation set a level
 * (where the queue is small beside it), and never the point it is for. The floor still gives the shape of each part and the
 * wake-ups. A round's body factor is read off its other points by rate (linear in the log of the rate between the two around
 * it, flat past the ends), its tail factor is their geometric median; off every round's points where the round has none.
 */
function outsideLevels(
  c: Calibrated,
  points: OpenLoopPoint[],
  inputs: LatencyInputs,
  utilisation: (p: OpenLoopPoint) => { servers: number; client: number | null },
): (point: number, round: number | null, rate: number) => OutsideLevel {
  const f = inputs.floor
  if (!f) return () => UNSCALED
  const levels = points.flatMap((p) => {
    const u = utilisation(p)
    if (Math.max(u.servers, u.client ?? 0) > JUDGED_CAPACITY + 1e-9) return []
    const calibration = Math.abs(p.achievedRate - c.lowLoad!.rate) < 1e-9
    const replayed = predictRounds(c, p, inputs, calibration ? null : p.achievedRate)
    if (!replayed) return []
    return replayed.byRound.flatMap(({ round, rate, options }) => {
      const measured = p.rounds.find((x) => x.round === round)?.latencyUs
      if (!measured?.p50 || !measured.p99) return []
      const at = (level: OutsideLevel, q: number) =>
        quantileOf(simulate({ ...options, outsideUs: { kind: 'points', points: outsideAt(f, rate, level) } }).responseUs, q)
      const body = factorFor((k) => at({ body: k, tail: 1 }, 0.5), measured.p50, LEVEL_WITHIN.p50)
      const tail = factorFor((k) => at({ body, tail: k }, 0.99), measured.p99, LEVEL_WITHIN.p99)
      return [{ point: p.achievedRate, round, rate, body, tail }]
    })
  })
  return (point, round, rate) => {
    const others = levels.filter((x) => Math.abs(x.point - point) > 1e-9)
    const same = others.filter((x) => x.round === round)
    const from = same.length ? same : others
    if (!from.length) return UNSCALED
    // The body follows the rate (the wake-ups in it fall as the rate rises): read off the round's other points linear in the
    // log of the rate between the two around it (flat past the ends), as the floor's body is. The tail, the host's stalls,
    // does not: pooled, as the floor's is.
    const byRate = [...from].sort((a, b) => a.rate - b.rate).map((x) => ({ rate: x.rate, us: Math.log(x.body) }))
    return { body: Math.exp(inLogRate(byRate, rate)!), tail: geometricMedian(from.map((x) => x.tail)) }
  }
}

/** Each open-loop point of a cell predicted by the DES from the calibration alone, beside its measurement. */
export function validate(
  c: Calibrated,
  points: OpenLoopPoint[],
  capacityRps: number | null,
  inputs: LatencyInputs,
  bound: (rate: number) => number | null,
  unreplayable: string | null = null,
): ValidationRow[] {
  if (!c.lowLoad || !c.ownPoints) return []
  // The floor's send lag at the floor rate nearest this one (by log distance).
  const floorLag = (rate: number) => {
    const f = inputs.floor
    if (!f) return null
    const k = f.rates.reduce((best, r, i) => (Math.abs(Math.log(r / rate)) < Math.abs(Math.log(f.rates[best]! / rate)) ? i : best), 0)
    return f.lagP99Us[k] ?? null
  }
  const cores: RunCores = { server: inputs.cores, client: inputs.clientCores ?? null }
  const storeOnClient = c.store !== null && storeDescriptors[c.store].placement === 'same-host'
  const views = points
    .filter((p) => p.rounds.length > 0)
    .map((whole) => {
      const calibration = Math.abs(whole.achievedRate - c.lowLoad!.rate) < 1e-9
      // The point as its rounds that measured the servers have it (all of them where none stalled).
      // A round's utilisation as measured, as the point's is (`measuredUtilisation`) over that round alone.
      const busiest = (r: OpenLoopPoint['rounds'][number]) => {
        const u = measuredUtilisation({ ...whole, rounds: [r] }, cores, storeOnClient)
        return Math.max(u.servers, u.client ?? 0)
      }
      const kept = calibration ? { point: whole, dropped: [] } : roundsThatMeasured(whole, busiest)
      return { whole, calibration, kept, p: kept.point.rounds.length ? kept.point : whole }
    })
  const levelAt = outsideLevels(
    c,
    // Only rounds that measured the servers set a level.
    views.filter((v) => v.kept.point.rounds.length > 0).map((v) => v.kept.point),
    inputs,
    (p) => measuredUtilisation(p, cores, storeOnClient),
  )
  return views.flatMap(({ whole, calibration, kept, p }) => {
    const replayed = predictRounds(c, p, inputs, calibration ? null : p.achievedRate, (round, rate) => levelAt(p.achievedRate, round, rate))
    if (!replayed) return []
    const { coreTimeUs, ownP50Us, outsideLevel, byRound: _byRound, ...pred } = replayed
    const errorPct = { p50: pct(pred.p50Us, p.latencyUs.p50), p99: pct(pred.p99Us, p.latencyUs.p99) }
    const load = capacityRps ? p.achievedRate / capacityRps : (p.fraction ?? 1)
    // Judged against the utilisation of every round (a median over rounds, as the point's figures are), and shown as that.
    const utilisation = measuredUtilisation(whole, cores, storeOnClient)
    const busiest = Math.max(utilisation.servers, utilisation.client ?? 0)
    const notJudged = calibration
      ? "the calibration point (the servers' own time)"
      : inputs.floor === null
        ? 'no driver floor measured'
        : (unreplayable ??
          (busiest > JUDGED_CAPACITY + 1e-9
            ? `measured utilisation ${Math.round(busiest * 100)}% ` +
              `(${utilisation.servers >= busiest ? "the servers' cores" : "the client's cores"}), over ${JUDGED_CAPACITY * 100}%`
            : 2 * kept.point.rounds.length < whole.rounds.length
              ? `${kept.dropped.length} of ${whole.rounds.length} rounds did not measure the servers at this point ` +
                `(${kept.dropped.map((d) => d.why).join('; ')})`
              : null))
    const judged = notJudged === null
    const stall = judged ? stallOf(c, p, floorLag(p.achievedRate)) : null
    const within = judged
      ? { p50: Math.abs(errorPct.p50) <= TOLERANCE.p50 * 100, p99: stall ? null : Math.abs(errorPct.p99) <= TOLERANCE.p99 * 100 }
      : null
    const holds = within ? within.p50 && within.p99 !== false : null
    const reasons = holds === false ? whyMissed(c, p, floorLag(p.achievedRate), errorPct, pred.cpuUsPerRequest) : null
    const b = bound(p.achievedRate)
    return [
      {
        cell: c.cell,
        instances: c.instances,
        arrivals: inputs.arrivals,
        rate: p.achievedRate,
        fraction: p.fraction,
        calibration,
        load,
        utilisation,
        coreTimeUs,
        ownP50Us,
        outsideLevel,
        stall,
        dropped: kept.dropped.map((d) => d.why),
        measured: {
          p50Us: p.latencyUs.p50,
          p99Us: p.latencyUs.p99,
          cpuUsPerRequest: p.cpuUsPerRequest,
          serverP50Us: serverQ(p, 'p50'),
          sendLagP99Us: sendLagP99(p),
        },
        predicted: { p50Us: pred.p50Us, p99Us: pred.p99Us, meanWakeUs: pred.meanWakeUs, cpuUsPerRequest: pred.cpuUsPerRequest },
        bound: b === null ? null : { p99Us: b },
        errorPct,
        within,
        notJudged,
        holds,
        reasons,
        why:
          reasons === null
            ? null
            : reasons.length
              ? reasons.map((r) => `${MISS_REASONS[r.code]} (${r.figures})`).join('; ')
              : 'not known from these measurements',
      },
    ]
  })
}

/** A layer's verdict: its judged points, the shares within each tolerance, and whether both targets were met. */
export interface LayerVerdict {
  /** A cell id, or `${n} instance(s)` for every cell at that count. */
  layer: string
  instances: number
  arrivals: 'constant' | 'poisson'
  judged: number
  /** Judged points whose p99 was judged (a stall did not dominate its tail): `p99Within` is a share of these. */
  p99Judged: number
  p50Within: number
  p99Within: number
  /** Both shares at their targets (and at least 2 points judged, 2 of them on their p99). */
  holds: boolean
}

function verdict(layer: string, rows: ValidationRow[]): LayerVerdict | null {
  const judged = rows.filter((r) => r.within !== null)
  if (!rows.length) return null
  const tails = judged.filter((r) => r.within!.p99 !== null)
  const p50Within = judged.length ? judged.filter((r) => r.within!.p50).length / judged.length : 0
  const p99Within = tails.length ? tails.filter((r) => r.within!.p99).length / tails.length : 0
  return {
    layer,
    instances: rows[0]!.instances,
    arrivals: rows[0]!.arrivals,
    judged: judged.length,
    p99Judged: tails.length,
    p50Within,
    p99Within,
    holds: judged.length >= 2 && tails.length >= 2 && p50Within >= TARGET_SHARE.p50 && p99Within >= TARGET_SHARE.p99,
  }
}

/** The verdict for every instance count the run had, and for each cell. */
export function layers(rows: ValidationRow[]): { byInstances: LayerVerdict[]; byCell: LayerVerdict[] } {
  const counts = [...new Set(rows.map((r) => r.instances))].sort((a, b) => a - b)
  const cells = [...new Set(rows.map((r) => r.cell))]
  return {
    byInstances: counts.flatMap(
      (n) =>
        verdict(
          `${n} instance${n === 1 ? '' : 's'}`,
          rows.filter((r) => r.instances === n),
        ) ?? [],
    ),
    byCell: cells.flatMap(
      (id) =>
        verdict(
          id,
          rows.filter((r) => r.cell === id),
        ) ?? [],
    ),
  }
}

/** Predicted p50 and p99 against load for the cell as the run had it (its instances, cores and arrivals), 10% to 90% of its measured capacity,
 * the time outside the servers at the level its points read (`level`). */
export function loadCurve(
  c: Calibrated,
  capacityRps: number | null,
  inputs: LatencyInputs,
  level: OutsideLevel = UNSCALED,
): { cell: string; points: { load: number; rps: number; p50Us: number; p99Us: number }[] } {
  if (!c.ownPoints || !capacityRps) return { cell: c.cell, points: [] }
  const points = []
  for (let k = 1; k <= 9; k++) {
    const load = k / 10
    const rps = load * capacityRps
    const p = predictAt(
      c,
      rps,
      inputs,
      {
        durationUs: (10_000 / rps) * 1e6,
        ...(inputs.floor && level !== UNSCALED
          ? { outsideUs: { kind: 'points' as const, points: outsideAt(inputs.floor, rps, level) } }
          : {}),
      },
      coreTimeAt(c.coreTime ?? [], rps),
      ownShapeAt(c.ownTime ?? [], rps),
    )
    if (p) points.push({ load, rps, p50Us: p.p50Us, p99Us: p.p99Us })
  }
  return { cell: c.cell, points }
}

/** The server-side p99 of a fleet at `rate` (a core each, Poisson arrivals: many users), its store `storeRttMs` away: the DES
 * without what lies outside the servers, its core time and own time those of the cell's open loop at the same rate per instance. */
export function fleetP99(
  c: Calibrated,
  instances: number,
  rate: number,
  storeRttMs: number,
  floor: FloorModel | null,
  storeHostCores: number,
): number | null {
  const p = predictAt(
    c,
    rate,
    { arrivals: 'poisson', cores: instances, floor, storeHostCores },
    {
      instances,
      durationUs: (Math.max(8_000, instances * 200) / rate) * 1e6,
      outsideUs: null,
      // Each store call moved from the run's distance to the asked one.
      storeRttUs: c.networkStore ? storeRttMs * 1000 - c.storeRttUs : 0,
    },
    // Each instance serves rate / instances, as each of the run's instances served the run's rate over them: the core time and
    // the own time the validated model reads off the cell's open-loop figures at that rate per instance.
    coreTimeAt(c.coreTime ?? [], (rate / instances) * c.instances),
    ownShapeAt(c.ownTime ?? [], (rate / instances) * c.instances),
  )
  return p ? p.p99Us : null
}
