// The fleet model's capacity layer (docs/architecture.md, "The fleet model"): N app instances,
// each one single-threaded queue behind a round-robin balancer, one single-threaded store, the
// network a delay per store call and a link every request crosses; the bottleneck law, and the
// analytic M/G/1 waits kept as the latency layer's cross-check. Pure: calibration in, predictions out.
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import type { Calibrated } from './calibrate.ts'
import { bottleneck, mg1Wait, type Wait } from './queueing.ts'

/** The error past which the distance check's prediction is said not to hold. */
export const TOLERATED_ERROR = 0.25
/** Under this busy share (5% of a core), a store's CPU per operation is a light-load figure: its own idle work and wake-ups are shared by few operations. */
const LIGHT_STORE = 0.05
/** Over this load by the model, the lowest open-loop rate is no low-load calibration: the servers' own times there may already hold waits. */
const LOW_LOAD = 0.5

export interface ModelOptions {
  /** Bandwidth of the link every request and response crosses (the balancer's), Gbit/s. */
  linkGbps: number
  /** Cores of the store's host, for a store that runs a process per connection (PostgreSQL). */
  storeHostCores: number
}

export const DEFAULT_MODEL: ModelOptions = { linkGbps: 10, storeHostCores: 4 }

/** The waits one request meets at total rate `rps` over `instances` instances: its app queue and, for a network store, the store. */
export function waitsAt(
  c: Calibrated,
  rps: number,
  instances: number,
  meanUs = c.serviceTimeUs.mean,
): { waits: Wait[]; appLoad: number; storeLoad: number } {
  // The measured shape (its squared coefficient of variation), scaled to `meanUs`.
  const app = mg1Wait(rps / instances / 1e6, { mean: meanUs, m2: meanUs * meanUs * (1 + c.serviceTimeUs.scv) })
  const waits = [app]
  let storeLoad = 0
  if (c.networkStore && c.storeOpsPerRequest > 0 && c.storeCpuUsPerOp !== null) {
    // Redis serves a command in close to fixed time: M/D/1 moments; a cluster's masters share the keys evenly.
    const d = c.storeCpuUsPerOp
    const store = mg1Wait((rps * c.storeOpsPerRequest) / storeServers(c) / 1e6, { mean: d, m2: d * d })
    storeLoad = store.rho
    waits.push(store)
  }
  return { waits, appLoad: app.rho, storeLoad }
}

export interface FleetRow {
  cell: string
  instances: number
  storeRttMs: number
  maxRps: number
  bottleneck: 'app' | 'store' | 'network'
  /**
   * Server-side response time p99 at half the maximum rate (the DES: instance queue, wake-ups,
   * store queue, store round trips), µs; null where the cell's latency layer did not hold in the
   * run's own validation (the row is then a capacity bound only).
   */
  p99UsAtHalfLoad: number | null
  /** App instances plus store processes, per 10,000 req/s at the maximum rate (double it at half load). */
  coresPer10kRps: number
  /** The stations' demands behind it, µs per request. */
  demandUs: { app: number; store: number; network: number }
}

/**
 * The store's servers in the queueing sense: its single-threaded processes the keys spread over
 * (one Redis, a cluster's three masters), or, for a store that runs a process per connection
 * (PostgreSQL), the cores of its host, which its backends share.
 */
const storeServers = (c: Calibrated, o: ModelOptions = DEFAULT_MODEL) => {
  if (c.store === null) return 1
  const p = storeDescriptors[c.store]
  return p.threading === 'per-connection' ? o.storeHostCores : Math.max(1, p.processes)
}

/** Cores the store takes: its processes, when requests use a network store; an in-process store's are the app's. */
function storeCores(c: Calibrated, o: ModelOptions = DEFAULT_MODEL): number {
  return !c.networkStore || c.storeOpsPerRequest === 0 ? 0 : storeServers(c, o)
}

/** The stations a request visits, with its demand at each, µs: the app instances, the store, the link. */
function stationsOf(c: Calibrated, instances: number, o: ModelOptions = DEFAULT_MODEL) {
  return [
    { name: 'app' as const, servers: instances, demandUs: c.serviceTimeUs.mean },
    {
      name: 'store' as const,
      servers: storeServers(c, o),
      demandUs: c.networkStore && c.storeCpuUsPerOp !== null ? c.storeOpsPerRequest * c.storeCpuUsPerOp : 0,
    },
    // Bytes x 8 bits / (Gbit/s x 1e3 bits per µs).
    { name: 'network' as const, servers: 1, demandUs: (c.bytesPerRequest * 8) / (o.linkGbps * 1e3) },
  ]
}

