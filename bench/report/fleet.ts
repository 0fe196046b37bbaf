// Measured fleet points beside the model's prediction for the same topology: for each series of
// cells that differ only in their instance count, the closed-loop capacity measured at each N and
// the bottleneck law's bound computed from the one-instance cell's measured demands (server CPU
// per request on the CPUs the servers had, the store's and the balancer's CPU per request, each
// of those a single thread). Pure: results in, rows out.
import { cpuCount } from '../affinity.ts'
import { type BalancerFloorPoint, CLIENT_BOUND_SHARE, type CellResult, type ResultsFile } from '../contracts/results.ts'
import { workloadKind } from '../contracts/scenario.ts'
import { esc, num, percent } from '../format.ts'
import { capitalized, FACT, label, scopeOf, type Finding } from './verdict.ts'
import { topologyOf } from '../fleet/topologies.ts'
import { median } from '../stats.ts'

interface FleetPoint {
  series: string
  cell: string
  instances: number
  measuredRps: number
  /** The servers were busy (at least CLIENT_BOUND_SHARE): the measured rate is the fleet's capacity, not the client's. */
  saturated: boolean
  cpuUsPerRequest: number
  balancerCpuUsPerRequest: number | null
  /** The one-instance cell's store CPU per request entered the bound (a store process the run measured). */
  hasStore: boolean
  predictedRps: number
  bottleneck: 'servers' | 'store' | 'balancer'
  /** measured / predicted - 1, percent. */
  errorPct: number
}

export interface FleetComparison {
  /** CPUs the servers shared (all instances of a cell on them), as the model was told; null in remote mode (each instance taken as a core of its own). */
  serverCpus: number | null
  points: FleetPoint[]
}

/** A cell's identity without its instance count: the series it belongs to. */
const seriesOf = (c: CellResult) => c.id.replace(/-x\d+(?=-|$)/, '')

const balancerOf = (c: CellResult): number | null => {
  const v = c.rounds.flatMap((r) => (typeof r.balancerCpuUsPerRequest === 'number' ? [r.balancerCpuUsPerRequest] : []))
  return v.length ? median(v) : null
}

/**
 * In a closed-loop run, every series with more than one instance count, its one-instance cell measured: the model's
 * bound at N is min(N, server CPUs) / server CPU per request, the store's 1 / its CPU per request,
 * the balancer's 1 / its CPU per request; the least of them, and which it was.
 */
export function fleetComparison(results: ResultsFile): FleetComparison | null {
  // Capacity is what a saturating closed loop serves; an open loop serves its offered rate, a lifecycle its pace.
  if (workloadKind(results.scenario) !== 'closed') return null
  const affinity = results.environment.cpuAffinity
  const serverCpus = topologyOf(results.environment.topology).serverCpus(
    affinity ? cpuCount(affinity.server) : results.environment.cpus.count,
  )
  const ok = results.cells.filter((c) => c.status === 'ok' && c.summary)
  const series = new Map<string, CellResult[]>()
  for (const c of ok) series.set(seriesOf(c), [...(series.get(seriesOf(c)) ?? []), c])
  const points: FleetPoint[] = []
  for (const [name, cells] of series) {
    const one = cells.find((c) => c.instances === 1)
    if (!one || cells.length < 2) continue
    const s = one.summary!
    const cpu1 = s.cpuUsPerRequest.median
    const store1 = s.storeCpuUsPerRequest?.median ?? null
    const lb1 = balancerOf(one)
    for (const c of [...cells].sort((a, b) => a.instances - b.instances)) {
      const bounds: [FleetPoint['bottleneck'], number][] = [['servers', (Math.min(c.instances, serverCpus ?? c.instances) * 1e6) / cpu1]]
      if (store1) bounds.push(['store', 1e6 / store1])
      if (lb1) bounds.push(['balancer', 1e6 / lb1])
      const [bottleneck, predictedRps] = bounds.reduce((a, b) => (b[1] < a[1] ? b : a))
      const measuredRps = c.summary!.rps.median
      points.push({
        series: name,
        cell: c.id,
        instances: c.instances,
        measuredRps,
        saturated: c.summary!.serverBusyShare >= CLIENT_BOUND_SHARE,
        cpuUsPerRequest: c.summary!.cpuUsPerRequest.median,
        balancerCpuUsPerRequest: balancerOf(c),
        hasStore: Boolean(store1),
        predictedRps,
        bottleneck,
        errorPct: (measuredRps / predictedRps - 1) * 100,
      })
    }
  }
  return points.length ? { serverCpus, points } : null
}

