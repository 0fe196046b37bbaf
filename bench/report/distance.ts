import { esc, num, percent } from '../format.ts'
import type { ResultsFile } from '../contracts/results.ts'
import type { Line } from '../page/kit.ts'
import { distanceRows } from '../sim/distance.ts'

export function distanceFindings(r: ResultsFile): Line[] {
  return distanceRows(r)
    .filter((d) => d.measuredGrowthUs !== null)
    .map((d) => ({
      text:
        d.predictedGrowthUs > 0
          ? `${d.cell}: with ${num(d.addedUs / 1000, 2)} ms added to each of its ${d.storeReads} store round ` +
            `trip${d.storeReads === 1 ? '' : 's'} per request, its servers' p50 grew ` +
            `by ${num(d.measuredGrowthUs! / 1000, 2)} ms over ${d.twin} at ${num(d.rate, 0)} req/s: ${percent(Math.abs(d.errorShare!))} ${
              d.errorShare! >= 0 ? 'above' : 'below'
            } the ${num(d.predictedGrowthUs / 1000, 2)} ms the model (round trips x added RTT) predicts.`
          : `${d.cell}: no store round trip per request, so the ${num(d.addedUs / 1000, 2)} ms proxy should change nothing: its ` +
            `servers' p50 moved by ${num(d.measuredGrowthUs! / 1000, 2)} ms against ${d.twin} at ${num(d.rate, 0)} req/s.`,
      figures:
        `asked ${d.askedMs} ms, added ${num(d.addedUs, 0)} µs (PINGs in turn, through the proxy less straight to ` +
        `Redis)${d.proxyCpuUsPerChunk === null ? '' : `; the proxy's CPU ${num(d.proxyCpuUsPerChunk, 1)} µs per chunk forwarded`}`,
    }))
}

export function distanceHtml(r: ResultsFile): string {
  const rows = distanceRows(r)
  if (rows.length === 0) return ''
  const ms = (us: number | null) => (us === null ? '–' : num(us / 1000, 2))
  const body = rows.map(
    (d) =>
      `<tr><td>${esc(d.cell)}</td><td class="n">${d.askedMs}</td><td class="n">${num(d.addedUs, 0)}</td><td ` +
      `class="n">${d.proxyCpuUsPerChunk === null ? '–' : num(d.proxyCpuUsPerChunk, 1)}</td><td ` +
      `class="n">${d.storeReads}</td><td class="n">${num(d.rate, 0)}</td><td ` +
      `class="n">${ms(d.serverP50Us)} (${ms(d.twinServerP50Us)})</td><td class="n">${ms(d.measuredGrowthUs)}</td><td ` +
      `class="n">${ms(d.predictedGrowthUs)}</td><td ` +
      `class="n">${d.errorShare === null ? '–' : `${d.errorShare >= 0 ? '+' : ''}${percent(d.errorShare)}`}</td><td ` +
      `class="n">${d.latencyUs ? `${ms(d.latencyUs.p50)} / ${ms(d.latencyUs.p99)}` : '–'}</td></tr>`,
  )
  return `<h2>The store at a distance</h2>
<p>Cells marked <code>-rttNms</code> reach Redis through a TCP proxy (its own process, beside the load generator) that holds \
every chunk for half the round trip in each direction, in order. The round trip it really adds is measured before the cell runs \
(PINGs in turn through it, less PINGs straight to Redis); timers fire about a millisecond late, so the proxy waits the last \
stretch by polling, which keeps its core busy while anything is in flight (its CPU per chunk is shown). The model beside each \
measurement: a request's time grows by its store round trips times the added round trip; the servers' own request time \
(onRequest to onResponse) at the lowest equal rate is compared with the same cell without the proxy.</p>
<table><thead><tr><th>cell</th><th>asked ms</th><th>added µs (measured)</th><th>proxy CPU µs/chunk</th><th>store round trips per \
request</th><th>at req/s</th><th>server p50 ms (without proxy)</th><th>growth ms</th><th>predicted ms</th><th>off</th><th>client \
p50 / p99 ms</th></tr></thead><tbody>${body.join('\n')}</tbody></table>`
}
