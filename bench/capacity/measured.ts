// What the runs measured per choice, read from each run's results.json (and simulation.json when
// beside it), each figure from the run that measured it. Pure: the CLI reads the files.
import { AXES, type CellPlan } from '../contracts/plan.ts'
import type { CellResult, Interval, ResultsFile } from '../contracts/results.ts'
import { renewalIntervalMs, SERVER_DEFAULTS } from '../server-defaults.ts'
import type { Simulation } from '../sim/simulation.ts'
import { label } from '../report/verdict.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import type { ChoiceMeasured, FigureName, LatencyCurve, Measured } from './arithmetic.ts'

/** One run directory as the planner reads it. */
export interface RunInput {
  dir: string
  results: ResultsFile
  simulation: Simulation | null
}

// Axes a lifecycle run varies to compress time: a cell measured there stands for the same choice at any lifetime.
const LIFETIME_AXES = new Set(['accessTtlSeconds', 'refreshJitterSeconds', 'refreshGraceSeconds'])

/** The choice a cell is: its axes less the lifetimes (the team sets those), its framework, balancer and instance count. */
const choiceKey = (c: CellPlan) =>
  JSON.stringify([
    c.strategy,
    c.instances,
    c.framework ?? 'fastify',
    c.balancer ?? null,
    c.balance ?? null,
    ...AXES.filter((a) => !LIFETIME_AXES.has(a)).map((a) => c[a] ?? null),
  ])

const fromInterval = (i: Interval, source: string): Measured => ({ value: i.median, interval: [i.ci95[0], i.ci95[1]], source })

function latencyOf(run: RunInput, cell: CellResult): { curve: LatencyCurve | null; why: string } {
  const sim = run.simulation
  if (!sim) return { curve: null, why: `not validated: no simulation.json in ${run.dir} (npm run simulate)` }
  const byCell = sim.layers.byCell.find((v) => v.layer === cell.id)
  const byInstances = sim.layers.byInstances.find((v) => v.instances === cell.instances)
  const curve = sim.curves.find((k) => k.cell === cell.id)
  if (!byCell || !curve || curve.points.length === 0)
    return { curve: null, why: `not validated: ${run.dir}/simulation.json judged no point of ${cell.id}` }
  if (!byCell.holds || !byInstances?.holds)
    return {
      curve: null,
      why:
        `not validated: the latency model did not hold for ${cell.id} at ${cell.instances} instance(s) ` +
        `(p50 within at ${Math.round(byCell.p50Within * 100)}%, p99 at ${Math.round(byCell.p99Within * 100)}% of ${byCell.judged} points)`,
    }
  const p = curve.points[0]!
  // Quoted only up to the busiest load a point of this cell was judged at (each at or under the judged utilisation): above
  // it the model was not checked.
  const judgedLoads = sim.validation.filter((v) => v.cell === cell.id && v.within !== null).map((v) => v.load)
  return {
    curve: {
      instances: cell.instances,
      storeRttMs: cell.store !== null && storeDescriptors[cell.store].placement !== 'in-process' ? (cell.storeRttMs ?? 0) : null,
      capacityRps: p.rps / p.load,
      judgedCapacity: Math.min(sim.model.judgedCapacity, Math.max(...judgedLoads)),
      points: curve.points.map(({ load, p50Us, p99Us }) => ({ load, p50Us, p99Us })),
      source: `${run.dir}/simulation.json curves (${cell.id}; validation held at ${cell.instances} instance(s))`,
    },
    why: '',
  }
}

/**
 * A session's renewal interval and a sealed cookie's lifetimes, from the cell's idle timeout; a lifecycle run compresses
 * lifetimes into seconds, so its cells stand for the servers' defaults.
 */
function lifetimes(c: CellResult): Pick<ChoiceMeasured, 'sealedLifetimeSeconds' | 'renewalIntervalSeconds'> {
  const d = descriptorOf(c)
  const idleS = (c.lifecycle ? null : c.accessTtlSeconds) ?? SERVER_DEFAULTS.sessionIdleTtlSeconds
  return {
    sealedLifetimeSeconds:
      d.state === 'client' && !d.refreshes ? { idle: idleS, absolute: SERVER_DEFAULTS.sessionAbsoluteTtlSeconds } : null,
    renewalIntervalSeconds: d.renews && !d.libraryOps?.(c) ? renewalIntervalMs(idleS * 1000) / 1000 : null,
  }
}

