// Each fault timeline of a run, predicted by the DES from the cell's calibration and set beside
// what the users went through: a store pause (fail-closed timeouts, then the backlog), a restart
// (every user whose state lived in the store logs in again: the login storm).
import { storeTimeoutMsOf } from '../server-defaults.ts'
import { ownStoreOps } from '../expected.ts'
import { lifecycleWorkload, refreshIntervalSeconds } from '../refresh-arithmetic.ts'
import { recoveryOf } from '../recovery.ts'
import type { Calibrated } from './calibrate.ts'
import { simulate } from './des.ts'
import type { CellResult, ResultsFile, TimelinePoint } from '../contracts/results.ts'

export interface FaultPrediction {
  cell: string
  action: string
  faultAtMs: number
  measured: {
    failedGets: number
    firstErrorMs: number | null
    lastErrorMs: number | null
    recoveryMs: number | null
    forcedLogins: number
    loginStormPeakPerSecond: number
  }
  predicted: {
    failedGets: number
    firstErrorMs: number | null
    lastErrorMs: number | null
    recoveryMs: number | null
    forcedLogins: number
    loginStormPeakPerSecond: number
  }
  /** How far apart, in words: counts as a share, times in ms (the timeline's resolution is 100 ms). */
  agreement: string
  /** Why they differ, where known. */
  why: string | null
}

const BUCKET_MS = 100

/** Store calls a user's GET makes (steady state): what a store fault does to GETs. */
const getStoreOps = (c: CellResult) => ownStoreOps(c.expected.ops)

export function predictFaults(results: ResultsFile, cells: Calibrated[]): FaultPrediction[] {
  const faults = results.scenario.faults ?? []
  // Fault timelines come from the lifecycle's users: a run without them has nothing to predict against.
  if (!faults.length || !results.cells.some((c) => c.lifecycle && c.timeline)) return []
  const w = lifecycleWorkload(results.scenario.workload)
  const rate = w.users * w.requestsPerUserPerSecond
  const out: FaultPrediction[] = []
  for (const c of results.cells) {
    const cal = cells.find((x) => x.cell === c.id)
    if (!cal || !c.recovery || !c.timeline) continue
    const ops = getStoreOps(c)
    const pauses = faults
      .filter((f) => f.action === 'pause-store')
      .map((f) => ({ fromUs: f.atSeconds * 1e6, toUs: (f.atSeconds + f.durationSeconds!) * 1e6 }))
    const des = simulate({
      seed: 1,
      instances: c.instances,
      rate,
      durationUs: w.durationSeconds * 1e6,
      arrivals: 'poisson',
      appUs: { kind: 'det', value: cal.serverCpuUsPerRequest },
      storeOps: ops,
      storeUs: ops > 0 ? { kind: 'det', value: cal.storeCpuUsPerOp ?? 0 } : null,
      storeRttUs: cal.storeRttUs,
      storePauses: pauses,
      // The timeout the run's servers had (a smoke run gives its store longer).
      timeoutUs: storeTimeoutMsOf(results.smoke) * 1000,
      bucketUs: BUCKET_MS * 1000,
    })
    // The DES's timeline read by the same rule as the measured one.
    const simulated: TimelinePoint[] = des.timeline.map((b) => ({
      tMs: b.tUs / 1000,
      requests: b.arrivals,
      ok: b.ok,
      status401: 0,
      status503: b.failed,
      status502: 0,
      status5xx: 0,
      errors: 0,
      latencyUsP50: b.p50Us,
      latencyUsP99: b.p99Us,
      logins: 0,
      forcedLogins: 0,
    }))
    const desRecovery = recoveryOf(simulated, faults, 0)
    for (const e of c.recovery.episodes) {
      // The model has no balancer and no instance dying under it, and no TCP retransmitting across a partition: an instance
      // fault and a partition are measured, not predicted.
      if (e.action === 'kill-instance' || e.action === 'partition-store') continue
      const until = c.recovery.episodes.find((x) => x.faultAtMs > e.faultAtMs)?.faultAtMs ?? Infinity
      const mine = c.timeline.filter((b) => b.tMs >= e.faultAtMs && b.tMs < until)
      const measured = {
        failedGets: mine.reduce((s, b) => s + b.status401 + b.status502 + b.status503 + b.status5xx + b.errors, 0),
        firstErrorMs: e.firstErrorMs,
        lastErrorMs: e.lastErrorMs,
        recoveryMs: e.recoveryMs,
        forcedLogins: e.forcedLogins,
        loginStormPeakPerSecond: e.loginStormPeakPerSecond,
      }
      let predicted: FaultPrediction['predicted']
      if (e.action === 'pause-store') {
        const buckets = des.timeline.filter((b) => b.tUs / 1000 >= e.faultAtMs && b.tUs / 1000 < until && b.failed > 0)
        const mineSim = desRecovery.episodes.find((x) => x.faultAtMs === e.faultAtMs)
        predicted = {
          failedGets: buckets.reduce((s, b) => s + b.failed, 0),
          firstErrorMs: buckets.length ? buckets[0]!.tUs / 1000 : null,
          lastErrorMs: buckets.length ? buckets[buckets.length - 1]!.tUs / 1000 : null,
          recoveryMs: mineSim?.recoveryMs ?? null,
          forcedLogins: 0,
          loginStormPeakPerSecond: 0,
        }
      } else {
        // State lost: a user whose GETs read the store logs in at its next GET, one that only
        // refreshes against it at its next refresh; they spread evenly over that interval.
        const interval = ops > 0 ? 1 / w.requestsPerUserPerSecond : refreshIntervalSeconds(c, w)
        const lost = interval === null ? 0 : w.users
        predicted = {
          failedGets: ops > 0 ? lost : 0,
          firstErrorMs: ops > 0 ? e.faultAtMs : null,
          lastErrorMs: ops > 0 && interval !== null ? e.faultAtMs + Math.floor((interval * 1000) / BUCKET_MS) * BUCKET_MS : null,
          recoveryMs: null,
          forcedLogins: lost,
          loginStormPeakPerSecond: interval === null ? 0 : w.users / interval,
        }
      }
      out.push({
        cell: c.id,
        action: e.action,
        faultAtMs: e.faultAtMs,
        measured,
        predicted,
        agreement: agreement(measured, predicted),
        why: whyApart(measured, predicted, e.action, ops),
      })
    }
  }
  return out
}

