// The lifecycle workload: virtual users living with their credentials (log in, GET on schedule,
// refresh, log out, a thief after each logout), one window per cell and round, faults injected
// into the store on the window's clock. No bracketing: its figures are counts and lags.
import { VerificationError } from '../contracts/errors.ts'
import { openWindow } from '../collect.ts'
import type { RunEvent } from '../contracts/events.ts'
import type { CellPlan } from '../contracts/plan.ts'
import type {
  CellResult,
  LifecycleMeasurement,
  LifecycleResult,
  LifecycleSummary,
  TimelineBucket,
  TimelinePoint,
} from '../contracts/results.ts'
import { LIFECYCLE_DEFAULTS, type Scenario, type ScenarioIssue } from '../contracts/scenario.ts'
import type { CellSpec } from '../contracts/plan.ts'
import { runLifecycle } from '../drive/virtual-users.ts'
import { faultsFor, faultsTarget, injector, type FaultPlan } from '../fault-kinds.ts'
import { cachedReadsPerGet } from '../expected.ts'
import { balancerOf } from '../fleet/balancers.ts'
import { recoveryOf } from '../recovery.ts'
import {
  expectedLagMedianMs,
  expectedRefreshes,
  lifecycleTiming,
  lifecycleWorkload,
  refreshIntervalSeconds,
  type LifecycleWorkload,
} from '../refresh-arithmetic.ts'
import { median, shuffled } from '../stats.ts'
import { strategyDescriptors } from '../strategies/index.ts'
import { runnerOf, strategyRunners } from '../strategies/run/index.ts'
import type { CellRuntime } from '../verify.ts'
import { prepareCell } from '../verify.ts'
import type { WorkloadDescriptor } from './descriptor.ts'
import { cellFaults, scaledFault } from './faulted.ts'
import { retire, type TurnContext } from './turn.ts'

/** A lifecycle cell logs in one credential, not a pool: starting, verifying and count-checking it takes about this long. */
const LIFECYCLE_PREPARE_SECONDS = 3

/** One lifecycle window on a prepared cell: the driver's figures, the servers' and the store's counts over the measured window. */
async function measureLifecycle(
  rt: Pick<CellRuntime, 'servers' | 'targets' | 'instanceUrls' | 'counts' | 'storeCpuUs' | 'serverCpuCount' | 'instances'>,
  plan: CellPlan,
  w: LifecycleWorkload,
  round: number,
  smoke: boolean,
  signal?: AbortSignal,
  faults: FaultPlan | null = null,
): Promise<LifecycleMeasurement> {
  const client = runnerOf(plan).lifecycle!
  const timing = lifecycleTiming(plan, w, smoke)
  // A store that is paused, killed, restarted or cut off cannot be asked for its own counts at the window's edges.
  if (faults?.store || faults?.link) rt = { ...rt, counts: async () => null, storeCpuUs: async () => null }
  const injected = faults ? injector(faults) : null
  let window: Awaited<ReturnType<typeof openWindow>> | null = null
  let counts: Awaited<ReturnType<Awaited<ReturnType<typeof openWindow>>['close']>> | null = null
  let result: LifecycleResult
  let routedAwayMs: (number | null)[] | null = null
  try {
    result = await runLifecycle({
      urls: rt.targets,
      instanceUrls: rt.instanceUrls,
      client,
      path: w.path,
      users: w.users,
      requestsPerUserPerSecond: w.requestsPerUserPerSecond,
      durationSeconds: w.durationSeconds,
      logoutsPerSecond: w.logoutsPerSecond,
      refreshMarginSeconds: w.refreshMarginSeconds,
      refreshJitterSeconds: plan.refreshJitterSeconds ?? 0,
      concurrentRefreshShare: w.concurrentRefreshShare,
      synchronized: w.synchronized,
      ...timing,
      seed: round,
      ...(signal ? { signal } : {}),
      onWindow: async (edge) => {
        if (edge === 'start') {
          injected?.start()
          window = await openWindow(rt)
        } else if (window) counts = await window.close()
      },
    })
  } finally {
    if (injected) routedAwayMs = await injected.stop()
  }
  const c = counts ?? { served: 0, serverCpuUs: 0, storeCpuUs: null, ops: { reads: 0, writes: 0, deletes: 0 }, external: null }
  const seconds = w.durationSeconds
  const { reads, writes, deletes } = c.ops
  return {
    round,
    ...result,
    served: c.served,
    cpuUsPerRequest: per(c.serverCpuUs, c.served),
    storeCpuUsPerRequest: c.storeCpuUs === null ? null : per(c.storeCpuUs, c.served),
    storeOps: { reads, writes, deletes },
    storeOpsPerSecond: { reads: reads / seconds, writes: writes / seconds, deletes: deletes / seconds },
    storeOpsPerRequest: { reads: per(reads, c.served), writes: per(writes, c.served), deletes: per(deletes, c.served) },
    redisCommands: c.external,
    drainSeconds: timing.drainSeconds,
    routedAwayMs,
  }
}

