// The simulation's HTML page: what the model predicts for a fleet, set beside what the run measured.
import { esc, num } from '../format.ts'
import type { Simulation } from './simulation.ts'
import { faultsHtml, layerText, ms, signed, validationHtml } from './tables.ts'
import { TOLERATED_ERROR } from './model.ts'
import type { CellResult } from '../contracts/results.ts'
import { cellColors, chartGrid, chartScripts, type ChartSpec, CSS } from '../page/kit.ts'

function colorsOf(sim: Simulation): Map<string, string> {
  const colors = cellColors(sim.calibration.map((c) => ({ strategy: c.strategy }) as CellResult))
  return new Map(sim.calibration.map((c, i) => [c.cell, colors[i]!]))
}

const lineOptions = (x: Record<string, unknown>, y: Record<string, unknown>) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { display: true, position: 'bottom' } },
  scales: { x, y },
})

/** Max rate against instances, cores per 10k req/s against rate, p99 against load. Pure. */
function simulationCharts(sim: Simulation): ChartSpec[] {
  const color = colorsOf(sim)
  const rtt0 = sim.model.storeRttMs[0]!
  const rows = (cell: string) => sim.fleet.filter((r) => r.cell === cell && r.storeRttMs === rtt0)
  const fleetCells = sim.calibration.filter((c) => rows(c.cell).length > 0)
  const charts: ChartSpec[] =
    fleetCells.length === 0
      ? []
      : [
          {
            id: 'sim-max-rate',
            title: 'Maximum rate against app instances (model)',
            caption:
              `The bottleneck law: each instance serves at most 1 / (its CPU per request), one Redis at most 1 / (its CPU ` +
              `per operation x operations per request), the ${sim.model.linkGbps} Gbit/s link at most its bandwidth over the ` +
              `bytes per request. Where a line flattens, the store (or the link) sets the rate however many instances are added. Log scales.`,
            config: {
              type: 'line',
              data: {
                datasets: fleetCells.map((c) => ({
                  label: c.cell,
                  data: rows(c.cell).map((r) => ({ x: r.instances, y: Math.round(r.maxRps) })),
                  borderColor: color.get(c.cell),
                  backgroundColor: color.get(c.cell),
                  showLine: true,
                  fill: false,
                  pointRadius: 3,
                })),
              },
              options: lineOptions(
                { type: 'logarithmic', title: { display: true, text: 'app instances (one core each)' } },
                { type: 'logarithmic', title: { display: true, text: 'maximum requests/s' } },
              ),
            },
          },
          {
            id: 'sim-cores',
            title: 'Cores per 10,000 req/s against the rate a fleet reaches (model)',
            caption:
              'App instances plus store processes (one core each) per 10,000 req/s, each point a fleet of 1 to 64 instances at ' +
              'its maximum rate. Flat: the fleet costs the same per request as it grows; rising: instances added behind a ' +
              'saturated store do nothing. At half load, double it.',
            config: {
              type: 'line',
              data: {
                datasets: fleetCells.map((c) => ({
                  label: c.cell,
                  data: rows(c.cell).map((r) => ({ x: Math.round(r.maxRps), y: Number(r.coresPer10kRps.toFixed(3)) })),
                  borderColor: color.get(c.cell),
                  backgroundColor: color.get(c.cell),
                  showLine: true,
                  fill: false,
                  pointRadius: 3,
                })),
              },
              options: lineOptions(
                { type: 'logarithmic', title: { display: true, text: 'maximum requests/s of the fleet' } },
                { type: 'logarithmic', title: { display: true, text: 'cores per 10,000 req/s' } },
              ),
            },
          },
        ]
  const curves = sim.curves.filter((c) => c.points.length)
  if (curves.length) {
    charts.push({
      id: 'sim-p99-load',
      title: 'Latency against load: predicted p50 and p99 (lines) and measured (points)',
      caption:
        `The DES's p50 and p99 for each cell as the run had it (${sim.model.arrivals} arrivals, its instances round robin ` +
        `on ${sim.model.serverCores} server core${sim.model.serverCores === 1 ? '' : 's'}, the driver's floor outside the ` +
        `servers) against the rate's share of the cell's measured capacity; the measured open-loop p50 and p99 at each point ` +
        `as dots. Judged at or under ${sim.model.judgedCapacity * 100}% measured utilisation, p50 within ` +
        `±${sim.model.tolerancePct.p50}% and p99 within ±${sim.model.tolerancePct.p99}% (table below). Log scale.`,
      config: {
        type: 'line',
        data: {
          datasets: curves.flatMap((c) =>
            (['p50', 'p99'] as const).flatMap((q) => [
              {
                label: `${c.cell} ${q} predicted`,
                data: c.points.map((p) => ({ x: p.load, y: Math.round(q === 'p50' ? p.p50Us : p.p99Us) })),
                borderColor: color.get(c.cell),
                backgroundColor: color.get(c.cell),
                showLine: true,
                fill: false,
                pointRadius: 0,
                borderDash: q === 'p50' ? [4, 3] : [],
              },
              {
                label: `${c.cell} ${q} measured`,
                data: sim.validation
                  .filter((v) => v.cell === c.cell)
                  .map((v) => ({ x: Number(v.load.toFixed(3)), y: q === 'p50' ? v.measured.p50Us : v.measured.p99Us })),
                borderColor: color.get(c.cell),
                backgroundColor: color.get(c.cell),
                showLine: false,
                pointRadius: 4,
                pointStyle: q === 'p50' ? 'circle' : 'rectRot',
              },
            ]),
          ),
        },
        options: lineOptions(
          { type: 'linear', min: 0, max: 1, title: { display: true, text: "rate, share of the cell's measured capacity" } },
          { type: 'logarithmic', title: { display: true, text: 'latency µs (log scale)' } },
        ),
      },
    })
  }
  return charts
}