/** The report's section: measured capacity at each N beside the model's, and what the model was told. */
export function fleetHtml(results: ResultsFile): string {
  const f = fleetComparison(results)
  if (!f) return ''
  const told =
    f.serverCpus === null
      ? "the servers' CPU per request, each instance taken as a core of its own"
      : `the servers' CPU per request on the ${f.serverCpus} CPU${f.serverCpus > 1 ? 's' : ''} every instance of a cell shared`
  const others = [
    ...(f.points.some((p) => p.hasStore) ? ["the store's"] : []),
    ...(f.points.some((p) => p.balancerCpuUsPerRequest !== null) ? ["the balancer's"] : []),
  ]
  const rows = f.points
    .map(
      (p) =>
        `<tr><td>${esc(p.series)}</td><td class="num">${p.instances}</td><td class="num">${num(p.measuredRps, 0)}${p.saturated ? '' : ' (client-bound)'}</td>` +
        `<td class="num">${num(p.cpuUsPerRequest, 1)}</td><td ` +
        `class="num">${p.balancerCpuUsPerRequest === null ? '–' : num(p.balancerCpuUsPerRequest, 1)}</td>` +
        `<td class="num">${num(p.predictedRps, 0)}</td><td>${p.bottleneck}</td><td class="num">${p.errorPct >= 0 ? '+' : ''}${num(p.errorPct, 0)}%</td></tr>`,
    )
    .join('\n')
  return `<h2>The fleet: measured beside the model</h2>
<p>Closed-loop capacity at each instance \
count, ${esc(topologyOf(results.environment.topology).describe(results.environment.topology?.hosts ?? []))}, beside the \
bottleneck law's bound for the same topology, computed from the one-instance cell's measured \
demands: ${esc(told)}${others.length ? `, and ${others.join(' and ')} CPU per request (each a single thread)` : ''}. The load \
drivers' own CPU and the kernel's network path are not in the model: where the measured rate falls short of the bound, \
they${f.serverCpus === null ? '' : " and the instances' sharing of cores"} are what the model leaves out.</p>
<table><thead><tr><th>series</th><th class="num">instances</th><th class="num">measured req/s</th><th class="num">server CPU \
µs/req</th><th class="num">balancer CPU µs/req</th><th class="num">model bound req/s</th><th>bottleneck</th><th class="num">measured vs model</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${balancerFloorHtml(results)}`
}

