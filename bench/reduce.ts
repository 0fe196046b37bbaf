import { floorPoints } from './workloads/floor.ts'
import { expected401Share, expectedOps } from './expected.ts'
import { percent } from './format.ts'
import { workloadOf } from './workloads/index.ts'
import { BRACKET_TOLERANCE, MAX_REPEATS } from './noise.ts'
import { median } from './stats.ts'
import {
  type CellResult,
  type Environment,
  type MicroResults,
  type NoiseControl,
  type ResultsFile,
  type RoundResult,
  SCHEMA_VERSION,
  type SessionLibraryRecord,
  type StoreRtt,
} from './contracts/results.ts'
import { libraryConfig } from '../common/session-libraries.ts'
import { SERVER_DEFAULTS } from './server-defaults.ts'
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
 * Sessions logged in together renew their idle timeout together, a minute later: a burst of
 * writes inside whichever window holds that minute. Said, so nobody mistakes it for steady cost.
 */
function renewalBursts(plan: CellPlan, rounds: RoundResult[]): string | null {
  if (!expectedOps(plan).renewals) return null
  const bursts = rounds
    .map((r) => ({ round: r.round, writes: Math.round(r.storeOpsPerRequest.writes * r.requests) }))
    .filter((b) => b.writes > 0)
  if (bursts.length === 0) return null
  return (
    `session renewals: ${bursts.map((b) => `${b.writes} writes in round ${b.round}`).join(', ')} (sessions logged in ` +
    `together renew their idle timeout together, once a minute; steady GET traffic writes nothing else)`
  )
}

function reduceCell(plan: CellPlan, record: RunRecord, baseWindows: Measured[], interrupted: boolean): CellResult {
  const mine = record.events.filter((e) => 'cell' in e && e.cell === plan.id)
  const prepared = mine.find((e) => e.type === 'cell-prepared')
  const ended = mine.find((e) => e.type === 'cell-invalid' || e.type === 'cell-skipped')
  const figures = workloadOf(record.scenario).reduce({
    plan,
    scenario: record.scenario,
    isBaseline: plan.id === record.baseline,
    events: mine,
    baseWindows,
  })
  const { rounds, summary } = figures
  const counted = mine.find((e) => e.type === 'instructions-counted')
  const instructionsFailed = mine.find((e) => e.type === 'instructions-failed')
  const share401 = expected401Share(plan)
  const roundsMeasured = new Set(
    mine.flatMap((e) => (e.type === 'round-measured' || e.type === 'open-measured' || e.type === 'lifecycle-measured' ? [e.round] : [])),
  ).size
  let status: CellResult['status'] = 'ok'
  let reason: string | null = null
  if (ended?.type === 'cell-invalid') [status, reason] = [ended.status, ended.reason]
  else if (ended?.type === 'cell-skipped') [status, reason] = ['skipped', ended.reason]
  else if (interrupted && roundsMeasured < record.scenario.load.rounds) {
    ;[status, reason] = ['skipped', `interrupted after ${roundsMeasured} of ${record.scenario.load.rounds} rounds`]
  }
  const notes = [
    share401 > 0 && summary
      ? `${percent(summary.status401Share)} of requests got 401: a credential issued by one instance is unknown to the others ` +
        `(per-process store, ${plan.instances} instances)`
      : null,
    renewalBursts(plan, rounds),
    instructionsFailed ? `instructions not counted: ${instructionsFailed.reason}` : null,
  ].filter((n): n is string => n !== null)
  return {
    ...plan,
    status,
    reason,
    note: notes.length ? notes.join('; ') : null,
    expected: { ops: expectedOps(plan), status401Share: share401 },
    credential: prepared?.credential ?? null,
    library: libraryRecord(plan),
    revocationProbe: prepared?.revocationProbe ?? null,
    ...figures,
    summary: summary && record.scenario.measure?.instructions ? { ...summary, instructionsPerRequest: counted?.count ?? null } : summary,
    storeRtt: storeRttOf(
      prepared?.type === 'cell-prepared' ? prepared.storeRtt : null,
      mine.find((e) => e.type === 'proxy-measured') ?? null,
    ),
  }
}

/** A library session's settings as its servers ran them: the same table the servers build their options from. */
function libraryRecord(plan: CellPlan): SessionLibraryRecord | null {
  if (!plan.sessionLibrary) return null
  const {
    sessionOptions: _s,
    adapterOptions: _a,
    ...record
  } = libraryConfig(plan.sessionLibrary, plan.preset!, plan.store!, SERVER_DEFAULTS.sessionIdleTtlSeconds)
  return record
}

function storeRttOf(rtt: StoreRtt | null, proxy: RunEvent | null): CellResult['storeRtt'] {
  if (!rtt) return null
  const p = proxy?.type === 'proxy-measured' ? proxy : null
  return { ...rtt, proxyCpuUsPerChunk: p && p.forwarded > 0 ? p.cpuUs / p.forwarded : null }
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
      name: scenario.name,
      description: scenario.description,
      file: record.file,
      workload: scenario.workload,
      load: scenario.load,
      baseline: record.baseline,
      faults: scenario.faults ?? null,
      simulate: scenario.simulate,
    },
    smoke: record.smoke,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    environment: {
      ...record.environment,
      stores: record.events.flatMap((e) =>
        e.type === 'store-ready' ? [{ kind: e.store, description: e.description, settings: e.settings }] : [],
      ),
    },
    interrupted,
    noiseControl: {
      method: baseWindows.length > 0 && workloadOf(scenario).bracketed ? 'bracketed' : 'none',
      seed: record.seed,
      bracketTolerance: BRACKET_TOLERANCE,
      maxRepeats: MAX_REPEATS,
      repeats: record.events.filter((e) => e.type === 'window-repeated').length,
      bracketSpread: spreads.length ? { median: median(spreads), max: Math.max(...spreads) } : null,
      orders: record.events.flatMap((e) => (e.type === 'round-order' ? [e.order] : [])),
      ...looksOf(record.events),
    },
    cells,
    ...(record.events.some((e) => e.type === 'floor-measured') ? { driverFloor: floorPoints(record.events) } : {}),
    ...(record.events.some((e) => e.type === 'balancer-floor-measured')
      ? { balancerFloor: record.events.flatMap((e) => (e.type === 'balancer-floor-measured' ? [e.measurement] : [])) }
      : {}),
    micro: record.micro,
  }
}

/** Adaptive rounds as they went: each look's unresolved comparisons, and why the run stopped adding rounds. */
function looksOf(events: RunEvent[]): { looks?: NonNullable<NoiseControl['looks']> } {
  const looks = events.flatMap((e) => (e.type === 'look' ? [e] : []))
  const last = looks[looks.length - 1]
  if (!last) return {}
  return {
    looks: {
      planned: last.planned,
      alpha: last.alpha,
      taken: looks.map((l) => ({ rounds: l.rounds, unresolved: l.unresolved })),
      stopped: last.stopped ?? 'interrupted',
    },
  }
}