function distanceHtml(sim: Simulation): string {
  const rows = (sim.distance ?? []).filter((d) => d.measuredGrowthUs !== null && d.predictedGrowthUs > 0)
  if (!rows.length) return ''
  const body = rows.map(
    (d) =>
      `<tr><td>${esc(d.cell)}</td><td>${esc(d.twin ?? '–')}</td><td class="n">${num(d.addedUs / 1000, 2)}</td><td ` +
      `class="n">${d.storeReads}</td><td class="n">${num(d.rate, 0)}</td><td class="n">${ms(d.measuredGrowthUs!)}</td><td ` +
      `class="n">${ms(d.predictedGrowthUs)}</td><td ` +
      `class="n${Math.abs(d.errorShare!) > TOLERATED_ERROR ? ' bad' : ''}">${signed((-d.errorShare! / (1 + d.errorShare!)) * 100)}</td></tr>`,
  )
  return `<h2>The store's distance: predicted and measured</h2>
<p>The fleet's store round trip is a delay per store call: a request's server time grows by its store calls x the round trip \
added. Checked on the cells this run put behind a delay proxy, against their twin next to the store, at the lowest fixed rate \
(servers' own p50 request time).</p>
<table><thead><tr><th>cell</th><th>twin</th><th>RTT added ms</th><th>store calls per request</th><th>req/s</th><th>p50 growth ms \
measured</th><th>predicted</th><th>error</th></tr></thead><tbody>${body.join('\n')}</tbody></table>`
}

function fleetHtml(sim: Simulation): string {
  const rows = sim.fleet.map(
    (r) =>
      `<tr><td>${esc(r.cell)}</td><td class="n">${r.instances}</td><td class="n">${num(r.storeRttMs, 1)}</td><td ` +
      `class="n">${num(r.maxRps, 0)}</td><td>${r.bottleneck}</td><td class="n">${
        r.p99UsAtHalfLoad === null ? '<span ' + 'class="muted">bound only</span>' : ms(r.p99UsAtHalfLoad)
      }</td><td class="n">${num(r.coresPer10kRps, 2)}</td></tr>`,
  )
  return `<details><summary>Every fleet the model computed (${sim.fleet.length} rows)</summary>
<table><thead><tr><th>cell</th><th>instances</th><th>store RTT ms</th><th>max req/s</th><th>bottleneck</th><th>p99 ms at half \
load (server side; only where the cell's latency held)</th><th>cores per 10k req/s</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></details>
${sim.fleetNotes.length ? `<ul>${sim.fleetNotes.map((n) => `<li class="muted">${esc(n)}</li>`).join('')}</ul>` : ''}`
}

