import { expected401Share, expectedOps } from './expected.ts'
import { percent } from './format.ts'
import { faultsApply, recoveryOf } from './faults.ts'
import { expectedLagMedianMs, expectedRefreshes, lifecycleWorkload, refreshIntervalSeconds, type LifecycleWorkload } from './lifecycle.ts'
import { BRACKET_TOLERANCE, bracketSpread, MAX_REPEATS } from './noise.ts'
import { median, ratio } from './stats.ts'
import { summarizeRounds } from './summarize.ts'
import { type CellResult, type Environment, type LifecycleMeasurement, type LifecycleSummary, type MicroResults, type OpenLoopPoint, type OpenMeasurement, type ResultsFile, type RoundResult, SCHEMA_VERSION, type StoreRtt } from './contracts/results.ts'
import type { CellPlan } from './contracts/plan.ts'
import type { RunEvent } from './contracts/events.ts'
import type { Scenario } from './contracts/scenario.ts'

/** Everything a run recorded, as recorded: the reducer's only input. */
export interface RunRecord {
  scenario: Scenario
  file: string
  smoke: boolean
  plans: CellPlan[]
  baseline: string
  events: RunEvent[]
  /** Seed of the per-round shuffle of the cell order. */
  seed: number
  environment: Environment
  startedAt: string
  finishedAt: string
  micro: MicroResults | null
}

type Measured = Extract<RunEvent, { type: 'round-measured' }>

/**
 * The rounds of a cell as reported: for the baseline every one of its windows (ratio 1); for any
 * other cell its last window of each round (earlier ones were measured again because their
 * brackets disagreed), with its ratios to the mean of the valid baseline windows just before and
 * after it. A ratio is never taken against a baseline window that was not a valid measurement.
 */
function withRatios(plan: CellPlan, mine: Measured[], baseWindows: Measured[], repeated: (round: number) => number, isBaseline: boolean): RoundResult[] {
  if (isBaseline) {
    return mine.map(({ measurement: m, problem }) => ({ ...m, ratioToBaseline: problem === null ? { rps: 1, cpu: 1 } : null, bracket: null }))
  }
  const last = new Map<number, Measured>()
  for (const w of mine) last.set(w.round, w)
  const bracketOf = (round: number, slot: number) => {
    const at = (s: number) => baseWindows.find((b) => b.round === round && b.slot === s && b.problem === null)?.measurement
    const before = at(slot - 1)
    const after = at(slot + 1)
    return before && after ? { before, after, mean: (k: 'rps' | 'cpuUsPerRequest') => (before[k] + after[k]) / 2 } : null
  }
  return [...last.values()].map(({ measurement: m, round, slot }) => {
    const repeatedWindows = mine.filter((w) => w.round === round && w.slot < slot).map((w) => {
      const b = bracketOf(round, w.slot)
      return {
        slot: w.slot, cpuUsPerRequest: w.measurement.cpuUsPerRequest, rps: w.measurement.rps,
        ratioCpu: b ? ratio(w.measurement.cpuUsPerRequest, b.mean('cpuUsPerRequest')) : null,
        bracketSpread: b ? bracketSpread(b.before.cpuUsPerRequest, b.after.cpuUsPerRequest) : null,
      }
    })
    const b = bracketOf(round, slot)
    if (!b) return { ...m, ratioToBaseline: null, bracket: null, repeatedWindows }
    return {
      ...m,
      ratioToBaseline: { rps: ratio(m.rps, b.mean('rps')), cpu: ratio(m.cpuUsPerRequest, b.mean('cpuUsPerRequest')) },
      bracket: { beforeCpuUs: b.before.cpuUsPerRequest, afterCpuUs: b.after.cpuUsPerRequest, spread: bracketSpread(b.before.cpuUsPerRequest, b.after.cpuUsPerRequest), repeats: repeated(round) },
      repeatedWindows,
    }
  })
}

/**
 * Sessions logged in together renew their idle timeout together, a minute later: a burst of
 * writes inside whichever window holds that minute. Said, so nobody mistakes it for steady cost.
 */
function renewalBursts(plan: CellPlan, rounds: RoundResult[]): string | null {
  if (!expectedOps(plan).renewals) return null
  const bursts = rounds.map((r) => ({ round: r.round, writes: Math.round(r.storeOpsPerRequest.writes * r.requests) })).filter((b) => b.writes > 0)
  if (bursts.length === 0) return null
  return `session renewals: ${bursts.map((b) => `${b.writes} writes in round ${b.round}`).join(', ')} (sessions logged in together renew their idle timeout together, once a minute; steady GET traffic writes nothing else)`
}

