import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StoreUnavailableHereError, VerificationError } from '../servers/errors.ts'
import { openDatabase } from '../servers/db.ts'
import type { StoreKind } from '../servers/types.ts'
import { DEFAULT_HASH_COST, saveUsersCache, seedUsers, usersCachePath } from '../servers/users.ts'
import { randomInt } from 'node:crypto'
import { cpus } from 'node:os'
import { cpuCount, pinSelf, planAffinity } from './affinity.ts'
import { checkRound } from './check.ts'
import { measureOpen, measureRound, type Driver } from './collect.ts'
import { describeEnvironment } from './environment.ts'
import { runMicro } from './micro/run.ts'
import { expandPlan } from './plan.ts'
import type { ProcessGroup } from './processes.ts'
import { bracketSpread, MAX_REPEATS, repeatReason } from './noise.ts'
import { reduceRun } from './reduce.ts'
import { seededRandom, shuffled } from './stats.ts'
import { faultsApply } from './faults.ts'
import { lifecycleWorkload, measureLifecycle } from './lifecycle.ts'
import { storeProvisioners, type ProvisionedStore } from './stores/index.ts'
import { privateOrGivenRedis } from './stores/redis.ts'
import { prepareCell, type CellRuntime, type PrepareOptions } from './verify.ts'
import type { MicroResults, ResultsFile, RoundMeasurement } from './contracts/results.ts'
import type { CellPlan } from './contracts/plan.ts'
import type { Scenario } from './contracts/scenario.ts'
import type { RunEvent, RunListener } from './contracts/events.ts'

export interface RunOptions {
  scenario: Scenario
  file: string
  smoke: boolean
  /** Stores the user runs, by kind (`--redis-url`); the others are started privately when a cell needs them. */
  storeUrls: Partial<Record<StoreKind, string>>
  group: ProcessGroup
  signal: AbortSignal
  listeners: RunListener[]
  /** Pin the harness (load generator, Redis) and the servers to separate CPUs. Default true. */
  pin?: boolean
  /** The load driver (tests give a scripted one); autocannon by default. */
  driver?: Driver
  /** Seed of the per-round shuffle of the cell order; random (and recorded) when absent. */
  seed?: number
}

/** `--smoke`: every run about a second, one round, a small credential pool; same output shape. */
export function smokeScenario(s: Scenario): Scenario {
  // Faults keep their place in the shorter window.
  const scale = s.workload.route === 'lifecycle' ? Math.min(s.workload.durationSeconds ?? 2, 2) / (s.workload.durationSeconds ?? 2) : 1
  return {
    ...s,
    ...(s.faults ? { faults: s.faults.map((f) => ({ ...f, atSeconds: f.atSeconds * scale, ...(f.durationSeconds === undefined ? {} : { durationSeconds: f.durationSeconds * scale }) })) } : {}),
    workload: {
      ...s.workload, users: Math.min(s.workload.users, 50),
      ...(s.workload.route === 'lifecycle' ? { durationSeconds: Math.min(s.workload.durationSeconds ?? 2, 2), users: Math.min(s.workload.users, 20) } : {}),
    },
    load: { ...s.load, durationSeconds: 1, warmupSeconds: 0, rounds: 1, connections: Math.min(s.load.connections, 20) },
  }
}