function headline(sim: Simulation): string[] {
  const top = sim.model.instances[sim.model.instances.length - 1]!
  const far = sim.model.storeRttMs[sim.model.storeRttMs.length - 1]!
  const near = sim.model.storeRttMs[0]!
  return sim.calibration.flatMap((c) => {
    const a = sim.fleet.find((r) => r.cell === c.cell && r.instances === top && r.storeRttMs === near)
    const b = sim.fleet.find((r) => r.cell === c.cell && r.instances === top && r.storeRttMs === far)
    if (!a || !b) return []
    const capacity =
      `${c.cell}: ${top} instances reach at most ${num(a.maxRps, 0)} req/s (a capacity bound; ` +
      `bottleneck: ${a.bottleneck}), ${num(a.coresPer10kRps, 2)} cores per 10,000 req/s`
    // A latency is stated only where this cell's latency layer held in the run's own validation.
    const v = sim.layers.byCell.find((x) => x.layer === c.cell)
    const n = sim.layers.byInstances.find((x) => x.instances === c.instances)
    if (a.p99UsAtHalfLoad === null || b.p99UsAtHalfLoad === null || !v?.holds || !n?.holds) {
      const why =
        !v || v.judged === 0
          ? 'no open-loop point of it was judged'
          : !v.holds
            ? `its latency layer did not hold in this run (${layerText(sim, v)})`
            : `the layer at ${n ? layerText(sim, n) : `${c.instances} instances: not judged`}`
      return [`${capacity}; no latency is stated for it: ${why}.`]
    }
    return [
      `${capacity}; server-side p99 at half load ${ms(a.p99UsAtHalfLoad)} ms with the ` +
        `store ${near} ms away, ${ms(b.p99UsAtHalfLoad)} ms at ${far} ms (the DES, whose p50 held within ` +
        `±${sim.model.tolerancePct.p50}% at ${num(v.p50Within * 100, 0)}% and p99 within ` +
        `±${sim.model.tolerancePct.p99}% at ${num(v.p99Within * 100, 0)}% of this cell's ${v.judged} judged points).`,
    ]
  })
}

