// A seeded discrete-event simulation of a fleet, and the fleet model's latency model: app instances
// behind a round-robin balancer, each one single-threaded FIFO queue on a core (instances that
// share a core share its queue), a wake-up for a request that finds its core asleep, each store
// operation a visit to a single-threaded FIFO store queue (a cluster's masters by slot), the
// network a delay on every store call, and what lies outside the servers (the client, the
// kernel's loopback) added to each answer. Also what the formulas cannot say: a store that pauses
// and its backlog, a storm of requests at one moment. Times in µs.
import { seededRandom } from '../stats.ts'
import { quantileOf, type Points } from './queueing.ts'

/** A service time: exponential, fixed, or drawn from measured points. */
type Sampler = { kind: 'exp'; mean: number } | { kind: 'det'; value: number } | { kind: 'points'; points: Points }

/** Extra requests on top of the steady stream: `count` of them spread evenly over `spreadUs` from `atUs`. */
interface Burst {
  atUs: number
  count: number
  spreadUs: number
  storeOps: number
  appUs: Sampler
}

export interface DesOptions {
  seed: number
  instances: number
  /** Steady arrivals per second, and how long they go on. */
  rate: number
  durationUs: number
  arrivals: 'poisson' | 'constant'
  appUs: Sampler
  /** Store calls a steady request makes, one after another (a fraction: that share of requests makes one more). */
  storeOps: number
  storeUs: Sampler | null
  /** The store's single-threaded servers (a cluster's masters): each call goes to one of them at random (its key's slot). Default 1. */
  storeServers?: number
  /** The core each instance runs on: instances on one core share its one queue (default: a core each). */
  coreOf?: number[]
  /** A request that finds its core idle pays a wake-up before its service starts: `us` at idle gap `gapUs` (ascending), linear between, flat past the ends. */
  wake?: { gapUs: number[]; us: number[] } | null
  /** A request that finds its instance (its process) idle takes this much longer in the server, by how long the process slept
   * (cold caches, its event loop's wake-up): added to its sampled app time. */
  instanceWake?: { gapUs: number[]; us: number[] } | null
  /** Core time a request that finds its instance idle adds, by how long the instance slept (the process's wake-up and its
   * return to sleep); replaces the cold start's share of the occupancy. */
  instanceWakeCpu?: { gapUs: number[]; us: number[] } | null
  /** Added to every answer outside the servers (the client, the kernel's loopback), sampled per request. */
  outsideUs?: Sampler | null
  /** The core time a request occupies per µs of its sampled app time (default 1): the sample is its time in the server, its occupancy this share of it. */
  occupancy?: number
  /** At most this much core time beyond the sample itself (default unbounded): a long sample (a pause) occupies the core for
   * its own length, not `occupancy` times it. */
  occupancyBeyondUs?: number
  /** At most this much core time per request, its process's wake-up aside (default unbounded): where the time in the server is
   * mostly awaiting a store, the event loop serves other requests meanwhile, so a long wait does not hold the core. */
  occupancyMaxUs?: number
  /**
   * The sampled app time already holds each store call's service and round trip (the servers' own
   * time measured at low load): a call then adds only its wait at the store and `storeRttUs`.
   * Default false: a call adds its round trip, its wait and its service.
   */
  storeInApp?: boolean
  /** Round trip to the store, added to every store call. */
  storeRttUs: number
  /** Intervals in which the store serves nothing (SIGSTOP): calls queue up and are served after. */
  storePauses?: { fromUs: number; toUs: number }[]
  /** A store call not answered this long after it was sent fails its request (fail closed, 503). */
  timeoutUs?: number | null
  bursts?: Burst[]
  /** Timeline bucket, by arrival time. Default 100 ms. */
  bucketUs?: number
}

interface DesBucket {
  tUs: number
  arrivals: number
  ok: number
  failed: number
  p50Us: number
  p99Us: number
}