const per = (n: number, d: number) => (d === 0 ? 0 : n / d)

/**
 * One round of the lifecycle workload: every cell in a shuffled order, each prepared (verified on
 * the GET its users call) and then lived in by the virtual users for one window. Cells are stopped
 * after their last round. No bracketing: the figures are counts and lags, not CPU ratios.
 */
async function runLifecycleRound(round: number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, scenario, runtimes, plans, random } = ctx
  const w = lifecycleWorkload(scenario.workload)
  const order = shuffled(
    plans.filter((p) => active.has(p.id)),
    random,
  )
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  for (const [slot, plan] of order.entries()) {
    if (opts.signal.aborted) return
    let rt = runtimes.get(plan.id)
    const taken = cellFaults(plan, ctx)
    if ('skip' in taken) {
      emit({ type: 'cell-skipped', cell: plan.id, reason: taken.skip })
      active.delete(plan.id)
      continue
    }
    const faulted = taken.faults
    emit({ type: 'round-started', cell: plan.id, round, slot, prepare: !rt })
    try {
      if (!rt) {
        const verifyAs: CellPlan = { ...plan, workload: w.path === '/profile' ? 'GET /profile' : 'GET /me' }
        rt = await prepareCell(verifyAs, { ...ctx.prepare(plan), poolSize: 1 })
        runtimes.set(plan.id, rt)
        emit({
          type: 'cell-prepared',
          cell: plan.id,
          credential: rt.credential,
          revocationProbe: rt.revocationProbe,
          storeRtt: rt.storeRtt,
        })
      }
      if (faulted && faultsTarget(faulted.faults, 'instance') && !rt.instances)
        throw new VerificationError('an instance fault acts on instances the harness started behind HAProxy; these are not')
      const measurement = await measureLifecycle(
        rt,
        plan,
        w,
        round,
        opts.smoke,
        opts.signal,
        faulted && { ...faulted, instances: rt.instances },
      )
      if (opts.signal.aborted) return
      emit({ type: 'lifecycle-measured', cell: plan.id, round, measurement })
    } catch (err) {
      if (opts.signal.aborted) return
      emit({
        type: 'cell-invalid',
        cell: plan.id,
        round,
        status: err instanceof VerificationError ? 'invalid' : 'failed',
        reason: (err as Error).message,
      })
      active.delete(plan.id)
    }
    if (round === scenario.load.rounds || !active.has(plan.id)) await retire(plan.id, runtimes, emit)
  }
}

type LifecycleMeasured = Extract<RunEvent, { type: 'lifecycle-measured' }>

/** The fields of a lifecycle window's 100 ms buckets that a fault's timeline keeps (not its refreshes or its own counters). */
const TIMELINE_KEYS = [
  'tMs',
  'requests',
  'ok',
  'status401',
  'status502',
  'status503',
  'status5xx',
  'errors',
  'latencyUsP50',
  'latencyUsP99',
  'latencyUsMax',
  'logins',
  'forcedLogins',
] as const satisfies readonly (keyof TimelineBucket)[]

/** The timeline and recovery of a cell that took some of the scenario's faults (its first window). */
function faultFigures(plan: CellPlan, scenario: Scenario, m: LifecycleMeasurement | null): Pick<CellResult, 'timeline' | 'recovery'> {
  const faults = faultsFor(plan, scenario.faults)
  if (!faults || !m) return { timeline: null, recovery: null }
  const timeline = m.timeline.map((b) => Object.fromEntries(TIMELINE_KEYS.map((k) => [k, b[k]])) as TimelinePoint)
  return { timeline, recovery: recoveryOf(timeline, faults, m.usersForcedToLogIn, m.routedAwayMs ?? []) }
}

