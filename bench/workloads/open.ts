// The open loop: each cell's closed-loop capacity in the round, then a window at each fixed rate
// (equal load for every cell) and at each fraction of that capacity (the latency curve).
import type { RunEvent } from '../contracts/events.ts'
import type { CellResult, OpenLoopPoint, OpenMeasurement } from '../contracts/results.ts'
import type { Scenario } from '../contracts/scenario.ts'
import { checkRound } from '../check.ts'
import { measureOpen, openOptions } from '../collect.ts'
import { openLoop, type OpenDriver } from '../drive/open.ts'
import { faultsFor, faultsTarget, injector, type FaultPlan } from '../fault-kinds.ts'
import { recoveryOf } from '../recovery.ts'
import type { CellRuntime } from '../verify.ts'
import { median, shuffled } from '../stats.ts'
import { roundMedians } from '../summarize.ts'
import { closedFigures, PREPARE_SECONDS_ESTIMATE } from './closed-figures.ts'
import { lifecycleOnlyAxes } from './checks.ts'
import type { WorkloadDescriptor } from './descriptor.ts'
import { SMOKE_WINDOW_SECONDS } from '../server-defaults.ts'
import { cellWindow, retire, type TurnContext } from './turn.ts'
import { floorApplies, floorRates, measureFloor } from './floor.ts'
import { cellFaults, scaledFault } from './faulted.ts'

type OpenMeasured = Extract<RunEvent, { type: 'open-measured' }>
type Point = { round: number; rate: number; fraction: number | null }

/**
 * One open-loop window with the scenario's faults injected on its clock (started as the driver is handed the window), the
 * requests due in each 100 ms kept; every fault healed (the link up, the store and the instances back) as soon as the driver is
 * done, before the window's closing counts, and on every exit path. A store that is paused or cut off is not asked for its own
 * counts at the window's edges.
 */
async function measureFaulted(
  rt: CellRuntime,
  point: Point,
  load: Scenario['load'],
  faults: FaultPlan,
  signal: AbortSignal,
  driver: OpenDriver,
): Promise<OpenMeasurement> {
  const injected = injector(faults)
  let routedAwayMs: (number | null)[] | null = null
  const heal = async () => {
    routedAwayMs ??= await injected.stop()
  }
  const counted = faults.store || faults.link ? { ...rt, counts: async () => null, storeCpuUs: async () => null } : rt
  try {
    const m = await measureOpen(counted, point, load, signal, async (o) => {
      injected.start()
      try {
        return await driver({ ...o, timeline: true })
      } finally {
        await heal()
      }
    })
    return { ...m, routedAwayMs: routedAwayMs ?? [] }
  } finally {
    await heal()
  }
}

const points = (s: Scenario) => (s.load.rates?.length ?? 0) + (s.load.capacityFractions?.length ?? 0)

/**
 * One round in open mode: every cell in a shuffled order, each with one closed-loop window (its
 * capacity in this round, and a round of closed-loop figures), then one open-loop window at each
 * fixed rate and each fraction of that capacity.
 */
async function runOpenRound(round: number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, scenario, plans, random } = ctx
  const { load } = scenario
  const order = shuffled(
    plans.filter((p) => active.has(p.id)),
    random,
  )
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  for (const plan of order) {
    const taken = cellFaults(plan, ctx)
    if ('skip' in taken) {
      emit({ type: 'cell-skipped', cell: plan.id, reason: taken.skip })
      active.delete(plan.id)
      continue
    }
    // A smoke run's capacity window is a closed-loop one, as short as any other (its open-loop windows stay a second).
    const capacity = await cellWindow(plan, round, 0, ctx, opts.smoke ? SMOKE_WINDOW_SECONDS : undefined)
    if (!capacity || opts.signal.aborted) continue
    const rt = ctx.runtimes.get(plan.id)!
    if (taken.faults && faultsTarget(taken.faults.faults, 'instance') && !rt.instances) {
      const reason = 'an instance fault acts on instances the harness started behind HAProxy; these are not'
      emit({ type: 'cell-invalid', cell: plan.id, round, status: 'invalid', reason })
      active.delete(plan.id)
      await retire(plan.id, ctx.runtimes, emit)
      continue
    }
    const faults = taken.faults && { ...taken.faults, instances: rt.instances }
    const points = [
      ...(load.rates ?? []).map((rate) => ({ rate, fraction: null })),
      ...(load.capacityFractions ?? []).map((fraction) => ({ rate: Math.max(1, Math.round(capacity.rps * fraction)), fraction })),
    ]
    // A lead-in at the first point's rate, not measured: the window right after the closed-loop
    // burst otherwise carries its after-effects (measured here: the servers' own time at 1,000/s
    // twice what it was at 1,100/s a few windows later), and the fleet model calibrates from it.
    if (points.length && load.warmupSeconds > 0)
      await (opts.openDriver ?? openLoop)(
        openOptions(rt.targets, rt.requests, points[0]!.rate, Math.min(1, load.warmupSeconds), load, round, opts.signal),
      )
    for (const point of points) {
      if (opts.signal.aborted) return
      const m = faults
        ? await measureFaulted(rt, { round, ...point }, load, faults, opts.signal, opts.openDriver ?? openLoop)
        : await measureOpen(rt, { round, ...point }, load, opts.signal, opts.openDriver)
      if (opts.signal.aborted) return
      // A window with a fault in it is the fault's record: its 503s, and the store operations the servers tried while the store
      // was out of reach, are what it measures (read off its timeline), not a miscount.
      const problem = faults
        ? null
        : checkRound(
            {
              round,
              requests: m.completed,
              errors: 0,
              timeouts: 0,
              statusCounts: m.statusCounts,
              storeOpsPerRequest: m.storeOpsPerRequest,
              redisCommandsPerRequest: null,
              unsettledRequests: m.unsettledRequests,
              failedAnswers: m.failedAnswers,
            },
            rt.expected,
            rt.expected401Share,
            rt.renewalBound,
            rt.readBound,
          )
      emit({ type: 'open-measured', cell: plan.id, round, measurement: m, problem: problem && `open loop at ${point.rate}/s: ${problem}` })
      if (problem) {
        emit({ type: 'cell-invalid', cell: plan.id, round, status: 'invalid', reason: `open loop at ${point.rate}/s: ${problem}` })
        active.delete(plan.id)
        await retire(plan.id, ctx.runtimes, emit)
        break
      }
    }
  }
  if (!opts.signal.aborted && floorApplies(ctx)) await measureFloor(round, ctx)
}