export interface DesResult {
  requests: number
  failed: number
  /** Response times of the requests answered (not failed), sorted ascending. */
  responseUs: Float64Array
  /** Time spent waiting in the app queues, mean over every request. */
  meanAppWaitUs: number
  /** Wake-ups paid, mean over every request, and the share of requests that found their core idle. */
  meanWakeUs: number
  /** Core time per request, mean over every request (its occupancy and its process's wake-up). */
  meanBusyUs: number
  idleShare: number
  /** Time store calls spent waiting for the store (pauses included), mean over every call. */
  meanStoreWaitUs: number
  appBusyShare: number
  storeBusyShare: number
  timeline: DesBucket[]
  /** When the store, after its last pause, first fell idle (its backlog drained); null without pauses. */
  backlogDrainedAtUs: number | null
}

/** The wake-up at idle gap `g`: linear between the table's points, flat past its ends. */
export function wakeAt(w: { gapUs: number[]; us: number[] }, g: number): number {
  const { gapUs: x, us: y } = w
  if (!x.length) return 0
  if (g <= x[0]!) return y[0]!
  for (let k = 1; k < x.length; k++) if (g <= x[k]!) return y[k - 1]! + ((y[k]! - y[k - 1]!) * (g - x[k - 1]!)) / (x[k]! - x[k - 1]!)
  return y[y.length - 1]!
}

function sampler(s: Sampler, random: () => number): () => number {
  switch (s.kind) {
    case 'exp':
      return () => -Math.log(1 - random()) * s.mean
    case 'det':
      return () => s.value
    case 'points': {
      const p = s.points
      return () => p[Math.floor(random() * p.length)]!
    }
  }
}

/** A binary min-heap of (time, id) in typed arrays. */
class Heap {
  private t = new Float64Array(1024)
  private id = new Int32Array(1024)
  size = 0
  push(time: number, id: number): void {
    if (this.size === this.t.length) {
      const t = new Float64Array(this.size * 2)
      t.set(this.t)
      this.t = t
      const i = new Int32Array(this.size * 2)
      i.set(this.id)
      this.id = i
    }
    let k = this.size++
    while (k > 0) {
      const p = (k - 1) >> 1
      if (this.t[p]! <= time) break
      this.t[k] = this.t[p]!
      this.id[k] = this.id[p]!
      k = p
    }
    this.t[k] = time
    this.id[k] = id
  }
  topTime(): number {
    return this.size ? this.t[0]! : Infinity
  }
  pop(): number {
    const top = this.id[0]!
    const n = --this.size
    const time = this.t[n]!
    const id = this.id[n]!
    let k = 0
    for (;;) {
      let c = 2 * k + 1
      if (c >= n) break
      if (c + 1 < n && this.t[c + 1]! < this.t[c]!) c++
      if (this.t[c]! >= time) break
      this.t[k] = this.t[c]!
      this.id[k] = this.id[c]!
      k = c
    }
    this.t[k] = time
    this.id[k] = id
    return top
  }
}

function arrivalTimes(o: DesOptions, random: () => number): Float64Array {
  const perUs = o.rate / 1e6
  const out: number[] = []
  if (perUs > 0) {
    let t = o.arrivals === 'constant' ? 0 : -Math.log(1 - random()) / perUs
    while (t < o.durationUs) {
      out.push(t)
      t += o.arrivals === 'constant' ? 1 / perUs : -Math.log(1 - random()) / perUs
    }
  }
  return Float64Array.from(out)
}

