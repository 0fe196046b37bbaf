import type { Environment } from './environment.ts'
import { expected401Share, expectedOps } from './expected.ts'
import { percent } from './format.ts'
import type { MicroResults } from './micro/run.ts'
import type { CellPlan } from './plan.ts'
import { SCHEMA_VERSION, type CellResult, type ResultsFile, type RoundResult } from './results.ts'
import type { RunEvent } from './runner.ts'
import type { Scenario } from './scenario.ts'
import { ratio } from './stats.ts'
import { summarizeRounds } from './summarize.ts'

/** Everything a run recorded, as recorded: the reducer's only input. */
export interface RunRecord {
  scenario: Scenario
  file: string
  smoke: boolean
  plans: CellPlan[]
  baseline: string
  events: RunEvent[]
  environment: Environment
  startedAt: string
  finishedAt: string
  micro: MicroResults | null
}

type Measured = Extract<RunEvent, { type: 'round-measured' }>

/**
 * Each round's ratios to the baseline's round of the same number, taken only when that baseline
 * round was a valid measurement (null otherwise: a ratio to a broken window means nothing).
 */
function withRatios(rounds: Measured[], baseRounds: Measured[]): RoundResult[] {
  return rounds.map(({ measurement: m, round }) => {
    const base = baseRounds.find((b) => b.round === round && b.problem === null)?.measurement
    return { ...m, ratioToBaseline: base ? { rps: ratio(m.rps, base.rps), cpu: ratio(m.cpuUsPerRequest, base.cpuUsPerRequest) } : null }
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

function reduceCell(plan: CellPlan, record: RunRecord, baseRounds: Measured[], interrupted: boolean): CellResult {
  const mine = record.events.filter((e) => 'cell' in e && e.cell === plan.id)
  const prepared = mine.find((e) => e.type === 'cell-prepared')
  const ended = mine.find((e) => e.type === 'cell-invalid' || e.type === 'cell-skipped')
  const rounds = withRatios(mine.filter((e): e is Measured => e.type === 'round-measured'), baseRounds)
  const summary = summarizeRounds(rounds)
  const share401 = expected401Share(plan)
  let status: CellResult['status'] = 'ok'
  let reason: string | null = null
  if (ended?.type === 'cell-invalid') [status, reason] = [ended.status, ended.reason]
  else if (ended?.type === 'cell-skipped') [status, reason] = ['skipped', ended.reason]
  else if (interrupted && rounds.length < record.scenario.load.rounds) [status, reason] = ['skipped', `interrupted after ${rounds.length} of ${record.scenario.load.rounds} rounds`]
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
  }
}

/** The results file, derived purely from what the run recorded. */
export function reduceRun(record: RunRecord): ResultsFile {
  const finished = record.events.find((e) => e.type === 'run-finished')
  const interrupted = finished?.interrupted ?? true
  const baseRounds = record.events.filter((e): e is Measured => e.type === 'round-measured' && e.cell === record.baseline)
  const { scenario } = record
  return {
    schemaVersion: SCHEMA_VERSION,
    scenario: {
      name: scenario.name, description: scenario.description, file: record.file,
      workload: scenario.workload, load: scenario.load, baseline: record.baseline,
    },
    smoke: record.smoke,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    environment: record.environment,
    interrupted,
    cells: record.plans.map((p) => reduceCell(p, record, baseRounds, interrupted)),
    micro: record.micro,
  }
}
