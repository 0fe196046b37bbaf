import { esc, num } from '../format.ts'
import type { Simulation } from '../sim/index.ts'

/** The report's pointer to the fleet model calibrated from the same run, with its verdict on itself. Pure. */
export function simulationSection(sim: Simulation | null, asked: boolean): string {
  if (!sim) return asked ? '<h2>Fleet model</h2><p class="warn">The scenario asked for the fleet model (<code>simulate: true</code>), but it was not written: see the run\'s output for the reason (the model needs open-loop points or the lifecycle workload).</p>' : ''
  const judged = sim.validation.filter((v) => v.holds !== null && !v.calibration)
  const held = judged.filter((v) => v.holds).length
  const worst = [...judged].sort((a, b) => Math.max(Math.abs(b.errorPct.p50), Math.abs(b.errorPct.p99)) - Math.max(Math.abs(a.errorPct.p50), Math.abs(a.errorPct.p99)))[0]
  return `<h2>Fleet model</h2>
<p>The fleet model calibrated from this run (<a href="simulation.html">its page</a>, <a href="simulation.json">simulation.json</a>): N app instances behind a round-robin balancer, one store, the network a delay per store call. ${judged.length ? `Checked against this run's open-loop points it holds (p50 and p99 within ±${sim.model.toleratedErrorPct}%) at <strong>${held} of ${judged.length}</strong> points at or under ${sim.model.judgedLoad * 100}% load${worst ? `; the furthest off: ${esc(worst.cell)} at ${num(worst.rate, 0)}/s, p50 ${num(worst.errorPct.p50, 0)}%, p99 ${num(worst.errorPct.p99, 0)}% (${esc(worst.why ?? '')})` : ''}.` : 'This run had no open-loop point to check its latency against.'}${sim.faults.length ? ` ${sim.faults.length} fault episodes predicted beside the measured timelines.` : ''}</p>
<ul>${sim.crossovers.map((c) => `<li>${esc(c.text)}</li>`).join('')}</ul>`
}
