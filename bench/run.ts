import { pinSelf, planAffinity, type CpuPlan } from './affinity.ts'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../servers/db.ts'
import { DEFAULT_HASH_COST, saveUsersCache, seedUsers, usersCachePath } from '../servers/users.ts'
import { checkRound, measureRound, prepareCell, VerificationError, type CellRuntime } from './cell.ts'
import { describeEnvironment } from './environment.ts'
import { expected401Share, expectedOps } from './expected.ts'
import { expandPlan } from './plan.ts'
import type { ProcessGroup } from './processes.ts'
import { formatDuration } from './progress.ts'
import { RedisUnavailableError, startRedis, type PrivateRedis } from './redis-server.ts'
import { SCHEMA_VERSION, type CellResult, type ResultsFile } from './results.ts'
import type { Scenario } from './scenario.ts'
import { ratio } from './stats.ts'
import { summarizeRounds } from './summarize.ts'

export interface RunOptions {
  scenario: Scenario
  file: string
  smoke: boolean
  /** An existing Redis to use; otherwise a private redis-server is started when a cell needs one. */
  redisUrl: string | null
  group: ProcessGroup
  signal: AbortSignal
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void
  /** Pin the harness (load generator, Redis) and the servers to separate CPUs. Default true. */
  pin?: boolean
  /** Runs the micro-benchmarks when the scenario asks for them. */
  micro?: () => Promise<unknown>
}

/** `--smoke`: every run about a second, one round, a small credential pool; same output shape. */
export function smokeScenario(s: Scenario): Scenario {
  return {
    ...s,
    workload: { ...s.workload, users: Math.min(s.workload.users, 50) },
    load: { ...s.load, durationSeconds: 1, warmupSeconds: 0, rounds: 1, connections: Math.min(s.load.connections, 20) },
  }
}

const PREPARE_SECONDS_ESTIMATE = 4

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

