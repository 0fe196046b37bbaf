// `npm run observe`: a fleet under someone else's load (k6, Artillery, Locust, a second authbench),
// measured from its servers' own metrics. Windows edge to edge: each edge reads every target once,
// and a window's figures are the differences between its two edges, as any run's windows are.
import { ScenarioError, TargetError } from '../contracts/errors.ts'
import type { RunEvent } from '../contracts/events.ts'
import type { CellPlan } from '../contracts/plan.ts'
import type { ResultsFile, RoundMeasurement } from '../contracts/results.ts'
import { validateScenario, type Scenario } from '../contracts/scenario.ts'
import { snapshot, windowCounts, type Counted, type Snapshot, type WindowCounts } from '../collect.ts'
import { describeEnvironment } from '../environment.ts'
import { remoteRecord } from '../fleet/arrange.ts'
import { expandPlan } from '../plan.ts'
import { reduceRun } from '../reduce.ts'
import { strategyDescriptors } from '../strategies/index.ts'
import { connectAll, matchInstances, type Fleet } from './fleet.ts'
import type { RemoteInstance } from './instance.ts'

/** The most instances a cell takes (the scenario's own limit, which names its cells). */
const MAX_INSTANCES = 8

export interface ObserveOptions {
  fleet: Fleet
  /** The fleet file as given, recorded as the run's file. */
  file: string
  windowSeconds: number
  windows: number
  signal: AbortSignal
  /** A line of progress (stderr). */
  say(line: string): void
}

/** `authbench_info`'s label for each cell axis it states. */
const LABELS = {
  store: 'store',
  alg: 'alg',
  engine: 'engine',
  keyForm: 'key_form',
  verifyCache: 'verify_cache',
  revocation: 'revocation',
} as const

/**
 * One cell's spec as its servers' `authbench_info` states it: the axes its strategy takes (a `none`
 * server still names the store its users table is in), `none` read as not given.
 */
function cellOf(info: Record<string, string>, instances: number): Record<string, unknown> {
  const takes =
    (strategyDescriptors as Record<string, { axes: Partial<Record<string, unknown>> } | undefined>)[info.strategy ?? '']?.axes ?? {}
  const cell: Record<string, unknown> = { strategy: info.strategy, instances }
  for (const [axis, label] of Object.entries(LABELS)) {
    const v = info[label]
    if (v === undefined || v === 'none' || takes[axis] === undefined) continue
    cell[axis] = axis === 'verifyCache' ? Number(v) : v
  }
  // A library session names its library and preset, and runs on the one framework its library takes.
  const library = info.session_library
  if (info.strategy === 'session' && library !== undefined && library !== 'none' && library !== 'authbench') {
    cell.sessionLibrary = library
    if (info.preset !== undefined && info.preset !== 'none') cell.preset = info.preset
    if (info.framework !== undefined) cell.framework = info.framework
  }
  const cache = /^(\d+)\/(\d+)$/.exec(info.session_cache ?? '')
  if (cache) cell.sessionCache = { entries: Number(cache[1]), ttlSeconds: Number(cache[2]) }
  return cell
}

/**
 * The cells of a fleet: one per distinct `authbench_info`, the `none` cell first, named as a scenario's cells are, and each given its instances by the same
 * match remote mode uses.
 */
function cellsOf(
  instances: RemoteInstance[],
  o: ObserveOptions,
): { scenario: Scenario; plans: CellPlan[]; byCell: Map<string, RemoteInstance[]> } {
  const groups = new Map<string, { info: Record<string, string>; n: number }>()
  for (const i of instances) {
    const key = JSON.stringify(Object.entries(i.info).sort(([a], [b]) => a.localeCompare(b)))
    const g = groups.get(key) ?? { info: i.info, n: 0 }
    g.n++
    groups.set(key, g)
  }
  const crowded = [...groups.values()].filter((g) => g.n > MAX_INSTANCES)
  if (crowded.length)
    throw new TargetError(
      `${o.file}: more than ${MAX_INSTANCES} instances run one cell (${crowded.map((g) => `${g.n} run strategy=${g.info.strategy}`).join('; ')})`,
    )
  const cells = [...groups.values()]
    .sort((a, b) => Number(b.info.strategy === 'none') - Number(a.info.strategy === 'none'))
    .map((g) => cellOf(g.info, g.n))
  // Validated and named as a closed-loop scenario's cells (the observed workload refuses to be planned: it drives nothing).
  const raw = {
    name: 'observed',
    description: `A fleet under load from outside (${o.file}), read from its servers' own metrics`,
    cells,
    workload: { route: 'GET /me' },
  }
  let closed: Scenario
  let plans: CellPlan[]
  try {
    closed = validateScenario(raw, o.file)
    plans = expandPlan(closed, o.file).cells.map((p) => ({ ...p, workload: 'observed' as const }))
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err
    throw new TargetError(`the targets' authbench_info names no cell authbench knows:\n${err.message}`, { cause: err })
  }
  const scenario: Scenario = {
    ...closed,
    workload: { ...closed.workload, route: 'observed' },
    load: { ...closed.load, durationSeconds: o.windowSeconds, warmupSeconds: 0, rounds: o.windows },
  }
  return { scenario, plans, byCell: matchInstances(instances, plans) }
}