function agreement(m: FaultPrediction['measured'], p: FaultPrediction['predicted']): string {
  const share = (a: number, b: number) =>
    b === 0 ? (a === 0 ? 'both 0' : `${a} predicted, none measured`) : `${a >= b ? '+' : ''}${Math.round(((a - b) / b) * 100)}%`
  const parts = [`failed GETs ${share(p.failedGets, m.failedGets)}`]
  if (p.forcedLogins || m.forcedLogins) parts.push(`forced logins ${share(p.forcedLogins, m.forcedLogins)}`)
  if (p.loginStormPeakPerSecond || m.loginStormPeakPerSecond)
    parts.push(`login storm peak ${share(Math.round(p.loginStormPeakPerSecond), Math.round(m.loginStormPeakPerSecond))}`)
  if (p.recoveryMs !== null && m.recoveryMs !== null)
    parts.push(`recovery ${p.recoveryMs - m.recoveryMs >= 0 ? '+' : ''}${p.recoveryMs - m.recoveryMs} ms`)
  return parts.join(', ')
}

function whyApart(m: FaultPrediction['measured'], p: FaultPrediction['predicted'], action: string, getStoreOps: number): string | null {
  const why: string[] = []
  if (getStoreOps === 0 && m.failedGets > 0)
    why.push(
      'a GET here needs no store, but access tokens that expired while their refresh could not reach the store drew 401s: the ' +
        'model simulates the GETs, not the refreshes',
    )
  if (action === 'pause-store' && getStoreOps > 0 && p.recoveryMs !== null && m.recoveryMs !== null && m.recoveryMs > p.recoveryMs)
    why.push(
      "the model does a request's app work before its store call, so the answers released together when the store resumes cost " +
        'the app nothing; on the servers they queue',
    )
  if (p.loginStormPeakPerSecond > 0 && m.loginStormPeakPerSecond > 1.25 * p.loginStormPeakPerSecond)
    why.push('requests that failed while the store was away were retried with back-off, bunching the logins after it came back')
  return why.length ? why.join('; ') : null
}