/** Runs the simulation; the same options and seed give the same result on any machine. */
// Longer than 80 lines on purpose: the simulation's event loop and its state in one function, so 10^6 requests run in about a
// second (no closures or objects per event).
export function simulate(o: DesOptions): DesResult {
  if (!(o.instances >= 1) || !Number.isInteger(o.instances))
    throw new RangeError(`instances must be a whole number of at least 1, got ${o.instances}`)
  if (o.storeOps > 0 && !o.storeUs) throw new RangeError('storeOps > 0 needs storeUs')
  const random = seededRandom(o.seed)
  const steady = arrivalTimes(o, random)
  const burstTimes: { t: number; b: Burst }[] = []
  for (const b of o.bursts ?? [])
    for (let i = 0; i < b.count; i++) burstTimes.push({ t: b.atUs + (b.count > 1 ? (b.spreadUs * i) / (b.count - 1) : 0), b })
  burstTimes.sort((x, y) => x.t - y.t)
  const n = steady.length + burstTimes.length
  const arrival = new Float64Array(n)
  const finish = new Float64Array(n)
  const outside = new Float64Array(n)
  // storeInApp: what a request's store calls add to its answer (their waits and round trips), and when its app time ends.
  const added = new Float64Array(n)
  const appDone = new Float64Array(n)
  const opsLeft = new Int32Array(n)
  const sentAt = new Float64Array(n)
  const failed = new Uint8Array(n)
  const appSteady = sampler(o.appUs, random)
  const burstApp = new Map<Burst, () => number>((o.bursts ?? []).map((b) => [b, sampler(b.appUs, random)]))
  const storeSample = o.storeUs ? sampler(o.storeUs, random) : () => 0
  const pauses = [...(o.storePauses ?? [])].sort((a, b) => a.fromUs - b.fromUs)
  const timeout = o.timeoutUs ?? Infinity
  const half = o.storeRttUs / 2
  const coreOf = o.coreOf ?? Array.from({ length: o.instances }, (_, i) => i)
  if (coreOf.length !== o.instances) throw new RangeError(`coreOf names ${coreOf.length} cores for ${o.instances} instances`)
  const appFree = new Float64Array(Math.max(...coreOf) + 1)
  const wake = o.wake ?? null
  const instanceWake = o.instanceWake ?? null
  const instanceWakeCpu = o.instanceWakeCpu ?? null
  // When each instance's last request left it (its process idle from then).
  const instanceFree = new Float64Array(o.instances)
  const outsideSample = o.outsideUs ? sampler(o.outsideUs, random) : null
  const occupancy = o.occupancy ?? 1
  const beyond = o.occupancyBeyondUs ?? Infinity
  const most = o.occupancyMaxUs ?? Infinity
  const inApp = o.storeInApp === true
  const storeServers = o.storeServers ?? 1
  const heap = new Heap()
  const storeFreeAt = new Float64Array(storeServers)
  let storeFree = 0
  let wakeSum = 0
  let idle = 0
  let appWait = 0
  let appBusy = 0
  let storeWait = 0
  let storeBusy = 0
  let storeCalls = 0
  const drainedAt: (number | null)[] = pauses.map(() => null)
  let rr = 0
  let si = 0
  let bi = 0
  let next = 0
  const storeStep = () => {
    const id = heap.pop()
    const reach = sentAt[id]! + half
    const m = storeServers > 1 ? Math.floor(random() * storeServers) : 0
    storeFree = storeFreeAt[m]!
    // The store fell idle after a pause: its backlog is drained.
    pauses.forEach((p, k) => {
      if (drainedAt[k] === null && reach >= p.toUs && storeFree < reach) drainedAt[k] = Math.max(p.toUs, storeFree)
    })
    let start = Math.max(reach, storeFree)
    for (const p of pauses) if (start >= p.fromUs && start < p.toUs) start = p.toUs
    const s = storeSample()
    const done = start + s
    storeFreeAt[m] = done
    storeWait += start - reach
    storeBusy += s
    storeCalls++
    const back = done + half
    if (failed[id]) return
    if (inApp) {
      // The call's service and its run's round trip are in the app time: it adds its wait and the round trip asked.
      added[id] = added[id]! + start - reach + o.storeRttUs
      if (--opsLeft[id]! > 0) {
        sentAt[id] = back
        heap.push(back, id)
      } else finish[id] = Math.max(arrival[id]!, appDone[id]! + added[id]!)
      return
    }
    if (back - sentAt[id]! > timeout) {
      failed[id] = 1
      finish[id] = sentAt[id]! + timeout
    } else if (--opsLeft[id]! > 0) {
      sentAt[id] = back
      heap.push(back, id)
    } else {
      finish[id] = back
    }
  }
  while (next < n) {
    const ta = si < steady.length ? steady[si]! : Infinity
    const tb = bi < burstTimes.length ? burstTimes[bi]!.t : Infinity
    const t = Math.min(ta, tb)
    while (heap.topTime() <= t) storeStep()
    const burst = tb < ta ? burstTimes[bi++]!.b : null
    if (!burst) si++
    const id = next++
    arrival[id] = t
    const inst = rr++ % o.instances
    const core = coreOf[inst]!
    // A request that finds its core asleep wakes it first.
    let ready = t
    if (t >= appFree[core]!) {
      idle++
      if (wake) {
        const w = wakeAt(wake, t - appFree[core]!)
        ready += w
        wakeSum += w
      }
    }
    const start = Math.max(ready, appFree[core]!)
    let s = burst ? burstApp.get(burst)!() : appSteady()
    const asleep = t >= instanceFree[inst]!
    const coldUs = instanceWake && asleep ? wakeAt(instanceWake, t - instanceFree[inst]!) : 0
    s += coldUs
    const busy =
      Math.min((s - coldUs) * occupancy, s - coldUs + beyond, most) +
      (instanceWakeCpu ? (asleep ? wakeAt(instanceWakeCpu, t - instanceFree[inst]!) : 0) : coldUs)
    appFree[core] = start + busy
    appWait += start - ready
    appBusy += busy
    if (outsideSample) outside[id] = outsideSample()
    const whole = burst ? burst.storeOps : o.storeOps
    const ops = Number.isInteger(whole) ? whole : Math.floor(whole) + (random() < whole - Math.floor(whole) ? 1 : 0)
    appDone[id] = start + s
    instanceFree[inst] = Math.max(instanceFree[inst]!, start + s)
    if (ops > 0) {
      opsLeft[id] = ops
      sentAt[id] = start + (inApp ? busy : s)
      heap.push(sentAt[id]!, id)
    } else {
      finish[id] = start + s
    }
  }
  while (heap.size) storeStep()
  const drained = pauses.length ? Math.max(...pauses.map((p, k) => drainedAt[k] ?? Math.max(p.toUs, ...storeFreeAt))) : null
  for (let i = 0; i < n; i++) finish[i] = finish[i]! + outside[i]!
  return summarize(o, {
    arrival,
    finish,
    failed,
    n,
    appWait,
    appBusy,
    storeWait,
    storeBusy,
    storeCalls,
    drained,
    wakeSum,
    idle,
    cores: appFree.length,
  })
}