/** The balancer's floor as measured in this run: its CPU per request at each rate with nothing behind it to wait on. */
function balancerFloorHtml(results: ResultsFile): string {
  const points = results.balancerFloor ?? []
  if (points.length === 0) return ''
  const rows = points
    .map(
      (p) =>
        `<tr><td class="num">${num(p.rate, 0)}</td><td class="num">${num(p.achievedRate, 0)}${p.held ? '' : ' (not held)'}</td>` +
        `<td class="num">${p.cpuUsPerRequest === null ? '–' : num(p.cpuUsPerRequest, 1)}</td><td class="num">${percent(p.busyShare)}</td>` +
        `<td class="num">${num(p.balancerRequests, 0)} / ${num(p.completed + p.retried + p.errors, 0)}</td></tr>`,
    )
    .join('\n')
  return `<p>The balancer's floor: HAProxy as the cells ran it (one thread, on the load generator's CPUs, on loopback), before a \
server that answers at once, driven in the open loop at each rate until the driver could not hold one. What it spends per \
request there is its own cost with nothing to wait on; a fleet cell's balancer figure at the same rate reads against it.</p>
<table><thead><tr><th class="num">offered req/s</th><th class="num">achieved</th><th class="num">HAProxy CPU µs/req</th>\
<th class="num">of a core</th><th class="num">requests: HAProxy's count / the driver's</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
}

/**
 * The fleet question answered per series (cells alike but for their instance count): the capacity measured at each
 * count beside the model's bound and what bounds it, the balancer's share of the fleet's CPU per request where one
 * ran, and, where the hosts were namespaces of one machine, that the instances shared its server CPUs (so more
 * instances there measure the software path, not added capacity). Facts: measured figures side by side, no verdict.
 */
export function fleetFindings(results: ResultsFile): Finding[] {
  const f = fleetComparison(results)
  if (!f) return []
  const shared = topologyOf(results.environment.topology).kind !== 'remote' && f.serverCpus !== null
  const out: Finding[] = []
  for (const series of [...new Set(f.points.map((p) => p.series))]) {
    const points = f.points.filter((p) => p.series === series)
    const cells = points.map((p) => results.cells.find((c) => c.id === p.cell)!)
    const top = cells[cells.length - 1]!
    const at = points
      .map((p) => `${num(p.measuredRps, 0)} requests/s with ${p.instances}${p.saturated ? '' : ' (client-bound)'}`)
      .join(', ')
    const bounds = points.map((p) => `${num(p.predictedRps, 0)} (${p.bottleneck})`).join(', ')
    const shares = points.flatMap((p, i) => {
      if (p.balancerCpuUsPerRequest === null) return []
      const store = cells[i]!.summary!.storeCpuUsPerRequest?.median ?? 0
      const total = p.cpuUsPerRequest + store + p.balancerCpuUsPerRequest
      return [{ instances: p.instances, us: p.balancerCpuUsPerRequest, share: p.balancerCpuUsPerRequest / total }]
    })
    // Beside each, the balancer's own floor at the rate that count served (HAProxy before a server that answers at once).
    const floor = (rps: number) => floorAt(results.balancerFloor ?? [], rps)
    const shareWords = shares.map((s) => {
      const at = floor(points.find((p) => p.instances === s.instances)!.measuredRps)
      return (
        `${num(s.us, 1)} µs per request with ${s.instances} (${percent(s.share)} of the fleet's CPU per request` +
        `${at === null ? '' : `; alone before a server that answers at once, at that rate, ${num(at, 1)} µs`})`
      )
    })
    const balancer = shares.length ? ` The balancer's own CPU was ${shareWords.join(', ')}.` : ''
    const cores =
      shared && points.some((p) => p.instances > f.serverCpus!)
        ? ` The instances shared ${f.serverCpus} server CPU${f.serverCpus === 1 ? '' : 's'} of one machine (hosts that are network ` +
          'namespaces, or processes on loopback): beyond that count, more instances here measure the software path (the ' +
          'balancer, more processes taking turns), not added capacity.'
        : ''
    out.push({
      id: `fleet-${series}`,
      kind: 'fleet-capacity',
      cells: cells.map((c) => c.id),
      sentence:
        `${capitalized(label({ ...top, instances: 1 }))} served ${at} instances (closed loop); the model's bound from the one-instance ` +
        `cell's demands: ${bounds}.${balancer}${cores}`,
      figures: Object.fromEntries(
        points.flatMap((p) => [
          [`${p.cell}.rps`, p.measuredRps],
          [`${p.cell}.boundRps`, p.predictedRps],
          [`${p.cell}.balancerCpuUs`, p.balancerCpuUsPerRequest],
        ]),
      ),
      detail: points
        .map(
          (p) =>
            `${p.cell}: servers ${num(p.cpuUsPerRequest, 1)} µs/request, ${p.errorPct >= 0 ? '+' : ''}${num(p.errorPct, 0)}% against the bound`,
        )
        .join('; '),
      ...FACT,
      scope: { ...scopeOf(top, 'closed'), instances: top.instances },
    })
  }
  return out
}

/**
 * The balancer's floor at `rate`: its CPU per request interpolated between the two held points around it (linear in the
 * rate's logarithm), or the point itself; null outside the held ladder.
 */
export function floorAt(points: readonly BalancerFloorPoint[], rate: number): number | null {
  const held = points.filter((p) => p.held && p.cpuUsPerRequest !== null).sort((a, b) => a.rate - b.rate)
  const hi = held.findIndex((p) => p.rate >= rate)
  if (hi < 0) return null
  const b = held[hi]!
  if (b.rate === rate) return b.cpuUsPerRequest
  if (hi === 0) return null
  const a = held[hi - 1]!
  const t = Math.log(rate / a.rate) / Math.log(b.rate / a.rate)
  return a.cpuUsPerRequest! + t * (b.cpuUsPerRequest! - a.cpuUsPerRequest!)
}