function calibrationHtml(sim: Simulation): string {
  const rows = sim.calibration.map(
    (c) =>
      `<tr><td>${esc(c.cell)}</td><td class="n">${c.instances}</td><td ` +
      `class="n">${num(c.own?.busyCpuUs ?? c.serverCpuUsPerRequest)}</td><td ` +
      `class="n">${c.own ? `${num(c.own.meanUs)} / ${num(c.own.p50Us)} / ${num(c.own.p99Us)}` : '–'}</td><td ` +
      `class="n">${c.storeCpuUsPerOp === null ? '–' : num(c.storeCpuUsPerOp)}</td><td ` +
      `class="n">${num(c.storeOpsPerRequest, 3)}</td><td class="n">${num(c.storeRttUs / 1000, 2)}</td><td ` +
      `class="n">${c.lowLoad ? `${num(c.lowLoad.rate, 0)}/s: ${ms(c.lowLoad.latencyUs.p50)} / ${ms(c.lowLoad.latencyUs.p99)}` : '–'}</td><td ` +
      `class="muted">${esc(
        `busy CPU: ${c.own?.busyFrom ?? c.serviceTimeUs.meanFrom}${
          c.own ? `; time in the ` + `server: ${c.own.from}` : ''
        }${c.storeCpuFrom ? `; store: ${c.storeCpuFrom}` : ''}`,
      )}</td></tr>`,
  )
  const floor = sim.floor?.length
    ? `<p>The driver's floor (a server that answers at once, pinned where the servers run; the round whose p99 is the median), \
as the model reads it: the time outside the servers at each rate, the wake-up that rate's sleep cost (its p50 above the busiest rate's), and the gap slept.</p>
<table><thead><tr><th>req/s</th><th>idle gap µs</th><th>wake-up µs</th><th>outside the server, p50 / p99 ms (wake-up taken \
out)</th></tr></thead><tbody>${sim.floor
        .map(
          (f) =>
            `<tr><td class="n">${num(f.rate, 0)}</td><td ` +
            `class="n">${num(f.gapUs, 0)}</td><td class="n">${num(f.wakeUs, 0)}</td><td ` +
            `class="n">${ms(f.outsideP50Us)} / ${ms(f.outsideP99Us)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="warn">This run did not measure the driver\'s floor (an older run, a remote or namespace run): the latency layer ' +
      'has nothing to put outside the servers, so no point is judged and the fleet table states capacity bounds only.</p>'
  return `<table><thead><tr><th>cell</th><th>instances</th><th>CPU µs/req (busy)</th><th>time in the server µs: mean / p50 / \
p99</th><th>store CPU µs/op</th><th>store ops/req</th><th>added RTT ms</th><th>low load: p50 / p99 \
ms</th><th>from</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
${sim.skipped.length ? `<p class="muted">Not modelled: ${esc(sim.skipped.map((s) => `${s.cell} (${s.reason})`).join('; '))}.</p>` : ''}
${floor}`
}

/** What the model assumes, with this simulation's cores and link. */
const assumptions = (sim: Simulation): string => `<ul>
<li><strong>Capacity (a bound):</strong> each app instance is one single-threaded queue (Node runs a request's JavaScript on one \
thread) with a core of its own in a fleet; its demand is the cell's server CPU per request with the servers busy (closed loop). \
The bottleneck law gives the most a fleet can serve: app instances, the store, the link. CPU per request falls as load rises (a \
busy server batches wake-ups and reads), so a lightly loaded fleet costs more per request than the bound says.</li>
<li><strong>Latency (the DES, published only where it held):</strong> the run replayed request by request: its arrival process \
(evenly spaced or Poisson, as the scenario ran), round robin over its instances, the instances on the cores they had \
(here ${sim.model.serverCores} server core${sim.model.serverCores === 1 ? '' : 's'}; instances that share a core share its \
queue), each request's time in the server drawn from the servers' own request times at the lowest rate (every request of its \
typical round), its core occupied that time x the busy CPU per request over their mean (a pause for its own length) plus, when \
it found its process asleep, the CPU that process's wake-up costs (shaped by the floor server's CPU against its sleep, sized by \
the cell's lowest rate), each store call a visit to the store's queue (one Redis, a cluster's masters by slot) at its measured \
CPU per operation, and the time outside the servers (the client, the kernel's loopback) drawn from the driver's floor at that \
rate. A request that finds its core asleep pays a wake-up, and one that finds its process idle is slower inside it, by how long \
they slept: both read off the floor (a server that answers at once, where the servers run, at 500 to 16,000 requests/s), never \
off the points the model is judged on.</li>
<li><strong>Cross-check:</strong> M/G/1 (Pollaczek-Khinchine with the busy CPU's mean and the measured shape, Poisson arrivals, \
an instance a core) beside each point: a bound above the queueing of evenly spaced arrivals, not a prediction.</li>
<li>The store is one single-threaded Redis (three masters for a cluster, keys spread evenly), or a PostgreSQL whose backends (a \
process per connection) share its host's cores (<code>--store-cores</code>, ${sim.model.storeHostCores ?? 4} here), each \
operation a fixed time (its CPU per operation from Redis's INFO cpu, or the scheduler's account of every PostgreSQL process over \
its statements, measured with the servers busy); the network a delay per store call and one ${sim.model.linkGbps} Gbit/s link \
that every request and response crosses. Bandwidth between servers and store, the balancer's own cost, TLS, and several cores \
per instance are not modelled.</li>
<li>The Universal Scalability Law is not used to extrapolate: a fleet of independent instances has no coherence cost of its own \
in this model; the shared store is the one contended resource and is modelled as a queue.</li>
<li>What it does not hold: the machine's own pauses beyond those the low-rate windows caught (the load driver and Redis share a \
core here, and Redis waits for it), CPU per request that changes with load beyond the wake-ups, and in-process stores (SQLite) \
in a fleet: one host holds them, so only one instance is modelled.</li>
</ul>`

/** The page: pure. */
export function renderSimulationHtml(sim: Simulation, chartJsSource: string): string {
  const charts = simulationCharts(sim)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>authbench fleet model: ${esc(sim.source.scenario)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>authbench fleet model: ${esc(sim.source.scenario)}</h1>
<p class="muted">Calibrated from the run of ${esc(sim.source.startedAt)} (<a href="index.html">its report</a>, <a \
href="simulation.json">simulation.json</a>) · instances ${esc(sim.model.instances.join(', '))} · store round trip ${esc(sim.model.storeRttMs.join(', '))} ms</p>
${
  sim.source.smoke
    ? '<p class="warn">Calibrated from a smoke run (windows of a second or less, one round): the figures show the ' +
      'shape of the output, not a fleet to plan by.</p>'
    : ''
}
<section class="answer"><strong>What the model says for a fleet</strong><ul>
${[...sim.crossovers.map((c) => c.text), ...headline(sim)].map((t) => `<li>${esc(t)}</li>`).join('\n')}
</ul></section>
<h2>Checked against this run: predicted and measured</h2>
${validationHtml(sim)}
${faultsHtml(sim)}
${distanceHtml(sim)}
${
  charts.length
    ? `<h2>Charts</h2>
${chartGrid(charts)}`
    : ''
}
<h2>The fleet</h2>
${fleetHtml(sim)}
<h2>Calibration</h2>
${calibrationHtml(sim)}
<h2>What the model assumes</h2>
${assumptions(sim)}
</main>
${chartScripts(charts, chartJsSource)}
</body></html>
`
}
