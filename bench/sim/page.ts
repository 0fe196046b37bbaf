// The simulation's HTML page: what the model predicts for a fleet, set beside what the run measured.
import { esc, num } from '../format.ts'
import type { Simulation } from './simulation.ts'
import { JUDGED_LOAD, TOLERATED_ERROR } from './model.ts'
import { faultsHtml, ms, signed, validationHtml } from './tables.ts'
import type { CellResult } from '../contracts/results.ts'
import { cellColors, chartGrid, chartScripts, type ChartSpec, CSS } from '../page/kit.ts'


function colorsOf(sim: Simulation): Map<string, string> {
  const colors = cellColors(sim.calibration.map((c) => ({ strategy: c.strategy }) as CellResult))
  return new Map(sim.calibration.map((c, i) => [c.cell, colors[i]!]))
}

const lineOptions = (x: Record<string, unknown>, y: Record<string, unknown>) => ({
  animation: false, responsive: true, maintainAspectRatio: false,
  plugins: { legend: { display: true, position: 'bottom' } },
  scales: { x, y },
})

/** Max rate against instances, cores per 10k req/s against rate, p99 against load. Pure. */
export function simulationCharts(sim: Simulation): ChartSpec[] {
  const color = colorsOf(sim)
  const rtt0 = sim.model.storeRttMs[0]!
  const rows = (cell: string) => sim.fleet.filter((r) => r.cell === cell && r.storeRttMs === rtt0)
  const fleetCells = sim.calibration.filter((c) => rows(c.cell).length > 0)
  const charts: ChartSpec[] = fleetCells.length === 0 ? [] : [{
    id: 'sim-max-rate',
    title: 'Maximum rate against app instances (model)',
    caption: `The bottleneck law: each instance serves at most 1 / (its CPU per request), one Redis at most 1 / (its CPU per operation x operations per request), the ${sim.model.linkGbps} Gbit/s link at most its bandwidth over the bytes per request. Where a line flattens, the store (or the link) sets the rate however many instances are added. Log scales.`,
    config: {
      type: 'line',
      data: { datasets: fleetCells.map((c) => ({ label: c.cell, data: rows(c.cell).map((r) => ({ x: r.instances, y: Math.round(r.maxRps) })), borderColor: color.get(c.cell), backgroundColor: color.get(c.cell), showLine: true, fill: false, pointRadius: 3 })) },
      options: lineOptions({ type: 'logarithmic', title: { display: true, text: 'app instances (one core each)' } }, { type: 'logarithmic', title: { display: true, text: 'maximum requests/s' } }),
    },
  }, {
    id: 'sim-cores',
    title: 'Cores per 10,000 req/s against the rate a fleet reaches (model)',
    caption: 'App instances plus store processes (one core each) per 10,000 req/s, each point a fleet of 1 to 64 instances at its maximum rate. Flat: the fleet costs the same per request as it grows; rising: instances added behind a saturated store do nothing. At half load, double it.',
    config: {
      type: 'line',
      data: { datasets: fleetCells.map((c) => ({ label: c.cell, data: rows(c.cell).map((r) => ({ x: Math.round(r.maxRps), y: Number(r.coresPer10kRps.toFixed(3)) })), borderColor: color.get(c.cell), backgroundColor: color.get(c.cell), showLine: true, fill: false, pointRadius: 3 })) },
      options: lineOptions({ type: 'logarithmic', title: { display: true, text: 'maximum requests/s of the fleet' } }, { type: 'logarithmic', title: { display: true, text: 'cores per 10,000 req/s' } }),
    },
  }]
  const curves = sim.curves.filter((c) => c.points.length)
  if (curves.length) {
    charts.push({
      id: 'sim-p99-load',
      title: 'p99 latency against load: predicted (line) and measured (points)',
      caption: `The model's p99 (the low-load latency plus the M/G/1 wait at each instance and at the store) against the busiest station's share of its capacity, as the run had it (instances, store, distance); the measured open-loop p99 at each point as dots. Judged at or under ${JUDGED_LOAD * 100}% load: past ±${TOLERATED_ERROR * 100}% the model does not hold there (table below). Log scale.`,
      config: {
        type: 'line',
        data: {
          datasets: curves.flatMap((c) => [
            { label: `${c.cell} predicted`, data: c.points.map((p) => ({ x: p.load, y: Math.round(p.p99Us) })), borderColor: color.get(c.cell), backgroundColor: color.get(c.cell), showLine: true, fill: false, pointRadius: 0 },
            { label: `${c.cell} measured`, data: sim.validation.filter((v) => v.cell === c.cell).map((v) => ({ x: Number(v.load.toFixed(3)), y: v.measured.p99Us })), borderColor: color.get(c.cell), backgroundColor: color.get(c.cell), showLine: false, pointRadius: 4, pointStyle: 'rectRot' },
          ]),
        },
        options: lineOptions({ type: 'linear', min: 0, max: 1, title: { display: true, text: 'load (busiest station, share of capacity)' } }, { type: 'logarithmic', title: { display: true, text: 'p99 µs (log scale)' } }),
      },
    })
  }
  return charts
}