/** A network store the cell's requests use, whose CPU per operation the run did not measure: no capacity can be said for it. */
const storeUnknown = (c: Calibrated) => c.networkStore && c.storeOpsPerRequest > 0 && c.storeCpuUsPerOp === null

/** Whether a fleet of `instances` can run this cell: an in-process store its requests read serves one host only. */
function fleetApplies(c: Calibrated, instances: number): boolean {
  return instances === 1 || c.networkStore || c.storeOpsPerRequest === 0 || c.store === null
}

export function fleetRow(c: Calibrated, instances: number, storeRttMs: number, o: ModelOptions = DEFAULT_MODEL): FleetRow {
  const stations = stationsOf(c, instances, o)
  const b = bottleneck(stations)
  const [app, store, network] = stations.map((x) => x.demandUs) as [number, number, number]
  return {
    cell: c.cell,
    instances,
    storeRttMs,
    maxRps: b.maxRps,
    bottleneck: b.at.name,
    p99UsAtHalfLoad: null,
    coresPer10kRps: ((instances + storeCores(c, o)) * 10_000) / b.maxRps,
    demandUs: { app, store, network },
  }
}

export interface Crossover {
  cell: string
  /** The fewest instances at which the store, not the app, sets the maximum rate; null when it never does up to 1,000. */
  storeBoundFromInstances: number | null
  /** The store's maximum rate in requests per second (its capacity over its demand per request); null without a network store. */
  storeMaxRps: number | null
  text: string
}

export function crossover(
  c: Calibrated,
  o: ModelOptions = DEFAULT_MODEL,
  shared: { cell: string; store: string; usPerOp: number } | null = null,
): Crossover {
  const row1 = fleetRow(c, 1, 0, o)
  const l = c.lifecycle
  // On the lifecycle workload: what refresh traffic at this lifetime does to the store's load.
  const traffic = l
    ? `${c.storeOpsPerRequest.toFixed(3)} store operations per ` +
      `request${l.accessTtlSeconds === null ? '' : ` at a ${l.accessTtlSeconds} s lifetime`}: ${l.storeOpsPerGetOnly} per GET ` +
      `itself, ${(l.refreshesPerGet * 100).toFixed(1)} refreshes and ${(l.loginsPerGet * 100).toFixed(1)} logins per 100 GETs`
    : null
  const light = l
    ? " (CPU measured at the lifecycle run's light load: a busy store and busy servers cost less per request, so these rates are lower bounds)"
    : c.storeBusyShare !== null && c.storeBusyShare < LIGHT_STORE
      ? ` (Redis was ${(c.storeBusyShare * 100).toFixed(0)}% busy in the window its CPU per operation was measured in: a ` +
        `light-load figure, so this rate is a lower bound)`
      : ''
  const users = c.userTableReads > 0 ? ` (its ${c.userTableReads} users-table read per request, SQLite's, is outside the model)` : ''
  if (c.store === null) {
    const what =
      descriptorOf(c).state === 'none' ? 'no authentication (the baseline)' : 'no session or token store (the credential carries its state)'
    return {
      cell: c.cell,
      storeBoundFromInstances: null,
      storeMaxRps: null,
      text:
        `${c.cell}: ${what}${users}${traffic ? `; ${traffic}, the users table at login aside` : ''}; each instance ` +
        `adds ${Math.round(1e6 / row1.demandUs.app).toLocaleString('en-US')} req/s${light}.`,
    }
  }
  if (storeUnknown(c)) {
    return {
      cell: c.cell,
      storeBoundFromInstances: null,
      storeMaxRps: null,
      text:
        `${c.cell}: ${traffic ? `${traffic}; ` : ''}this run did not measure its ${c.store}'s CPU per operation (a run with ` +
        `store faults restarts it), so how far one ${c.store} carries the fleet is not known from it.`,
    }
  }
  if (!c.networkStore && c.storeOpsPerRequest > 0) {
    const moved =
      l && shared
        ? ` On one ${shared.store} at ${shared.usPerOp.toFixed(1)} µs per operation (as ${shared.cell} measured in this run), ` +
          `this traffic would allow at most ${Math.round(1e6 / (c.storeOpsPerRequest * shared.usPerOp)).toLocaleString('en-US')} req/s${light}.`
        : ''
    return {
      cell: c.cell,
      storeBoundFromInstances: null,
      storeMaxRps: null,
      text:
        `${c.cell}: ${traffic ? `${traffic}; ` : ''}its store is in-process (${c.store}), its cost inside the app's CPU per ` +
        `request; it serves one host, so this cell does not make a fleet.${moved}`,
    }
  }
  if (row1.demandUs.store === 0) {
    const link =
      row1.demandUs.network > 0
        ? `, up to the ${o.linkGbps} Gbit/s ` +
          `link's ${Math.round(1e6 / row1.demandUs.network).toLocaleString('en-US')} req/s (${Math.ceil(row1.demandUs.app / row1.demandUs.network)} instances)`
        : ''
    return {
      cell: c.cell,
      storeBoundFromInstances: null,
      storeMaxRps: null,
      text:
        `${c.cell}: its requests make no session or token store call${users}, so no store limits it; each instance ` +
        `adds ${Math.round(1e6 / row1.demandUs.app).toLocaleString('en-US')} req/s${link}.`,
    }
  }
  const storeMax = (storeServers(c, o) * 1e6) / row1.demandUs.store
  const perInstance = 1e6 / row1.demandUs.app
  const n = Math.floor(storeMax / perInstance) + 1
  const within = n <= 1000
  return {
    cell: c.cell,
    storeBoundFromInstances: within ? n : null,
    storeMaxRps: storeMax,
    text:
      `${c.cell}: one ${c.store} at ${c.storeCpuUsPerOp!.toFixed(1)} µs per operation serves at ` +
      `most ${Math.round(storeMax).toLocaleString('en-US')} req/s (${
        traffic ?? `${c.storeOpsPerRequest.toFixed(2)} store ` + `operations per request`
      })${users}; ${
        within
          ? `from ${n} instances (${Math.round(perInstance).toLocaleString('en-US')} req/s each) the store, not ` +
            `the app, is the bottleneck`
          : 'the app stays the bottleneck up to 1,000 instances'
      }${light}.`,
  }
}