/** Counts summed over the rounds, rates over their total measured time, lags over every sample, latencies the median of the rounds'. */
function lifecycleSummary(plan: CellPlan, w: LifecycleWorkload, ms: LifecycleMeasurement[]): LifecycleSummary | null {
  if (ms.length === 0) return null
  const total = (pick: (m: LifecycleMeasurement) => number) => ms.reduce((n, m) => n + pick(m), 0)
  const seconds = total((m) => m.durationSeconds)
  const served = total((m) => m.served)
  const ops = { reads: total((m) => m.storeOps.reads), writes: total((m) => m.storeOps.writes), deletes: total((m) => m.storeOps.deletes) }
  const lags = ms.flatMap((m) => m.lagSamplesMs).sort((a, b) => a - b)
  const pick = (xs: number[], p: number) =>
    xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]! : null
  const at = (p: number) => pick(lags, p)
  const every = ms.flatMap((m) => m.everyInstanceLagSamplesMs ?? []).sort((a, b) => a - b)
  const everyOf = ms.find((m) => m.everyInstanceLagMs)?.everyInstanceLagMs ?? null
  const by = {
    invalidGrant: total((m) => m.refreshFailures.invalidGrant),
    invalidGrantAfterUnavailable: total((m) => m.refreshFailures.invalidGrantAfterUnavailable),
    unavailable: total((m) => m.refreshFailures.unavailable),
    errors: total((m) => m.refreshFailures.errors),
  }
  const refreshed = ms.some((m) => m.latencyUs.refreshes.count > 0)
  // Logged in all at once, the users refresh in waves: the steady-state prediction does not apply.
  const expectedPerRound = w.synchronized ? null : expectedRefreshes(plan, w)
  const ttl = plan.accessTtlSeconds
  const reasons = ms.filter((m) => !m.held).map((m) => `round ${m.round}: ${m.reason}`)
  return {
    accessTtlSeconds: ttl,
    requestsPerLifetime: ttl === null ? null : ttl * w.requestsPerUserPerSecond,
    durationSeconds: seconds,
    users: w.users,
    requests: total((m) => m.requests),
    logins: total((m) => m.logins),
    forcedLogins: total((m) => m.forcedLogins),
    refreshes: total((m) => m.refreshes),
    refreshFailures: by.invalidGrant + by.unavailable + by.errors,
    refreshFailuresBy: by,
    logouts: total((m) => m.logouts),
    unexpected401: total((m) => m.unexpected401),
    status503: total((m) => m.status503),
    errors: total((m) => m.errors),
    probes: total((m) => m.probes),
    races: { attempted: total((m) => m.races.attempted), familyRevoked: total((m) => m.races.familyRevoked) },
    storeOpsPerSecond: { reads: ops.reads / seconds, writes: ops.writes / seconds, deletes: ops.deletes / seconds },
    storeOpsPerRequest: {
      reads: served ? ops.reads / served : 0,
      writes: served ? ops.writes / served : 0,
      deletes: served ? ops.deletes / served : 0,
    },
    cpuUsPerRequest: served ? total((m) => m.cpuUsPerRequest * m.served) / served : 0,
    revocationLagMs: {
      p50: at(50),
      p99: at(99),
      max: lags.length ? lags[lags.length - 1]! : null,
      samples: lags.length,
      censored: total((m) => m.revocationLagMs.censored),
      probeIntervalMs: ms[0]!.revocationLagMs.probeIntervalMs,
    },
    everyInstanceLagMs: everyOf && {
      p50: pick(every, 50),
      p99: pick(every, 99),
      max: every.length ? every[every.length - 1]! : null,
      samples: every.length,
      refusedAtFirst: total((m) => m.everyInstanceLagMs?.refusedAtFirst ?? 0),
      censored: total((m) => m.everyInstanceLagMs?.censored ?? 0),
      instances: everyOf.instances,
      probeIntervalMs: everyOf.probeIntervalMs,
    },
    latencyUs: {
      requests: { p50: median(ms.map((m) => m.latencyUs.requests.p50)), p99: median(ms.map((m) => m.latencyUs.requests.p99)) },
      refreshes: refreshed
        ? { p50: median(ms.map((m) => m.latencyUs.refreshes.p50)), p99: median(ms.map((m) => m.latencyUs.refreshes.p99)) }
        : null,
    },
    refreshRate: {
      meanPerSecond: total((m) => m.refreshes) / seconds,
      peakPerSecond: Math.max(...ms.map((m) => m.refreshRate.peakPerSecond)),
    },
    duringPeak: {
      latencyUsP99: ms.some((m) => m.duringPeak.latencyUsP99 !== null)
        ? median(ms.flatMap((m) => (m.duringPeak.latencyUsP99 === null ? [] : [m.duringPeak.latencyUsP99])))
        : null,
      otherLatencyUsP99: ms.some((m) => m.duringPeak.otherLatencyUsP99 !== null)
        ? median(ms.flatMap((m) => (m.duringPeak.otherLatencyUsP99 === null ? [] : [m.duringPeak.otherLatencyUsP99])))
        : null,
    },
    expected: {
      refreshes: expectedPerRound === null ? null : expectedPerRound * ms.length,
      refreshesAtTtl: expectedRefreshes(plan, w) === null || ttl === null ? null : (w.users * w.durationSeconds * ms.length) / ttl,
      refreshIntervalSeconds: refreshIntervalSeconds(plan, w),
      lagMedianMs: expectedLagMedianMs(plan, w),
      stateReadsPerGet:
        plan.sessionCache && (plan.instances === 1 || balancerOf(plan).keepsClientOnIssuer(plan.balance) || !balancerOf(plan).fronts)
          ? cachedReadsPerGet(plan.sessionCache.ttlSeconds, w.requestsPerUserPerSecond)
          : null,
    },
    held: reasons.length === 0,
    reason: reasons.length ? reasons.join('; ') : null,
    rounds: ms,
  }
}