/** A window as the results hold it: the servers' own figures; none of the client's (latency, bytes, statuses) exist here. */
function measurementOf(round: number, c: WindowCounts, seconds: number, servers: RemoteInstance[]): RoundMeasurement {
  const instances = servers.length
  const per = (n: number) => (c.served === 0 ? 0 : n / c.served)
  return {
    round,
    slot: 0,
    requests: c.served,
    durationSeconds: seconds,
    rps: c.served / seconds,
    latencyMs: { p50: 0, p90: 0, p99: 0, max: 0 },
    serverTimeUs: c.serverTimeUs,
    cpuUsPerRequest: per(c.serverCpuUs),
    storeCpuUsPerRequest: null,
    totalCpuUsPerRequest: per(c.serverCpuUs),
    serverBusyShare: c.serverCpuUs / (seconds * 1e6 * instances),
    // Whether the load kept the servers busy is the load's business here: no window is set aside for it.
    clientBound: false,
    storeOpsPerRequest: { reads: per(c.ops.reads), writes: per(c.ops.writes), deletes: per(c.ops.deletes) },
    redisCommandsPerRequest: null,
    bytesPerRequest: { request: 0, response: 0 },
    statusCounts: {},
    non2xx: c.failed,
    errors: 0,
    timeouts: 0,
    status401Share: 0,
    rssBytes: c.rssBytes,
    instanceRequests: c.instanceRequests,
    unsettledRequests: c.unsettled,
    failedAnswers: c.failed,
    balancerCpuUsPerRequest: null,
    instanceWindows: c.instances.map((w, i) => ({ url: servers[i]!.url, ...w })),
  }
}

/** Waits `seconds`, or less when the signal fires. */
function wait(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, seconds * 1000)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}

type Edge = { at: number; cells: Map<string, Snapshot | Error> }

/**
 * Observes the fleet for `windows` windows of `windowSeconds` and reduces them into results, as a
 * run's events are. Throws TargetError before the first window for targets that do not answer or
 * name no cell; afterwards a target that cannot be read fails its cell's window, and the run goes on.
 */
export async function observeFleet(o: ObserveOptions): Promise<ResultsFile> {
  const startedAt = new Date().toISOString()
  const environment = { ...describeEnvironment(), cpuAffinity: null, topology: remoteRecord(o.fleet) }
  const instances = await connectAll(o.fleet, false)
  const { scenario, plans, byCell } = cellsOf(instances, o)
  // No baseline: a cell's windows are not bracketed by the `none` cell's, and the outside load's mix need not be the same on both.
  const baseline = ''
  const events: RunEvent[] = []
  const emit = (e: RunEvent) => events.push(e)
  emit({ type: 'run-started', scenario, cells: plans, baseline, affinity: null, seed: 0 })
  const counted = new Map<string, Counted>(
    plans.map((p) => [p.id, { servers: byCell.get(p.id)!, counts: async () => null, storeCpuUs: async () => null }]),
  )
  const edge = async (): Promise<Edge> => {
    const at = performance.now()
    const read = await Promise.all(plans.map(async (p) => [p.id, await snapshot(counted.get(p.id)!).catch((err: Error) => err)] as const))
    return { at, cells: new Map(read) }
  }
  const failures = new Map<string, { round: number; reason: string }[]>()
  let before = await edge()
  o.say(
    `observing ${instances.length} target${instances.length === 1 ? '' : 's'} in ${plans.length} cell${plans.length === 1 ? '' : 's'} ` +
      `(${plans.map((p) => p.id).join(', ')}): ${o.windows} window${o.windows === 1 ? '' : 's'} of ${o.windowSeconds}s, the load another engine's`,
  )
  for (let round = 1; round <= o.windows && !o.signal.aborted; round++) {
    await wait(o.windowSeconds, o.signal)
    // A window Ctrl-C cut short is not a window: what was observed so far is the whole windows.
    if (o.signal.aborted) break
    const after = await edge()
    const seconds = (after.at - before.at) / 1000
    const parts: string[] = []
    for (const p of plans) {
      const [a, b] = [before.cells.get(p.id)!, after.cells.get(p.id)!]
      if (a instanceof Error || b instanceof Error) {
        const problem = a instanceof Error ? `no reading at its start (${a.message})` : (b as Error).message
        failures.set(p.id, [...(failures.get(p.id) ?? []), { round, reason: problem }])
        parts.push(`${p.id} failed: ${problem}`)
        continue
      }
      const c = windowCounts(a, b)
      const m = measurementOf(round, c, seconds, byCell.get(p.id)!)
      emit({ type: 'round-measured', cell: p.id, round, slot: 0, measurement: m, problem: null })
      const idle = byCell.get(p.id)!.filter((_, i) => c.instanceRequests[i] === 0)
      parts.push(
        `${p.id} ${c.served} requests` +
          (c.served ? ` ${m.cpuUsPerRequest.toFixed(1)} µs CPU/req` : '') +
          (idle.length ? ` (served nothing: ${idle.map((i) => i.url).join(', ')})` : ''),
      )
    }
    o.say(`window ${round}/${o.windows} (${seconds.toFixed(1)}s): ${parts.join('; ')}`)
    before = after
  }
  for (const [cell, failed] of failures) {
    const reasons = [...new Set(failed.map((f) => f.reason))]
    emit({
      type: 'cell-invalid',
      cell,
      round: failed[0]!.round,
      status: 'failed',
      reason: `window${failed.length === 1 ? '' : 's'} ${failed.map((f) => f.round).join(', ')} of ${o.windows} failed: ${reasons.join('; ')}`,
    })
  }
  emit({ type: 'run-finished', interrupted: o.signal.aborted })
  return reduceRun({
    scenario,
    file: o.file,
    smoke: false,
    plans,
    baseline,
    events,
    seed: 0,
    environment,
    startedAt,
    finishedAt: new Date().toISOString(),
    micro: null,
  })
}