function distanceHtml(sim: Simulation): string {
  const rows = (sim.distance ?? []).filter((d) => d.measuredGrowthUs !== null && d.predictedGrowthUs > 0)
  if (!rows.length) return ''
  const body = rows.map((d) => `<tr><td>${esc(d.cell)}</td><td>${esc(d.twin ?? '–')}</td><td class="n">${num(d.addedUs / 1000, 2)}</td><td class="n">${d.storeReads}</td><td class="n">${num(d.rate, 0)}</td><td class="n">${ms(d.measuredGrowthUs!)}</td><td class="n">${ms(d.predictedGrowthUs)}</td><td class="n${Math.abs(d.errorShare!) > TOLERATED_ERROR ? ' bad' : ''}">${signed(-d.errorShare! / (1 + d.errorShare!) * 100)}</td></tr>`)
  return `<h2>The store's distance: predicted and measured</h2>
<p>The fleet's store round trip is a delay per store call: a request's server time grows by its store calls x the round trip added. Checked on the cells this run put behind a delay proxy, against their twin next to the store, at the lowest fixed rate (servers' own p50 request time).</p>
<table><thead><tr><th>cell</th><th>twin</th><th>RTT added ms</th><th>store calls per request</th><th>req/s</th><th>p50 growth ms measured</th><th>predicted</th><th>error</th></tr></thead><tbody>${body.join('\n')}</tbody></table>`
}

