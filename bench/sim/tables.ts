import { esc, num } from '../format.ts'
import type { Simulation } from './simulation.ts'
import { MISS_REASONS, type LayerVerdict } from './latency.ts'

export const ms = (us: number) => (Number.isFinite(us) ? num(us / 1000, 2) : '∞')
export const signed = (p: number) => (Number.isFinite(p) ? `${p >= 0 ? '+' : ''}${num(p, 0)}%` : '∞')

/** A layer's verdict in words: its judged points and the shares within each tolerance. */
export function layerText(sim: Simulation, v: LayerVerdict): string {
  const { tolerancePct: t, targetShare: g } = sim.model
  return (
    `${v.layer} (${v.arrivals} arrivals): p50 within ±${t.p50}% at ${num(v.p50Within * 100, 0)}% of ${v.judged} points ` +
    `judged (target ${g.p50 * 100}%), p99 within ±${t.p99}% at ${num(v.p99Within * 100, 0)}% of the ${v.p99Judged ?? v.judged} ` +
    `whose tail no stall dominated (target ${g.p99 * 100}%): ${v.holds ? 'holds' : 'does not hold'}`
  )
}

/** Each open-loop point, predicted beside measured, with the verdict and its reasons. Pure. */
export function validationHtml(sim: Simulation): string {
  if (!sim.validation.length)
    return (
      '<p class="muted">This run has no open-loop point to check the latency model against (lifecycle runs feed the fleet ' +
      'table and the fault timelines only).</p>'
    )
  const { tolerancePct: t } = sim.model
  // Older simulation.json files carry no dropped rounds.
  const without = (v: Simulation['validation'][number]) =>
    v.holds !== null && v.dropped?.length ? ` <span class="muted">(judged without ${esc(v.dropped.join('; '))})</span>` : ''
  const verdict = (v: Simulation['validation'][number]) =>
    (v.calibration
      ? '<span class="muted">calibration point (the servers\' own time)</span>'
      : v.holds === null
        ? `<span class="muted">not judged (${esc(v.notJudged ?? '')})</span>`
        : v.holds
          ? `holds${v.stall ? ` (p50; the p99 not judged: ${esc(v.stall)})` : ''}`
          : `<span class="bad">does not hold</span>: ${
              v.reasons?.length
                ? v.reasons.map((r) => `${esc(r.code)} <span ` + `class="muted">(${esc(r.figures)})</span>`).join('; ')
                : 'not known from these measurements'
            }`) + without(v)
  const bad = (within: boolean | null | undefined) => (within === false ? ' bad' : '')
  const pctOf = (x: number | null) => (x === null ? '–' : `${num(x * 100, 0)}%`)
  // Older simulation.json files carry no utilisation.
  const utilisation = (v: Simulation['validation'][number]) =>
    v.utilisation ? `${pctOf(v.utilisation.servers)} / ${pctOf(v.utilisation.client)}` : '–'
  const rows = sim.validation.map(
    (v) => `<tr><td>${esc(v.cell)}</td><td class="n">${v.instances}</td><td \
class="n">${num(v.rate, 0)}${v.fraction === null ? '' : ` (${num(v.fraction * 100, 0)}%)`}</td><td class="n">${num(v.load * 100, 0)}%</td>\
<td class="n">${utilisation(v)}</td>
<td class="n">${ms(v.measured.p50Us)}</td><td class="n">${ms(v.predicted.p50Us)}</td><td class="n${bad(v.within?.p50)}">${signed(v.errorPct.p50)}</td>
<td class="n">${ms(v.measured.p99Us)}</td><td class="n">${ms(v.predicted.p99Us)}</td><td \
class="n${bad(v.within?.p99)}">${signed(v.errorPct.p99)}</td><td class="n">${v.bound ? ms(v.bound.p99Us) : '–'}</td><td \
class="n">${num(v.predicted.meanWakeUs, 0)}</td><td \
class="n">${num(v.measured.cpuUsPerRequest, 0)} / ${num(v.predicted.cpuUsPerRequest, 0)}</td><td>${verdict(v)}</td></tr>`,
  )
  const layers = sim.layers.byInstances
    .filter((v) => v.judged > 0)
    .map((v) => `<li>${esc(layerText(sim, v))}</li>`)
    .join('')
  return `<p>Each open-loop point of the run predicted by the DES from the calibration alone (the servers' own time at the \
lowest rate, their CPU per request at the cell's other rates, the store's CPU per operation, the driver's floor at the rate), \
replaying what was run: ${esc(sim.model.arrivals)} arrivals, round robin over the cell's \
instances, ${
    sim.model.serverCores === 1
      ? 'every instance on the one server core (two instances share it: one queue)'
      : `the ` + `instances on ${sim.model.serverCores} server cores`
  }. Error = (predicted − measured) / measured. Judged at or \
under ${sim.model.judgedCapacity * 100}% measured utilisation (the servers' CPU over their cores, the driver's and a same-host \
store's over the client's, the higher), p50 within ±${t.p50}% and p99 within ±${t.p99}%; a p99 whose measured tail a stall \
dominates (the driver's send lag or the servers' own p99 at least half of it) is not judged:</p>
<ul>${layers || '<li>no point judged</li>'}</ul>
<p class="muted">Reasons, as the measurements at each point show them: ${Object.entries(MISS_REASONS)
    .map(([k, v]) => `<strong>${esc(k)}</strong>: ${esc(v)}`)
    .join('. ')}. The M/G/1 column is the analytic cross-check (Poisson arrivals, an instance a core): a bound above the queueing of \
evenly spaced arrivals, not a prediction.</p>
<table><thead><tr><th>cell</th><th>instances</th><th>req/s (of capacity)</th><th>of measured capacity</th><th>utilisation \
servers / client</th><th>p50 ms \
measured</th><th>p50 ms predicted</th><th>error</th><th>p99 ms measured</th><th>p99 ms predicted</th><th>error</th><th>p99 ms \
M/G/1 bound</th><th>wake-up µs (mean)</th><th>CPU µs/req measured / model</th><th>verdict</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

/** Each fault episode, measured / predicted, with why they differ where known. Pure. */
export function faultsHtml(sim: Simulation): string {
  if (!sim.faults?.length) return ''
  const f = (v: number | null) => (v === null ? '–' : num(v, 0))
  const span = (x: { firstErrorMs: number | null; lastErrorMs: number | null }) =>
    x.firstErrorMs === null ? 'none' : `${f(x.firstErrorMs)}–${f(x.lastErrorMs)}`
  const rows = sim.faults.map(
    (x) => `<tr><td>${esc(x.cell)}</td><td>${esc(x.action)} at ${num(x.faultAtMs / 1000, 1)} s</td>
<td class="n">${x.measured.failedGets} / ${x.predicted.failedGets}</td><td class="n">${span(x.measured)} / ${span(x.predicted)}</td>
<td class="n">${f(x.measured.recoveryMs)} / ${f(x.predicted.recoveryMs)}</td><td \
class="n">${x.measured.forcedLogins} / ${x.predicted.forcedLogins}</td><td \
class="n">${num(x.measured.loginStormPeakPerSecond, 0)} / ${num(x.predicted.loginStormPeakPerSecond, 0)}</td><td>${esc(x.agreement)}${
      x.why ? `<br><span ` + `class="muted">${esc(x.why)}</span>` : ''
    }</td></tr>`,
  )
  return `<h2>Fault timelines: measured / predicted</h2>
<p>A pause is simulated (the DES: the users' GETs arriving as measured, each store call failing closed after the servers' \
command timeout, the calls queued during the pause served after it); a restart is the arithmetic of lost state (every user whose \
state lived in the store logs in again at its next GET, or at its next refresh when only refreshes use the store, spread over \
that interval). Times in ms into the window, at the timeline's 100 ms resolution.</p>
<table><thead><tr><th>cell</th><th>fault</th><th>failed GETs</th><th>failed from–to ms</th><th>recovery ms after the store is \
back</th><th>forced logins</th><th>login storm peak /s</th><th>how far apart</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

/** The report's pointer to the fleet model calibrated from the same run, with its verdict on itself. Pure. */
export function simulationSection(sim: Simulation | null, asked: boolean): string {
  if (!sim)
    return asked
      ? '<h2>Fleet model</h2><p class="warn">The scenario asked for the fleet model (<code>simulate: true</code>), but it was ' +
          "not written: see the run's output for the reason (the model needs open-loop points or the lifecycle workload).</p>"
      : ''
  const layers = (sim.layers?.byInstances ?? []).filter((v) => v.judged > 0)
  const latency = layers.length
    ? `Its latency layer (the DES, replaying this run's arrivals and instances) checked against this run's open-loop ` +
      `points: ${layers.map((v) => esc(layerText(sim, v))).join('; ')}.${
        layers.some((v) => !v.holds) ? ' Where it does not ' + 'hold, the fleet table states capacity bounds only.' : ''
      }`
    : 'This run had no open-loop point to check its latency layer against: the fleet table states capacity bounds only.'
  return `<h2>Fleet model</h2>
<p>The fleet model calibrated from this run (<a href="simulation.html">its page</a>, <a \
href="simulation.json">simulation.json</a>): N app instances behind a round-robin balancer, one store, the network a delay per \
store call. ${latency}${sim.faults?.length ? ` ${sim.faults.length} fault episodes predicted beside the measured timelines.` : ''}</p>
<ul>${sim.crossovers.map((c) => `<li>${esc(c.text)}</li>`).join('')}</ul>
<details><summary>Predicted and measured, point by point</summary>
${validationHtml(sim)}
${faultsHtml(sim).replace(/<h2>(.*?)<\/h2>/, '<h3>$1</h3>')}
</details>`
}