/** Seeds the users once (or takes the servers' cached copy) into a SQLite file that every cell then copies. */
async function seedTemplate(users: number): Promise<{ path: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-users-'))
  const cache = usersCachePath(users, DEFAULT_HASH_COST)
  const db = openDatabase(join(dir, 'users.sqlite'), existsSync(cache) ? cache : undefined)
  try {
    if ((await seedUsers(db.db, users, DEFAULT_HASH_COST)) === users) saveUsersCache(db.db, cache)
    db.db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
  return { path: join(dir, 'users.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The quick micro-benchmarks, on a Redis of their own (smoke runs keep the shape with tiny budgets). */
async function micro(opts: RunOptions): Promise<MicroResults> {
  let redisUrl: string | null = null
  let stop = async () => {}
  try {
    const redis = await privateOrGivenRedis(opts.storeUrls.redis ?? null, null, opts.group)
    redisUrl = redis.url
    stop = () => redis.stop()
  } catch (err) {
    if (!(err instanceof StoreUnavailableHereError)) throw err
  }
  try {
    return await runMicro({ quick: true, redisUrl, signal: opts.signal, ...(opts.smoke ? { timeMs: 20, sessions: 10_000 } : {}) })
  } finally {
    await stop()
  }
}

/** Makes ready every store the plan needs; cells whose store cannot be had are skipped with the reason. */
async function provisionStores(plans: CellPlan[], opts: RunOptions, cpus: string | null, emit: RunListener, active: Set<string>): Promise<Map<StoreKind, ProvisionedStore>> {
  const stores = new Map<StoreKind, ProvisionedStore>()
  for (const kind of new Set(plans.flatMap((p) => (p.store ? [p.store] : [])))) {
    try {
      const store = await storeProvisioners[kind].provision({ cpus, group: opts.group, urls: opts.storeUrls })
      stores.set(kind, store)
      emit({ type: 'store-ready', store: kind, description: store.description })
    } catch (err) {
      const reason = err instanceof StoreUnavailableHereError ? err.message : `could not start the ${kind} store: ${(err as Error).message}`
      for (const p of plans.filter((x) => x.store === kind)) {
        active.delete(p.id)
        emit({ type: 'cell-skipped', cell: p.id, reason })
      }
    }
  }
  return stores
}

/** Stops a cell's servers (and its delay proxy, after reporting what the proxy forwarded and what it cost). */
async function retire(id: string, runtimes: Map<string, CellRuntime>, emit: RunListener): Promise<void> {
  const rt = runtimes.get(id)
  if (!rt) return
  runtimes.delete(id)
  const proxy = await rt.proxyStats().catch(() => null)
  if (proxy) emit({ type: 'proxy-measured', cell: id, cpuUs: proxy.cpuUs, forwarded: proxy.forwarded })
  await rt.close()
}

/** One cell's turn in a round: prepared on its first turn, then one measured, checked window. False when the cell ends here. */
/**
 * One window of a cell: prepared before its first window, then one measured, checked window.
 * Returns the measurement, or null when the cell ends here (invalid or failed) or the run was interrupted.
 */
async function cellWindow(plan: CellPlan, round: number, slot: number, ctx: TurnContext): Promise<RoundMeasurement | null> {
  const { opts, scenario, emit, runtimes } = ctx
  let rt = runtimes.get(plan.id)
  emit({ type: 'round-started', cell: plan.id, round, slot, prepare: !rt })
  try {
    const warmup = !rt
    if (!rt) {
      rt = await prepareCell(plan, ctx.prepare(plan))
      runtimes.set(plan.id, rt)
      emit({ type: 'cell-prepared', cell: plan.id, credential: rt.credential, revocationProbe: rt.revocationProbe, storeRtt: rt.storeRtt })
    }
    const measurement = await measureRound(rt, { round, slot, warmup }, scenario.load, opts.signal, opts.driver)
    if (opts.signal.aborted) return null
    const problem = checkRound(measurement, rt.expected, rt.expected401Share, rt.renewalBound)
    emit({ type: 'round-measured', cell: plan.id, round, slot, measurement, problem })
    if (problem === null) return measurement
    emit({ type: 'cell-invalid', cell: plan.id, round, status: 'invalid', reason: problem })
  } catch (err) {
    if (opts.signal.aborted) return null
    emit({ type: 'cell-invalid', cell: plan.id, round, status: err instanceof VerificationError ? 'invalid' : 'failed', reason: (err as Error).message })
  }
  ctx.active.delete(plan.id)
  await retire(plan.id, runtimes, emit)
  return null
}

interface TurnContext {
  opts: RunOptions
  scenario: Scenario
  emit: RunListener
  runtimes: Map<string, CellRuntime>
  active: Set<string>
  prepare(plan: CellPlan): PrepareOptions
}

/**
 * One round in open mode: every cell in a shuffled order, each with one closed-loop window (its
 * capacity in this round, and a round of closed-loop figures), then one open-loop window at each
 * fixed rate and each fraction of that capacity.
 */
async function runOpenRound(round: number, plans: CellPlan[], random: () => number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, scenario } = ctx
  const { load } = scenario
  const order = shuffled(plans.filter((p) => active.has(p.id)), random)
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  for (const plan of order) {
    const capacity = await cellWindow(plan, round, 0, ctx)
    if (!capacity || opts.signal.aborted) continue
    const rt = ctx.runtimes.get(plan.id)!
    const points = [
      ...(load.rates ?? []).map((rate) => ({ rate, fraction: null })),
      ...(load.capacityFractions ?? []).map((fraction) => ({ rate: Math.max(1, Math.round(capacity.rps * fraction)), fraction })),
    ]
    for (const point of points) {
      if (opts.signal.aborted) return
      const m = await measureOpen(rt, { round, ...point }, load, opts.signal)
      if (opts.signal.aborted) return
      const problem = checkRound({ round, requests: m.completed, errors: 0, timeouts: 0, statusCounts: m.statusCounts, storeOpsPerRequest: m.storeOpsPerRequest, redisCommandsPerRequest: null }, rt.expected, rt.expected401Share, rt.renewalBound)
      emit({ type: 'open-measured', cell: plan.id, round, measurement: m, problem: problem && `open loop at ${point.rate}/s: ${problem}` })
      if (problem) {
        emit({ type: 'cell-invalid', cell: plan.id, round, status: 'invalid', reason: `open loop at ${point.rate}/s: ${problem}` })
        active.delete(plan.id)
        await retire(plan.id, ctx.runtimes, emit)
        break
      }
    }
  }
}

/**
 * One round of the lifecycle workload: every cell in a shuffled order, each prepared (verified on
 * the GET its users call) and then lived in by the virtual users for one window. Cells are stopped
 * after their last round. No bracketing: the figures are counts and lags, not CPU ratios.
 */
async function runLifecycleRound(round: number, plans: CellPlan[], random: () => number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active, scenario, runtimes } = ctx
  const w = lifecycleWorkload(scenario.workload)
  const order = shuffled(plans.filter((p) => active.has(p.id)), random)
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  for (const [slot, plan] of order.entries()) {
    if (opts.signal.aborted) return
    let rt = runtimes.get(plan.id)
    const store = ctx.prepare(plan).store
    const faults = scenario.faults && faultsApply(plan) ? store?.faults ?? null : null
    if (scenario.faults && faultsApply(plan) && !faults) {
      emit({ type: 'cell-skipped', cell: plan.id, reason: 'faults act only on the private redis-server the harness starts; this run uses a Redis given with --redis-url, which it will not pause, kill or flush' })
      active.delete(plan.id)
      continue
    }
    emit({ type: 'round-started', cell: plan.id, round, slot, prepare: !rt })
    try {
      if (!rt) {
        const verifyAs: CellPlan = { ...plan, workload: w.path === '/profile' ? 'GET /profile' : 'GET /me' }
        rt = await prepareCell(verifyAs, { ...ctx.prepare(plan), poolSize: 1 })
        runtimes.set(plan.id, rt)
        emit({ type: 'cell-prepared', cell: plan.id, credential: rt.credential, revocationProbe: rt.revocationProbe, storeRtt: rt.storeRtt })
      }
      const measurement = await measureLifecycle(rt, plan, w, round, opts.smoke, opts.signal, faults && { faults: scenario.faults!, store: faults })
      if (opts.signal.aborted) return
      emit({ type: 'lifecycle-measured', cell: plan.id, round, measurement })
    } catch (err) {
      if (opts.signal.aborted) return
      emit({ type: 'cell-invalid', cell: plan.id, round, status: err instanceof VerificationError ? 'invalid' : 'failed', reason: (err as Error).message })
      active.delete(plan.id)
    }
    if (round === scenario.load.rounds || !active.has(plan.id)) await retire(plan.id, runtimes, emit)
  }
}

/**
 * One round: the cells in a shuffled order, each between two baseline windows (B X B Y B ...);
 * a cell whose two brackets disagree is measured again with a fresh bracket, a bounded number of times.
 */
async function runRound(round: number, plans: CellPlan[], baseline: CellPlan, random: () => number, ctx: TurnContext): Promise<void> {
  const { opts, emit, active } = ctx
  const order = shuffled(plans.filter((p) => p.id !== baseline.id && active.has(p.id)), random)
  emit({ type: 'round-order', round, order: order.map((p) => p.id) })
  let slot = 0
  const live = () => !opts.signal.aborted
  let left = active.has(baseline.id) ? await cellWindow(baseline, round, slot++, ctx) : null
  for (const plan of order) {
    for (let repeats = 0; live() && active.has(plan.id); repeats++) {
      const measured = await cellWindow(plan, round, slot++, ctx)
      if (!measured || !left || !live()) break
      const right = await cellWindow(baseline, round, slot++, ctx)
      if (!right) { left = null; break }
      const spread = bracketSpread(left.cpuUsPerRequest, right.cpuUsPerRequest)
      left = right
      const reason = repeatReason(spread)
      if (!reason || repeats >= MAX_REPEATS) break
      emit({ type: 'window-repeated', cell: plan.id, round, slot: slot - 2, spread, reason })
    }
    if (!live()) return
  }
}

/**
 * Runs every cell of a scenario, rounds interleaved, telling listeners as it goes, and reduces
 * what it recorded into the results (never throws for a cell).
 */
export async function runScenario(opts: RunOptions): Promise<ResultsFile> {
  const scenario = opts.smoke ? smokeScenario(opts.scenario) : opts.scenario
  const { cells: plans, baseline } = expandPlan(scenario, opts.file)
  const startedAt = new Date().toISOString()
  const environment = describeEnvironment()
  const events: RunEvent[] = []
  const emit = (e: RunEvent) => {
    events.push(e)
    for (const l of opts.listeners) l(e)
  }
  const affinity = opts.pin === false ? null : planAffinity()
  if (affinity) pinSelf(affinity.client)
  const seed = opts.seed ?? randomInt(2 ** 31)
  emit({ type: 'run-started', scenario, cells: plans, baseline: baseline.id, affinity, seed })

  const active = new Set(plans.map((p) => p.id))
  const runtimes = new Map<string, CellRuntime>()
  let stores = new Map<StoreKind, ProvisionedStore>()
  let template: { path: string; remove(): void } | null = null
  try {
    stores = await provisionStores(plans, opts, affinity?.client ?? null, emit, active)
    template = await seedTemplate(scenario.workload.users)
    const usersTemplate = template.path
    const ctx: TurnContext = {
      opts, scenario, emit, runtimes, active,
      prepare: (plan) => ({
        group: opts.group, store: plan.store ? stores.get(plan.store)! : null, serverCpus: affinity?.server ?? null, clientCpus: affinity?.client ?? null,
        serverCpuCount: affinity ? cpuCount(affinity.server) : cpus().length,
        usersTemplate, users: scenario.workload.users, windowSeconds: scenario.load.durationSeconds,
      }),
    }
    const random = seededRandom(seed)
    for (let round = 1; round <= scenario.load.rounds && !opts.signal.aborted; round++) {
      if (scenario.workload.route === 'lifecycle') await runLifecycleRound(round, plans, random, ctx)
      else if (scenario.load.mode === 'open') await runOpenRound(round, plans, random, ctx)
      else await runRound(round, plans, baseline, random, ctx)
    }
  } finally {
    await Promise.all([...runtimes.keys()].map((id) => retire(id, runtimes, emit)))
    await Promise.all([...stores.values()].map((s) => s.stop()))
    template?.remove()
  }

  let microResults: MicroResults | null = null
  if (scenario.micro && !opts.signal.aborted) {
    emit({ type: 'micro-started' })
    microResults = await micro(opts)
  }
  emit({ type: 'run-finished', interrupted: opts.signal.aborted })
  return reduceRun({
    scenario, file: opts.file, smoke: opts.smoke, plans, baseline: baseline.id, events, seed,
    environment: { ...environment, cpuAffinity: affinity }, startedAt, finishedAt: new Date().toISOString(), micro: microResults,
  })
}