function reduceCell(plan: CellPlan, record: RunRecord, baseWindows: Measured[], interrupted: boolean): CellResult {
  const mine = record.events.filter((e) => 'cell' in e && e.cell === plan.id)
  const lived = mine.filter((e): e is LifecycleMeasured => e.type === 'lifecycle-measured').map((e) => e.measurement)
  const prepared = mine.find((e) => e.type === 'cell-prepared')
  const ended = mine.find((e) => e.type === 'cell-invalid' || e.type === 'cell-skipped')
  const repeated = (round: number) => mine.filter((e) => e.type === 'window-repeated' && e.round === round).length
  const rounds = withRatios(plan, mine.filter((e): e is Measured => e.type === 'round-measured'), baseWindows, repeated, plan.id === record.baseline)
  const summary = summarizeRounds(rounds)
  const share401 = expected401Share(plan)
  let status: CellResult['status'] = 'ok'
  let reason: string | null = null
  if (ended?.type === 'cell-invalid') [status, reason] = [ended.status, ended.reason]
  else if (ended?.type === 'cell-skipped') [status, reason] = ['skipped', ended.reason]
  else if (interrupted && new Set(rounds.map((r) => r.round)).size < record.scenario.load.rounds) {
    [status, reason] = ['skipped', `interrupted after ${new Set(rounds.map((r) => r.round)).size} of ${record.scenario.load.rounds} rounds`]
  }
  const notes = [
    share401 > 0 && summary
      ? `${percent(summary.status401Share)} of requests got 401: a credential issued by one instance is unknown to the others (per-process store, ${plan.instances} instances)`
      : null,
    renewalBursts(plan, rounds),
  ].filter((n): n is string => n !== null)
  return {
    ...plan, status, reason,
    note: notes.length ? notes.join('; ') : null,
    expected: { ops: expectedOps(plan), status401Share: share401 },
    credential: prepared?.credential ?? null,
    revocationProbe: prepared?.revocationProbe ?? null,
    rounds,
    summary,
    openLoop: record.scenario.load.mode === 'open' ? openLoopPoints(mine.filter((e): e is OpenMeasured => e.type === 'open-measured')) : null,
    lifecycle: record.scenario.workload.route === 'lifecycle'
      ? lifecycleSummary(plan, lifecycleWorkload(record.scenario.workload), lived)
      : null,
    ...faultFigures(plan, record.scenario, lived[0] ?? null),
    storeRtt: storeRttOf(prepared?.type === 'cell-prepared' ? prepared.storeRtt : null, mine.find((e) => e.type === 'proxy-measured') ?? null),
  }
}

function storeRttOf(rtt: StoreRtt | null, proxy: RunEvent | null): CellResult['storeRtt'] {
  if (!rtt) return null
  const p = proxy?.type === 'proxy-measured' ? proxy : null
  return { ...rtt, proxyCpuUsPerChunk: p && p.forwarded > 0 ? p.cpuUs / p.forwarded : null }
}

/** The timeline and recovery of a cell whose store took the scenario's faults (its first window). */
function faultFigures(plan: CellPlan, scenario: Scenario, m: LifecycleMeasurement | null): Pick<CellResult, 'timeline' | 'recovery'> {
  if (!scenario.faults || !m || !faultsApply(plan)) return { timeline: null, recovery: null }
  const timeline = m.timeline.map(({ tMs, requests, ok, status401, status503, status5xx, errors, latencyUsP50, latencyUsP99, logins, forcedLogins }) =>
    ({ tMs, requests, ok, status401, status503, status5xx, errors, latencyUsP50, latencyUsP99, logins, forcedLogins }))
  return { timeline, recovery: recoveryOf(timeline, scenario.faults, m.usersForcedToLogIn) }
}

type LifecycleMeasured = Extract<RunEvent, { type: 'lifecycle-measured' }>

