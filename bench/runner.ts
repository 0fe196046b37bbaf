import { existsSync } from 'node:fs'
import type { ProcessGroup } from './processes.ts'
import { join } from 'node:path'
import { TargetError } from './contracts/errors.ts'
import { openDatabase } from '../servers/db.ts'
import type { StoreKind } from '../servers/types.ts'
import { DEFAULT_HASH_COST, saveUsersCache, seedUsers, usersCachePath } from '../servers/users.ts'
import { randomInt } from 'node:crypto'
import { cpus } from 'node:os'
import { cpuCount, pinSelf, planAffinity } from './affinity.ts'
import { describeEnvironment } from './environment.ts'
import { runMicro } from './micro/run.ts'
import { countRun } from './instructions.ts'
import { expandPlan } from './plan.ts'
import { reduceRun } from './reduce.ts'
import { unresolvedComparisons } from './report/closed-findings.ts'
import { arrangeFleet, type Arranged } from './fleet/arrange.ts'
import { balancerProcesses } from './fleet/balancer-processes.ts'
import { balancerOf } from './fleet/balancers.ts'
import { topologies } from './fleet/topologies.ts'
import { matchTargets, type Fleet } from './remote/fleet.ts'
import type { RemoteInstance } from './remote/instance.ts'
import { SMOKE_STORE_TIMEOUT_MS, SMOKE_WINDOW_SECONDS } from './server-defaults.ts'
import { BALANCER_FLOOR_SECONDS } from './fleet/balancer-floor.ts'
import { seededRandom } from './stats.ts'
import { storeProvisioners, type ProvisionedStore } from './stores/run/index.ts'
import { givenOrPrivate, unavailableReason } from './stores/run/provisioner.ts'
import type { CellRuntime } from './verify.ts'
import type { MicroResults, ResultsFile } from './contracts/results.ts'
import type { CellPlan } from './contracts/plan.ts'
import type { Scenario } from './contracts/scenario.ts'
import type { RunEvent, RunListener } from './contracts/events.ts'
import { workloadOf } from './workloads/index.ts'
import { retire, type RunOptions, type TurnContext } from './workloads/turn.ts'
import { type PreparedRuntime, prepareRuntime, runtimeRecord } from './runtimes.ts'

export type { RunOptions }

/** `--smoke`: windows of 0.3 s (an open-loop or lifecycle window one second), one round, a small credential pool; same output shape. */
function smokeScenario(s: Scenario): Scenario {
  return workloadOf(s).smoke(
    {
      ...s,
      workload: { ...s.workload, users: Math.min(s.workload.users, 50) },
      load: {
        ...s.load,
        durationSeconds: SMOKE_WINDOW_SECONDS,
        warmupSeconds: 0,
        rounds: 1,
        connections: Math.min(s.load.connections, 20),
      },
    },
    s,
  )
}