/** Every (cell, instances, RTT) the fleet table holds, and the rows left out with the reason. */
export function fleet(
  cells: Calibrated[],
  instances: number[],
  rttMs: number[],
  o: ModelOptions = DEFAULT_MODEL,
): { rows: FleetRow[]; notes: string[] } {
  const rows: FleetRow[] = []
  const notes: string[] = []
  const lifecycle = cells.filter((c) => c.lifecycle)
  if (lifecycle.length)
    notes.push(
      `Lifecycle cells (${lifecycle.map((c) => c.cell).join(', ')}): CPU per request and the store's CPU per operation come from ` +
        `windows at the workload's light load, where every request pays wake-ups a busy process shares; their maximum rates and ` +
        `cores are bounds on the safe side, not estimates. An open-loop run of the same cells calibrates them at load.`,
    )
  for (const c of cells) {
    if (c.lowLoad && c.lowLoad.load > LOW_LOAD)
      notes.push(
        `${c.cell}: its lowest open-loop rate (${Math.round(c.lowLoad.rate)}/s) ran at ${(c.lowLoad.load * 100).toFixed(0)}% of ` +
          `an instance by the model: not low load, so the servers' own times the latency model samples there may already hold ` +
          `waits the model adds again; a lower rate calibrates it.`,
      )
    if (storeUnknown(c)) {
      notes.push(
        `${c.cell}: no fleet modelled: the run did not measure its ${c.store}'s CPU per operation (a run with store faults ` +
          `restarts it), so the store's limit is unknown. A run without faults (scenarios/latency.ts) measures it.`,
      )
      continue
    }
    if (instances.some((n) => !fleetApplies(c, n)))
      notes.push(
        `${c.cell}: only 1 instance modelled: its requests read an in-process ${c.store} store, which one host holds; a fleet needs a shared store (Redis).`,
      )
    for (const n of instances) {
      if (!fleetApplies(c, n)) continue
      for (const r of rttMs) rows.push(fleetRow(c, n, r, o))
    }
  }
  return { rows, notes }
}