/** One point per rate (fixed rates, then capacity fractions), each figure the median over its rounds; with faults, each
 * window's episodes read off its timeline. */
function openLoopPoints(windows: OpenMeasured[], faults: NonNullable<Scenario['faults']> | null): OpenLoopPoint[] {
  const groups = new Map<string, OpenMeasurement[]>()
  for (const { measurement: m } of windows) {
    const key = m.fraction === null ? `rate:${m.rate}` : `fraction:${m.fraction}`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  return [...groups.values()]
    .map((ms) => {
      const med = (pick: (m: OpenMeasurement) => number) => median(ms.map(pick))
      return {
        rate: med((m) => m.rate),
        fraction: ms[0]!.fraction,
        achievedRate: med((m) => m.achievedRate),
        ...roundMedians(ms),
        heldRounds: ms.filter((m) => m.held).length,
        rounds: ms,
        // The open loop's clients never log in: no session is lost to them, only answered 401.
        recoveries: faults && ms.flatMap((m) => (m.timeline ? [recoveryOf(m.timeline, faults, 0, m.routedAwayMs ?? [])] : [])),
      }
    })
    .sort((a, b) => Number(a.fraction !== null) - Number(b.fraction !== null) || a.rate - b.rate)
}

/** A faulted cell's timeline and recovery as the fault section reads them: its first point's (the lowest fixed rate's) first window. */
function faultFigures(points: OpenLoopPoint[]): Pick<CellResult, 'timeline' | 'recovery'> {
  const first = points[0]
  const timeline = first?.rounds[0]?.timeline
  return timeline && first.recoveries?.[0] ? { timeline, recovery: first.recoveries[0] } : { timeline: null, recovery: null }
}

export const openWorkload: WorkloadDescriptor = {
  kind: 'open',
  // `--smoke`: every fixed rate (the equal-load comparison, and the low rate a simulation starts
  // from) and the first capacity fraction, so each kind of point keeps its shape; windows of a second, not
  // half of one, so a busy machine's driver still holds a point the simulation can start from.
  // Faults keep their place in the shorter window.
  smoke: (s: Scenario, asked: Scenario) => {
    const window = Math.max(s.load.durationSeconds, 1)
    const scale = Math.min(1, window / asked.load.durationSeconds)
    return {
      ...s,
      ...(s.faults ? { faults: s.faults.map((f) => scaledFault(f, scale)) } : {}),
      load: {
        ...s.load,
        durationSeconds: window,
        ...(s.load.capacityFractions ? { capacityFractions: s.load.capacityFractions.slice(0, 1) } : {}),
      },
    }
  },
  checkCell: lifecycleOnlyAxes,
  runRound: runOpenRound,
  reduce: (cell) => {
    const points = openLoopPoints(
      cell.events.filter((e): e is OpenMeasured => e.type === 'open-measured'),
      faultsFor(cell.plan, cell.scenario.faults),
    )
    return { ...closedFigures(cell), openLoop: points, lifecycle: null, ...faultFigures(points) }
  },
  bracketed: false,
  progress: {
    // The driver's floor: about one window per rate.
    windowsPerRound: (active, _baseline, s) => active.length * (1 + points(s)) + floorRates(s, false).length,
    windowSeconds: (s) => s.load.durationSeconds + 0.6,
    prepareSeconds: (s) => PREPARE_SECONDS_ESTIMATE + s.load.warmupSeconds,
    describe: (s, _cells, _perRound, _baseline, seed) =>
      `open loop: each cell's closed-loop capacity, then ${points(s)} rate points, ${s.load.durationSeconds}s each (order ` +
      `shuffled with seed ${seed}), ${s.workload.users} users`,
  },
}