/** Seeds the users once (or takes the servers' cached copy) into a SQLite file that every cell then copies. */
async function seedTemplate(users: number, group: ProcessGroup): Promise<{ path: string; remove(): void }> {
  const dir = group.tempDir('authbench-users-')
  const cache = usersCachePath(users, DEFAULT_HASH_COST)
  const db = openDatabase(join(dir, 'users.sqlite'), existsSync(cache) ? cache : undefined)
  try {
    if ((await seedUsers(db.db, users, DEFAULT_HASH_COST)) === users) saveUsersCache(db.db, cache)
    db.db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
  return { path: join(dir, 'users.sqlite'), remove: () => group.removeDir(dir) }
}

/**
 * The quick micro-benchmarks, on stores of their own (smoke runs keep the shape with tiny budgets).
 * A store that cannot be started here skips its tasks with the reason its cells give, never the run.
 */
async function micro(opts: RunOptions): Promise<MicroResults> {
  const stops: (() => Promise<void>)[] = []
  const urls: Partial<Record<StoreKind, string>> = {}
  const unavailable: Partial<Record<StoreKind, string>> = {}
  try {
    // Each store whose tasks need one: the user's, or one started for them; where it cannot be had, its tasks are skipped with the reason.
    for (const p of Object.values(storeProvisioners)) {
      if (!p.micro || !p.address) continue
      try {
        const s = await givenOrPrivate(p.address, opts.storeUrls[p.kind] ?? null, opts.group)
        stops.push(() => s.stop())
        urls[p.kind] = s.url
      } catch (err) {
        unavailable[p.kind] = unavailableReason(p.kind, err)
      }
    }
    return await runMicro({
      quick: true,
      urls,
      unavailable,
      signal: opts.signal,
      ...(opts.smoke ? { timeMs: 20, sessions: 1_000 } : {}),
    })
  } finally {
    for (const stop of stops) await stop()
  }
}

/** Makes ready every store the plan needs; cells whose store cannot be had are skipped with the reason. */
async function provisionStores(
  plans: CellPlan[],
  opts: RunOptions,
  cpus: string | null,
  emit: RunListener,
  active: Set<string>,
  hostedCpu: Arranged['hostedCpu'] = {},
): Promise<Map<StoreKind, ProvisionedStore>> {
  const stores = new Map<StoreKind, ProvisionedStore>()
  for (const kind of new Set(plans.flatMap((p) => (p.store ? [p.store] : [])))) {
    // Remote mode reads the store the fleet file names and starts none: a kind it does not name is not read.
    if (opts.targets && !opts.storeUrls[kind]) continue
    try {
      const store = await storeProvisioners[kind].provision({ cpus, group: opts.group, urls: opts.storeUrls, hostedCpu })
      stores.set(kind, store)
      emit({ type: 'store-ready', store: kind, description: store.description, settings: store.settings ?? null })
    } catch (err) {
      const reason = unavailableReason(kind, err)
      for (const p of plans.filter((x) => x.store === kind)) {
        active.delete(p.id)
        emit({ type: 'cell-skipped', cell: p.id, reason })
      }
    }
  }
  return stores
}

/** Makes ready the Node each active cell's servers run on; cells whose runtime cannot be had are skipped with the reason. */
async function prepareRuntimes(
  plans: CellPlan[],
  group: ProcessGroup,
  emit: RunListener,
  active: Set<string>,
): Promise<Map<string, PreparedRuntime>> {
  const ready = new Map<string, PreparedRuntime>()
  const used = plans.filter((p) => active.has(p.id))
  for (const kind of new Set(used.map((p) => p.runtime ?? null))) {
    try {
      ready.set(kind ?? '', await prepareRuntime(kind, group, (message) => emit({ type: 'notice', message })))
    } catch (err) {
      for (const p of used.filter((x) => (x.runtime ?? null) === kind)) {
        active.delete(p.id)
        emit({ type: 'cell-skipped', cell: p.id, reason: (err as Error).message })
      }
    }
  }
  return ready
}

/** Each binary the cells' servers ran on, once (a cell asking for the harness's own major and one asking for none share it). */
function runtimeRecords(ready: PreparedRuntime[], startedAt: string) {
  const day = startedAt.slice(0, 10)
  return [...new Map(ready.map((r) => [r.binary, runtimeRecord(r, day)])).values()]
}

/** Remote mode: every target answering with the metrics it needs, matched to the cells, before anything runs. */
async function connectTargets(fleet: Fleet, plans: CellPlan[], scenario: Scenario): Promise<Map<string, RemoteInstance[]>> {
  if (scenario.faults?.length)
    throw new TargetError(
      'faults act on a store the harness started; remote mode starts and stops nothing (remove "faults" or run without --targets)',
    )
  if (topologies[scenario.topology].placesProcesses)
    throw new TargetError(
      'a namespace topology places processes the harness starts; remote mode starts none (remove "topology" or run without --targets)',
    )
  return matchTargets(fleet, plans)
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
  emit({ type: 'run-started', scenario, cells: plans, baseline: baseline.id, affinity, seed, smoke: opts.smoke })

  const remote = opts.targets ? await connectTargets(opts.targets, plans, scenario) : null
  const active = new Set(plans.map((p) => p.id))
  const runtimes = new Map<string, CellRuntime>()
  let stores = new Map<StoreKind, ProvisionedStore>()
  let template: { path: string; remove(): void } | null = null
  let fleet: Arranged | null = null
  let runtimeOf = new Map<string, PreparedRuntime>()
  try {
    fleet = await arrangeFleet({
      scenario,
      plans,
      active,
      storeUrls: opts.storeUrls,
      group: opts.group,
      clientCpus: affinity?.client ?? null,
      emit,
      targets: opts.targets ?? null,
    })
    const runOpts: RunOptions = {
      ...opts,
      storeUrls: fleet.storeUrls,
      ...(fleet.driver ? { driver: fleet.driver } : {}),
      ...(fleet.openDriver ? { openDriver: fleet.openDriver } : {}),
    }
    stores = await provisionStores(plans, runOpts, affinity?.client ?? null, emit, active, fleet.hostedCpu)
    // A cell whose balancer's process cannot start here is skipped with the fix, as a store's is.
    for (const kind of new Set(plans.filter((p) => active.has(p.id)).map((p) => balancerOf(p).kind))) {
      const reason = balancerProcesses[kind]?.unavailable()
      if (!reason) continue
      for (const p of plans.filter((x) => balancerOf(x).kind === kind && active.has(x.id))) {
        active.delete(p.id)
        emit({ type: 'cell-skipped', cell: p.id, reason })
      }
    }
    // Remote mode starts no server: the runtimes its servers run on are the fleet's.
    if (!remote) runtimeOf = await prepareRuntimes(plans, opts.group, emit, active)
    template = await seedTemplate(scenario.workload.users, opts.group)
    const usersTemplate = template.path
    const placement = fleet.placement
    const topology = topologies[fleet.record().kind]
    const ctx: TurnContext = {
      opts: runOpts,
      scenario,
      emit,
      runtimes,
      active,
      plans,
      baseline,
      random: seededRandom(seed),
      prepare: (plan) => ({
        group: opts.group,
        store: plan.store ? stores.get(plan.store)! : null,
        serverCpus: affinity?.server ?? null,
        clientCpus: affinity?.client ?? null,
        serverCpuCount: topology.serverCpus(affinity ? cpuCount(affinity.server) : cpus().length) ?? plan.instances,
        remote: remote?.get(plan.id) ?? null,
        placement,
        ...(runtimeOf.has(plan.runtime ?? '') ? { runtime: runtimeOf.get(plan.runtime ?? '')! } : {}),
        // A smoke run checks the output's shape: its cells skip the traced instance that cross-checks the counts.
        crossCheck: !opts.smoke,
        storeTimeoutMs: opts.smoke ? SMOKE_STORE_TIMEOUT_MS : null,
        usersTemplate,
        users: scenario.workload.users,
        windowSeconds: scenario.load.durationSeconds,
      }),
    }
    const workload = workloadOf(scenario)
    for (let round = 1; round <= scenario.load.rounds && !opts.signal.aborted; round++) await workload.runRound(round, ctx)
    // Adaptive rounds: at each planned look, the comparisons still unresolved get more rounds (their cells only).
    const planned = scenario.load.moreRounds ?? []
    if (planned.length && workload.kind === 'closed' && !opts.smoke) {
      const record = () => ({
        scenario,
        file: opts.file,
        smoke: opts.smoke,
        plans,
        baseline: baseline.id,
        events,
        seed,
        environment,
        startedAt,
        finishedAt: new Date().toISOString(),
        micro: null,
      })
      const capMs = (scenario.load.moreRoundsSeconds ?? 120) * 1000
      const began = Date.now()
      let round = scenario.load.rounds
      for (const next of [...planned, null]) {
        const open = unresolvedComparisons(reduceRun(record()))
        const stopped = opts.signal.aborted
          ? 'interrupted'
          : open.comparisons.length === 0
            ? 'decided'
            : next === null
              ? 'last-look'
              : Date.now() - began >= capMs
                ? 'time-cap'
                : null
        emit({ type: 'look', rounds: round, unresolved: open.comparisons, alpha: 0.05 / (1 + planned.length), planned, stopped })
        if (stopped || next === null) break
        ctx.only = new Set(open.cells)
        for (round++; round <= next && !opts.signal.aborted && Date.now() - began < capMs; round++) await workload.runRound(round, ctx)
        round = Math.min(round - 1, next)
      }
      ctx.only = null
    }
    // Each balancer the cells ran behind, measured once on its own before a server that answers at once: its floor, read
    // beside the fleet's capacity (closed or open loop; a lifecycle run's requests are of many kinds, its fleet not compared).
    if (!remote && workload.kind !== 'lifecycle')
      for (const kind of new Set(plans.filter((p) => active.has(p.id)).map((p) => balancerOf(p).kind))) {
        const proc = balancerProcesses[kind]
        if (!proc || opts.signal.aborted) continue
        emit({ type: 'notice', message: `measuring the balancer's own floor (${kind} before a server that answers at once)` })
        await proc
          .floor({
            group: opts.group,
            balancerCpus: affinity?.client ?? null,
            serverCpus: affinity?.server ?? null,
            durationSeconds: opts.smoke ? SMOKE_WINDOW_SECONDS : BALANCER_FLOOR_SECONDS,
            smoke: opts.smoke,
            signal: opts.signal,
            emit,
          })
          .catch((err: Error) => emit({ type: 'notice', message: `the balancer's floor was not measured: ${err.message}` }))
      }
    // Counted after the rounds, each cell on a server of its own: valgrind's load would weigh on every window's CPU.
    if (scenario.measure.instructions && remote)
      emit({
        type: 'notice',
        message: "instructions are not counted in remote mode: the servers are not the harness's to start under valgrind",
      })
    if (scenario.measure.instructions && !remote && !opts.signal.aborted)
      await countRun({
        plans,
        active,
        storeArgs: (plan) => (plan.store ? stores.get(plan.store)!.serverArgs : []),
        runtimeOf: (plan) => runtimeOf.get(plan.runtime ?? ''),
        group: opts.group,
        usersTemplate,
        users: scenario.workload.users,
        smoke: opts.smoke,
        signal: opts.signal,
        emit,
      })
  } finally {
    await Promise.all([...runtimes.keys()].map((id) => retire(id, runtimes, emit)))
    await Promise.all([...stores.values()].map((s) => s.stop()))
    template?.remove()
    await fleet?.close()
  }

  let microResults: MicroResults | null = null
  if (scenario.micro && !opts.signal.aborted) {
    emit({ type: 'micro-started' })
    microResults = await micro(opts)
  }
  emit({ type: 'run-finished', interrupted: opts.signal.aborted })
  return reduceRun({
    scenario,
    file: opts.file,
    smoke: opts.smoke,
    plans,
    baseline: baseline.id,
    events,
    seed,
    environment: {
      ...environment,
      cpuAffinity: affinity,
      ...(fleet ? { topology: fleet.record() } : {}),
      ...(runtimeOf.size ? { runtimes: runtimeRecords([...runtimeOf.values()], startedAt) } : {}),
    },
    startedAt,
    finishedAt: new Date().toISOString(),
    micro: microResults,
  })
}