/** Runs every cell of a scenario, rounds interleaved, and returns the results (never throws for a cell). */
export async function runScenario(opts: RunOptions): Promise<ResultsFile> {
  const scenario = opts.smoke ? smokeScenario(opts.scenario) : opts.scenario
  const { cells: plans, baseline } = expandPlan(scenario, opts.file)
  const startedAt = new Date().toISOString()
  const environment = describeEnvironment()
  const { load } = scenario
  const affinity: CpuPlan | null = opts.pin === false ? null : planAffinity()
  if (affinity) {
    pinSelf(affinity.client)
    opts.log(`CPUs: load generator and Redis on ${affinity.client}, servers on ${affinity.server}`)
  } else {
    opts.log('CPUs: not pinned (one CPU, taskset missing, or --no-pin): CPU per request will be noisier')
  }

  const results: CellResult[] = plans.map((plan) => ({
    ...plan, status: 'ok', reason: null, note: null,
    expected: { ops: expectedOps(plan), status401Share: expected401Share(plan) },
    credential: null, revocationProbe: null, rounds: [], summary: null,
  }))
  const byId = new Map(results.map((r) => [r.id, r]))
  const runtimes = new Map<string, CellRuntime>()

  let redis: PrivateRedis | null = null
  let redisUrl = opts.redisUrl
  if (!redisUrl && plans.some((p) => p.store === 'redis')) {
    try {
      redis = await startRedis({ cpus: affinity?.client ?? null })
      opts.group.track(redis.process)
      redisUrl = redis.url
      opts.log(`started a private redis-server on ${redis.url}`)
    } catch (err) {
      const reason = err instanceof RedisUnavailableError
        ? err.message
        : `could not start redis-server: ${(err as Error).message}`
      for (const r of results) if (r.store === 'redis') Object.assign(r, { status: 'skipped', reason })
      opts.log(`Redis cells skipped: ${reason}`)
    }
  }

  const active = () => results.filter((r) => r.status === 'ok')
  const stepSeconds = load.durationSeconds + 0.6
  let remainingSteps = active().length * load.rounds
  let remainingPrepares = active().length
  const totalSteps = remainingSteps
  let step = 0
  const t0 = performance.now()
  const elapsed = () => formatDuration((performance.now() - t0) / 1000)
  const eta = () => formatDuration(remainingSteps * stepSeconds + remainingPrepares * (PREPARE_SECONDS_ESTIMATE + load.warmupSeconds))
  opts.log(`${scenario.name}: ${results.length} cells x ${load.rounds} rounds, ${load.durationSeconds}s each (+${load.warmupSeconds}s warm-up in round 1), about ${eta()}`)

  const template = await seedTemplate(scenario.workload.users)
  try {
    for (let round = 1; round <= load.rounds && !opts.signal.aborted; round++) {
      for (const cell of results) {
        if (opts.signal.aborted) break
        if (cell.status !== 'ok') continue
        step++
        let rt = runtimes.get(cell.id)
        try {
          if (!rt) {
            opts.log(`[${step}/${totalSteps}] ${cell.id}: starting ${cell.instances} server${cell.instances > 1 ? 's' : ''}, verifying, logging in ${cell.workload === 'POST /login' ? 0 : scenario.workload.users} users`)
            rt = await prepareCell(cell, scenario, { group: opts.group, redisUrl, serverCpus: affinity?.server ?? null, usersTemplate: template.path })
            remainingPrepares--
            runtimes.set(cell.id, rt)
            cell.credential = rt.credential
            cell.revocationProbe = rt.revocationProbe
          }
          const r = await measureRound(rt, round, load, opts.signal)
          if (opts.signal.aborted) break
          cell.rounds.push(r)
          remainingSteps--
          opts.log(`[${step}/${totalSteps}] round ${round}/${load.rounds} ${cell.id.padEnd(32)} ${Math.round(r.rps).toLocaleString('en-US').padStart(7)} req/s  ${r.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req  elapsed ${elapsed()}, ETA ${eta()}`)
          const problem = checkRound(r, rt.expected, rt.expected401Share, rt.renewalBound)
          if (problem) {
            Object.assign(cell, { status: 'invalid', reason: problem })
            remainingSteps -= load.rounds - round
            opts.log(`  ${cell.id} is invalid: ${problem}`)
          }
        } catch (err) {
          if (opts.signal.aborted) break
          const invalid = err instanceof VerificationError
          Object.assign(cell, { status: invalid ? 'invalid' : 'failed', reason: (err as Error).message })
          remainingSteps -= load.rounds - round + 1
          if (!rt) remainingPrepares--
          opts.log(`  ${cell.id} ${cell.status}: ${(err as Error).message}`)
        }
        if (cell.status !== 'ok' && rt) {
          await rt.close()
          runtimes.delete(cell.id)
        }
      }
      const base = byId.get(baseline.id)!.rounds.find((r) => r.round === round)
      for (const cell of results) {
        const r = cell.rounds.find((x) => x.round === round)
        if (r && base) r.ratioToBaseline = { rps: ratio(r.rps, base.rps), cpu: ratio(r.cpuUsPerRequest, base.cpuUsPerRequest) }
      }
    }
  } finally {
    await Promise.all([...runtimes.values()].map((rt) => rt.close()))
    await redis?.stop()
    template.remove()
  }

  for (const cell of results) {
    if (opts.signal.aborted && cell.status === 'ok' && cell.rounds.length < load.rounds) {
      Object.assign(cell, { status: 'skipped', reason: `interrupted after ${cell.rounds.length} of ${load.rounds} rounds` })
    }
    cell.summary = summarizeRounds(cell.rounds)
    if (cell.expected.status401Share > 0 && cell.summary) {
      cell.note = `${(cell.summary.status401Share * 100).toFixed(1)}% of requests got 401: a session issued by one instance is unknown to the others (per-process store, ${cell.instances} instances)`
    }
  }
  const micro = scenario.micro && opts.micro && !opts.signal.aborted ? await opts.micro() : null
  return {
    schemaVersion: SCHEMA_VERSION,
    scenario: {
      name: scenario.name, description: scenario.description, file: opts.file,
      workload: scenario.workload, load: scenario.load, baseline: baseline.id,
    },
    smoke: opts.smoke,
    startedAt,
    finishedAt: new Date().toISOString(),
    environment: { ...environment, cpuAffinity: affinity },
    interrupted: opts.signal.aborted,
    cells: results,
    micro,
  }
}