/** Counts summed over the rounds, rates over their total measured time, lags over every sample, latencies the median of the rounds'. */
export function lifecycleSummary(plan: CellPlan, w: LifecycleWorkload, ms: LifecycleMeasurement[]): LifecycleSummary | null {
  if (ms.length === 0) return null
  const total = (pick: (m: LifecycleMeasurement) => number) => ms.reduce((n, m) => n + pick(m), 0)
  const seconds = total((m) => m.durationSeconds)
  const served = total((m) => m.served)
  const ops = { reads: total((m) => m.storeOps.reads), writes: total((m) => m.storeOps.writes), deletes: total((m) => m.storeOps.deletes) }
  const lags = ms.flatMap((m) => m.lagSamplesMs).sort((a, b) => a - b)
  const at = (p: number) => (lags.length ? lags[Math.min(lags.length - 1, Math.max(0, Math.ceil((p / 100) * lags.length) - 1))]! : null)
  const by = { invalidGrant: total((m) => m.refreshFailures.invalidGrant), invalidGrantAfterUnavailable: total((m) => m.refreshFailures.invalidGrantAfterUnavailable), unavailable: total((m) => m.refreshFailures.unavailable), errors: total((m) => m.refreshFailures.errors) }
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
    storeOpsPerRequest: { reads: served ? ops.reads / served : 0, writes: served ? ops.writes / served : 0, deletes: served ? ops.deletes / served : 0 },
    cpuUsPerRequest: served ? total((m) => m.cpuUsPerRequest * m.served) / served : 0,
    revocationLagMs: {
      p50: at(50), p99: at(99), max: lags.length ? lags[lags.length - 1]! : null, samples: lags.length,
      censored: total((m) => m.revocationLagMs.censored), probeIntervalMs: ms[0]!.revocationLagMs.probeIntervalMs,
    },
    latencyUs: {
      requests: { p50: median(ms.map((m) => m.latencyUs.requests.p50)), p99: median(ms.map((m) => m.latencyUs.requests.p99)) },
      refreshes: refreshed ? { p50: median(ms.map((m) => m.latencyUs.refreshes.p50)), p99: median(ms.map((m) => m.latencyUs.refreshes.p99)) } : null,
    },
    refreshRate: { meanPerSecond: total((m) => m.refreshes) / seconds, peakPerSecond: Math.max(...ms.map((m) => m.refreshRate.peakPerSecond)) },
    duringPeak: {
      latencyUsP99: ms.some((m) => m.duringPeak.latencyUsP99 !== null) ? median(ms.flatMap((m) => (m.duringPeak.latencyUsP99 === null ? [] : [m.duringPeak.latencyUsP99]))) : null,
      otherLatencyUsP99: ms.some((m) => m.duringPeak.otherLatencyUsP99 !== null) ? median(ms.flatMap((m) => (m.duringPeak.otherLatencyUsP99 === null ? [] : [m.duringPeak.otherLatencyUsP99]))) : null,
    },
    expected: {
      refreshes: expectedPerRound === null ? null : expectedPerRound * ms.length,
      refreshesAtTtl: expectedRefreshes(plan, w) === null || ttl === null ? null : (w.users * w.durationSeconds * ms.length) / ttl,
      refreshIntervalSeconds: refreshIntervalSeconds(plan, w),
      lagMedianMs: expectedLagMedianMs(plan, w),
    },
    held: reasons.length === 0,
    reason: reasons.length ? reasons.join('; ') : null,
    rounds: ms,
  }
}

type OpenMeasured = Extract<RunEvent, { type: 'open-measured' }>

/** One point per rate (fixed rates, then capacity fractions), each figure the median over its rounds. */
function openLoopPoints(windows: OpenMeasured[]): OpenLoopPoint[] {
  const groups = new Map<string, OpenMeasurement[]>()
  for (const { measurement: m } of windows) {
    const key = m.fraction === null ? `rate:${m.rate}` : `fraction:${m.fraction}`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  return [...groups.values()].map((ms) => {
    const med = (pick: (m: OpenMeasurement) => number) => median(ms.map(pick))
    return {
      rate: med((m) => m.rate),
      fraction: ms[0]!.fraction,
      achievedRate: med((m) => m.achievedRate),
      latencyUs: {
        p50: med((m) => m.latencyUs.p50), p90: med((m) => m.latencyUs.p90), p99: med((m) => m.latencyUs.p99),
        p999: med((m) => m.latencyUs.p999), max: Math.max(...ms.map((m) => m.latencyUs.max)),
      },
      cpuUsPerRequest: med((m) => m.cpuUsPerRequest),
      serverBusyShare: med((m) => m.serverBusyShare),
      heldRounds: ms.filter((m) => m.held).length,
      rounds: ms,
    }
  }).sort((a, b) => Number(a.fraction !== null) - Number(b.fraction !== null) || a.rate - b.rate)
}

/** The results file, derived purely from what the run recorded. */
export function reduceRun(record: RunRecord): ResultsFile {
  const finished = record.events.find((e) => e.type === 'run-finished')
  const interrupted = finished?.interrupted ?? true
  const baseWindows = record.events.filter((e): e is Measured => e.type === 'round-measured' && e.cell === record.baseline)
  const { scenario } = record
  const cells = record.plans.map((p) => reduceCell(p, record, baseWindows, interrupted))
  const spreads = cells.flatMap((c) => c.rounds.flatMap((r) => (r.bracket ? [r.bracket.spread] : [])))
  return {
    schemaVersion: SCHEMA_VERSION,
    scenario: {
      name: scenario.name, description: scenario.description, file: record.file,
      workload: scenario.workload, load: scenario.load, baseline: record.baseline, faults: scenario.faults ?? null, simulate: scenario.simulate,
    },
    smoke: record.smoke,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    environment: record.environment,
    interrupted,
    noiseControl: {
      method: baseWindows.length > 0 && scenario.load.mode === 'closed' ? 'bracketed' : 'none',
      seed: record.seed,
      bracketTolerance: BRACKET_TOLERANCE,
      maxRepeats: MAX_REPEATS,
      repeats: record.events.filter((e) => e.type === 'window-repeated').length,
      bracketSpread: spreads.length ? { median: median(spreads), max: Math.max(...spreads) } : null,
      orders: record.events.flatMap((e) => (e.type === 'round-order' ? [e.order] : [])),
    },
    cells,
    micro: record.micro,
  }
}