function closedFigures(run: RunInput, c: CellResult): Partial<ChoiceMeasured> {
  const s = c.summary!
  const at = (field: string) => `${run.dir}/results.json ${c.id} ${field}`
  const shared = c.store !== null && storeDescriptors[c.store].placement !== 'in-process'
  return {
    cpuUsPerRequest: fromInterval(s.cpuUsPerRequest, at('summary.cpuUsPerRequest')),
    storeCpuUsPerRequest: s.storeCpuUsPerRequest ? fromInterval(s.storeCpuUsPerRequest, at('summary.storeCpuUsPerRequest')) : null,
    // The users table is SQLite's on every choice (a /profile read): what the choice's own store serves is the rest.
    storeReadsPerRequest: {
      value: s.storeOpsPerRequest.reads - c.expected.ops.userReads,
      interval: null,
      source: at('summary.storeOpsPerRequest.reads less expected.ops.userReads'),
    },
    storeWritesPerRequest: { value: c.expected.ops.writes, interval: null, source: at('expected.ops.writes (renewals apart)') },
    bytesPerRequest: {
      value: s.bytesPerRequest.request + s.bytesPerRequest.response,
      interval: null,
      source: at('summary.bytesPerRequest (request + response)'),
    },
    sharedStore: shared,
  }
}

function lifecycleFigures(run: RunInput, c: CellResult): Partial<ChoiceMeasured> {
  const l = c.lifecycle!
  const lag = l.revocationLagMs
  const out: Partial<ChoiceMeasured> = {}
  if (lag.p99 !== null)
    out.revocationLagMeasured = {
      value: lag.p99 / 1000,
      interval: null,
      source: `${run.dir}/results.json ${c.id} lifecycle.revocationLagMs.p99`,
    }
  if (descriptorOf(c).refreshes && l.expected.refreshes !== null)
    out.refreshesChecked = {
      value: l.expected.refreshes > 0 ? l.refreshes / l.expected.refreshes : 1,
      interval: null,
      source: `checked by ${run.dir}/results.json ${c.id}: ${l.refreshes} refreshes of ${l.expected.refreshes.toFixed(1)} expected`,
    }
  return out
}

/** Every measured choice across the runs; a figure comes from the first run that measured it. */
export function measuredChoices(runs: RunInput[]): ChoiceMeasured[] {
  const byKey = new Map<string, ChoiceMeasured>()
  const order: string[] = []
  for (const run of runs) {
    for (const c of run.results.cells) {
      if (c.status !== 'ok') continue
      const key = choiceKey(c)
      let m = byKey.get(key)
      if (!m) {
        const d = descriptorOf(c)
        m = {
          id: c.id,
          label: label(c),
          state: d.state,
          sharedStore: false,
          refreshes: d.refreshes,
          denylist: c.revocation === 'denylist',
          cpuUsPerRequest: null,
          storeCpuUsPerRequest: null,
          storeReadsPerRequest: null,
          storeWritesPerRequest: null,
          bytesPerRequest: null,
          refreshesChecked: null,
          revocationLagMeasured: null,
          latency: null,
          absent: {},
          ...lifetimes(c),
        }
        byKey.set(key, m)
        order.push(key)
      }
      // The plan's load is authenticated requests: a login window's CPU and writes are a login's, not a request's.
      if (c.summary && !m.cpuUsPerRequest && c.workload !== 'POST /login')
        Object.assign(m, closedFigures(run, c), lifetimes(c), { id: c.id, label: label(c) })
      if (c.lifecycle) {
        const l = lifecycleFigures(run, c)
        m.revocationLagMeasured ??= l.revocationLagMeasured ?? null
        m.refreshesChecked ??= l.refreshesChecked ?? null
      }
      if (!m.latency) {
        const { curve, why } = latencyOf(run, c)
        m.latency = curve
        // A run with a simulation.json says more about the latency than one without.
        if (!curve && (run.simulation || !m.absent.p50Ms)) m.absent.p50Ms = m.absent.p99Ms = why
      }
    }
  }
  return order.map((k) => finish(byKey.get(k)!))
}

function finish(m: ChoiceMeasured): ChoiceMeasured {
  const closed =
    'no GET /me or GET /profile window measured it (a lifecycle run mixes logins and refreshes into its CPU; a POST /login ' +
    'run measures logins): scenarios/default.ts'
  const names: FigureName[] = ['serverCores', 'storeReadsPerSecond', 'storeWritesPerSecond', 'bytesPerSecond']
  if (!m.cpuUsPerRequest) for (const n of names) m.absent[n] ??= closed
  if (!m.storeCpuUsPerRequest)
    m.absent.storeCores ??= m.cpuUsPerRequest
      ? m.sharedStore
        ? 'the run did not measure its store process CPU'
        : 'no store process of its own: an in-process store (or none) costs the servers, counted in serverCores'
      : closed
  if (m.latency) {
    delete m.absent.p50Ms
    delete m.absent.p99Ms
  }
  return m
}