/** Lifecycle cells the workload cannot run as asked, with the reason. */
function checkCell(scenario: Scenario, spec: CellSpec, index: number): ScenarioIssue[] {
  const w = scenario.workload
  const at = (field: string) => `cells[${index}].${field}`
  const issues: ScenarioIssue[] = []
  if (!strategyRunners[spec.strategy].lifecycle) {
    const living = Object.values(strategyRunners)
      .filter((x) => x.lifecycle)
      .map((x) => x.kind)
    issues.push({
      path: at('strategy'),
      message: `"${spec.strategy}" has no credential to live with; the lifecycle workload needs ${living.join(', ')}`,
    })
  }
  const ttl = spec.accessTtlSeconds
  const requestInterval = 1 / (w.requestsPerUserPerSecond ?? 1)
  if (ttl !== null && ttl < requestInterval) {
    issues.push({
      path: at('accessTtlSeconds'),
      message: `${ttl} s is shorter than one user's request interval (${requestInterval} s): every credential would expire between two requests`,
    })
  }
  const early = (w.refreshMarginSeconds ?? LIFECYCLE_DEFAULTS.refreshMarginSeconds) + (spec.refreshJitterSeconds ?? 0)
  if (strategyDescriptors[spec.strategy].refreshes && ttl !== null && ttl <= early + 1) {
    issues.push({
      path: at('accessTtlSeconds'),
      message: `${ttl} s leaves no time between refreshes: a refresh is due ${early} s before exp, and exp is whole seconds (needs more than ${early + 1} s)`,
    })
  }
  return issues
}

/** `--smoke`: a one-second window and 20 users; faults keep their place in the shorter window. */
function smoke(s: Scenario): Scenario {
  const duration = s.workload.durationSeconds ?? 2
  const scale = Math.min(duration, 1) / duration
  return {
    ...s,
    ...(s.faults ? { faults: s.faults.map((f) => scaledFault(f, scale)) } : {}),
    workload: { ...s.workload, durationSeconds: Math.min(duration, 1), users: Math.min(s.workload.users, 20) },
  }
}

export const lifecycleWorkloadDescriptor: WorkloadDescriptor = {
  kind: 'lifecycle',
  smoke,
  checkCell,
  runRound: runLifecycleRound,
  reduce: (cell) => {
    const lived = cell.events.filter((e): e is LifecycleMeasured => e.type === 'lifecycle-measured').map((e) => e.measurement)
    return {
      rounds: [],
      summary: null,
      openLoop: null,
      lifecycle: lifecycleSummary(cell.plan, lifecycleWorkload(cell.scenario.workload), lived),
      ...faultFigures(cell.plan, cell.scenario, lived[0] ?? null),
    }
  },
  bracketed: false,
  progress: {
    windowsPerRound: (active) => active.length,
    // One window per cell and round: its warm-up, the measured seconds and the thieves' drain.
    windowSeconds: (s, cells) => {
      const w = lifecycleWorkload(s.workload)
      return (
        cells.reduce((n, c) => {
          const t = lifecycleTiming(c, w, false)
          return n + t.warmupSeconds + w.durationSeconds + t.drainSeconds
        }, 0) / Math.max(1, cells.length)
      )
    },
    prepareSeconds: () => LIFECYCLE_PREPARE_SECONDS,
    describe: (s, _cells, _perRound, _baseline, seed) =>
      `lifecycle: ${s.workload.users} virtual users, ${lifecycleWorkload(s.workload).durationSeconds}s measured per cell after a ` +
      `warm-up, thieves probing after each logout (order shuffled with seed ${seed})`,
  },
}