function fleetHtml(sim: Simulation): string {
  const rows = sim.fleet.map((r) => `<tr><td>${esc(r.cell)}</td><td class="n">${r.instances}</td><td class="n">${num(r.storeRttMs, 1)}</td><td class="n">${num(r.maxRps, 0)}</td><td>${r.bottleneck}</td><td class="n">${ms(r.p99UsAtHalfLoad)}</td><td class="n">${num(r.coresPer10kRps, 2)}</td></tr>`)
  return `<details><summary>Every fleet the model computed (${sim.fleet.length} rows)</summary>
<table><thead><tr><th>cell</th><th>instances</th><th>store RTT ms</th><th>max req/s</th><th>bottleneck</th><th>p99 ms at half load (server side)</th><th>cores per 10k req/s</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></details>
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
    return [`${c.cell}: ${top} instances reach ${num(a.maxRps, 0)} req/s (bottleneck: ${a.bottleneck}), ${num(a.coresPer10kRps, 2)} cores per 10,000 req/s; p99 at half load ${ms(a.p99UsAtHalfLoad)} ms with the store ${near} ms away, ${ms(b.p99UsAtHalfLoad)} ms at ${far} ms.`]
  })
}

function calibrationHtml(sim: Simulation): string {
  const rows = sim.calibration.map((c) => `<tr><td>${esc(c.cell)}</td><td class="n">${num(c.serviceTimeUs.mean)}</td><td class="n">${num(c.serviceTimeUs.p50)} / ${num(c.serviceTimeUs.p99)}</td><td class="n">${num(c.serviceTimeUs.scv, 2)}</td><td class="n">${c.storeCpuUsPerOp === null ? '–' : num(c.storeCpuUsPerOp)}</td><td class="n">${num(c.storeOpsPerRequest, 3)}</td><td class="n">${num(c.storeRttUs / 1000, 2)}</td><td class="n">${c.lowLoad ? `${num(c.lowLoad.rate, 0)}/s: ${ms(c.lowLoad.latencyUs.p50)} / ${ms(c.lowLoad.latencyUs.p99)}` : '–'}</td><td class="muted">${esc(`mean: ${c.serviceTimeUs.meanFrom}; shape: ${c.serviceTimeUs.shapeFrom}${c.storeCpuFrom ? `; store: ${c.storeCpuFrom}` : ''}`)}</td></tr>`)
  return `<table><thead><tr><th>cell</th><th>service µs mean</th><th>p50 / p99</th><th>SCV</th><th>store CPU µs/op</th><th>store ops/req</th><th>added RTT ms</th><th>low load: p50 / p99 ms</th><th>from</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
${sim.skipped.length ? `<p class="muted">Not modelled: ${esc(sim.skipped.map((s) => `${s.cell} (${s.reason})`).join('; '))}.</p>` : ''}`
}

const ASSUMPTIONS = `<ul>
<li>Each app instance is one single-threaded queue (Node runs a request's JavaScript on one thread) with one core; a round-robin balancer gives each of N instances a 1/N share of Poisson arrivals. Service time: the cell's server CPU per request with the servers busy (closed loop), its shape from the servers' own request time at the lowest open-loop rate. CPU per request falls as load rises (a busy server batches wake-ups and reads), so a lightly loaded fleet costs more per request than the model says.</li>
<li>Latency below the knee: M/G/1 (Pollaczek-Khinchine, exact for the mean wait with the measured moments); its distribution taken as "no wait with probability 1 − ρ, else exponential" (exact for M/M/1, the right mean and share of waiting requests otherwise), added to the latency measured at low load. The client's own overhead on this machine is in that low-load latency, and the low-load point's own small wait is counted twice.</li>
<li>The store is one single-threaded Redis (three masters for a cluster, keys spread evenly), or a PostgreSQL whose backends (a process per connection) share its host's cores (<code>--store-cores</code>, ${'${STORE_CORES}'}), each operation a fixed time (its CPU per operation from Redis's INFO cpu, or the scheduler's account of every PostgreSQL process over its statements, measured with the servers busy); the network a delay per store call (the round trip, added to the low-load server time) and one ${'${LINK}'} Gbit/s link that every request and response crosses. Bandwidth between servers and store, the balancer's own cost, TLS, and several cores per instance are not modelled.</li>
<li>The Universal Scalability Law is not used to extrapolate: a fleet of independent instances has no coherence cost of its own in this model; the shared store is the one contended resource and is modelled as a queue.</li>
<li>Where it stops being trustworthy: past about ${JUDGED_LOAD * 100}% load (M/G/1 tails grow faster than any measurement on this machine can check); for p99 wherever the machine's own pauses (garbage collection, the load driver sharing two cores with Redis) set the tail, which the validation names point by point; and for in-process stores (SQLite), which one host holds, so only one instance is modelled.</li>
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
<p class="muted">Calibrated from the run of ${esc(sim.source.startedAt)} (<a href="index.html">its report</a>, <a href="simulation.json">simulation.json</a>) · instances ${esc(sim.model.instances.join(', '))} · store round trip ${esc(sim.model.storeRttMs.join(', '))} ms</p>
${sim.source.smoke ? '<p class="warn">Calibrated from a smoke run (about a second per cell, one round): the figures show the shape of the output, not a fleet to plan by.</p>' : ''}
<section class="answer"><strong>What the model says for a fleet</strong><ul>
${[...sim.crossovers.map((c) => c.text), ...headline(sim)].map((t) => `<li>${esc(t)}</li>`).join('\n')}
</ul></section>
<h2>Checked against this run: predicted and measured</h2>
${validationHtml(sim)}
${faultsHtml(sim)}
${distanceHtml(sim)}
${charts.length ? `<h2>Charts</h2>
${chartGrid(charts)}` : ''}
<h2>The fleet</h2>
${fleetHtml(sim)}
<h2>Calibration</h2>
${calibrationHtml(sim)}
<h2>What the model assumes</h2>
${ASSUMPTIONS.replace('${LINK}', String(sim.model.linkGbps)).replace('${STORE_CORES}', `${sim.model.storeHostCores ?? 4} here`)}
</main>
${chartScripts(charts, chartJsSource)}
</body></html>
`
}