function summarize(
  o: DesOptions,
  r: {
    arrival: Float64Array
    finish: Float64Array
    failed: Uint8Array
    n: number
    appWait: number
    appBusy: number
    storeWait: number
    storeBusy: number
    storeCalls: number
    drained: number | null
    wakeSum: number
    idle: number
    cores: number
  },
): DesResult {
  const bucketUs = o.bucketUs ?? 100_000
  const end = Math.max(o.durationUs, r.n ? r.arrival[r.n - 1]! : 0)
  const buckets = Math.max(1, Math.ceil(end / bucketUs))
  const per: number[][] = Array.from({ length: buckets }, () => [])
  const fails = new Int32Array(buckets)
  const ok: number[] = []
  let failedCount = 0
  for (let i = 0; i < r.n; i++) {
    const b = Math.min(buckets - 1, Math.floor(r.arrival[i]! / bucketUs))
    const rt = r.finish[i]! - r.arrival[i]!
    if (r.failed[i]) {
      failedCount++
      fails[b]!++
    } else {
      ok.push(rt)
      per[b]!.push(rt)
    }
  }
  const q = (xs: Float64Array, p: number) => (xs.length ? quantileOf(xs, p) : 0)
  const timeline = per.map((xs, b): DesBucket => {
    const s = Float64Array.from(xs).sort()
    return { tUs: b * bucketUs, arrivals: xs.length + fails[b]!, ok: xs.length, failed: fails[b]!, p50Us: q(s, 0.5), p99Us: q(s, 0.99) }
  })
  const span = Math.max(end, 1)
  return {
    requests: r.n,
    failed: failedCount,
    responseUs: Float64Array.from(ok).sort(),
    meanAppWaitUs: r.n ? r.appWait / r.n : 0,
    meanWakeUs: r.n ? r.wakeSum / r.n : 0,
    meanBusyUs: r.n ? r.appBusy / r.n : 0,
    idleShare: r.n ? r.idle / r.n : 0,
    meanStoreWaitUs: r.storeCalls ? r.storeWait / r.storeCalls : 0,
    appBusyShare: r.appBusy / (span * r.cores),
    storeBusyShare: r.storeBusy / (span * (o.storeServers ?? 1)),
    timeline,
    backlogDrainedAtUs: (o.storePauses?.length ?? 0) > 0 ? r.drained : null,
  }
}
