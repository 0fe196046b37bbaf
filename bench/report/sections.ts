// The sections of the report a closed or open run shows (and the lifecycle's methodology): the
// comparison table, the open-loop table, the cost breakdown, the micro-benchmarks, every cell,
// and the methodology. Pure: results in, HTML out.
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { esc, num, percent } from '../format.ts'
import { STRATEGY_COLOR } from '../page/kit.ts'
import { storeDescriptors } from '../stores/index.ts'
import { descriptorOf } from '../strategies/index.ts'
import { CLIENT_BOUND_SHARE, CROSS_CHECK_REQUESTS } from '../contracts/results.ts'
import { costBreakdown, LARGE_REMAINDER_MIN_US, LARGE_REMAINDER_SHARE } from './breakdown.ts'
import { comparisonTable } from './comparison-table.ts'
import { EQUIVALENCE, presentsCredential } from './verdict.ts'

/** Client latency: the open loop's µs where this run has it (at its lowest rate), else autocannon's whole ms. */
function clientLatency(c: CellResult): string {
  const s = c.summary!
  const open = c.openLoop?.length ? [...c.openLoop].sort((a, b) => a.rate - b.rate)[0]! : null
  return open
    ? `${num(open.latencyUs.p50, 0)} µs / ${num(open.latencyUs.p99, 0)} µs / ${num(open.latencyUs.max, 0)} µs (open loop, ${num(open.rate, 0)}/s)`
    : `${num(s.latencyMs.p50, 0)} / ${num(s.latencyMs.p99, 0)} / ${num(s.latencyMs.max, 0)} ms (closed loop)`
}

/** A cell's instructions per request (its server's own), with its batches' range; '–' where not counted. */
function instructionsCell(c: CellResult): string {
  const i = c.summary?.instructionsPerRequest
  return i ? `${num(i.mean, 0)} (${num(i.low, 0)}–${num(i.high, 0)})` : '–'
}

export function resultsTable(cells: CellResult[]): string {
  const counted = cells.some((c) => c.summary?.instructionsPerRequest)
  const head = [
    'cell',
    'status',
    'req/s (interval)',
    ...(counted ? ["instructions/req, the server's (batches)"] : []),
    'CPU µs/req (interval)',
    'store CPU µs/req',
    'servers busy',
    'overhead µs over base (x base)',
    'reads / writes / deletes per req',
    'server µs p50 / p99',
    'client p50 / p99 / max',
    'bytes req / resp',
    '401 share',
    'RSS MiB',
  ]
  const rows = cells.map((c) => {
    const s = c.summary
    const status = `<span class="status-${c.status}">${c.status}</span>`
    if (!s) return `<tr><td>${esc(c.id)}</td><td>${status}</td><td colspan="${head.length - 2}">${esc(c.reason ?? '')}</td></tr>`
    const o = s.storeOpsPerRequest
    return `<tr><td><span class="swatch" style="background:${STRATEGY_COLOR[c.strategy]}"></span>${esc(c.id)}</td><td>${status}</td>
<td class="n">${num(s.rps.median, 0)} (${num(s.rps.ci95[0], 0)}–${num(s.rps.ci95[1], 0)})</td>${
      counted ? `<td class="n">${instructionsCell(c)}</td>` : ''
    }
<td class="n">${num(s.cpuUsPerRequest.median)} (${num(s.cpuUsPerRequest.ci95[0])}–${num(s.cpuUsPerRequest.ci95[1])})</td>
<td class="n">${s.storeCpuUsPerRequest ? num(s.storeCpuUsPerRequest.median) : '–'}</td>
<td class="n${s.clientBoundRounds ? ' bad' : ''}">${num(s.serverBusyShare * 100, 0)}%${
      s.clientBoundRounds ? ` (${s.clientBoundRounds} of ${c.rounds.length} window${c.rounds.length > 1 ? 's' : ''} client-bound)` : ''
    }</td>
<td class="n">${s.overheadUs ? num(s.overheadUs.median) : '–'} (${num(s.ratioToBaseline.cpu, 2)}x)</td>
<td class="n">${num(o.reads, 3)} / ${num(o.writes, 3)} / ${num(o.deletes, 3)}</td>
<td class="n">${num(s.serverTimeUs.p50, 0)} / ${num(s.serverTimeUs.p99, 0)}</td>
<td class="n">${clientLatency(c)}</td>
<td class="n">${num(s.bytesPerRequest.request, 0)} / ${num(s.bytesPerRequest.response, 0)}</td>
<td class="n">${num(s.status401Share * 100, 1)}%</td>
<td class="n">${num(s.rssBytes / 2 ** 20, 0)}</td></tr>${
      c.reason || c.note ? `<tr><td></td><td ` + `colspan="${head.length - 1}" class="note">${esc(c.reason ?? c.note)}</td></tr>` : ''
    }`
  })
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

export function openLoopHtml(results: ResultsFile): string {
  const cells = results.cells.filter((c) => c.openLoop?.length)
  if (cells.length === 0) return ''
  const ms = (us: number) => num(us / 1000, 2)
  const rows = cells.flatMap((c) =>
    c.openLoop!.map(
      (o) =>
        `<tr><td>${esc(c.id)}</td><td class="n">${num(o.rate, 0)}${
          o.fraction === null ? '' : ` (${num(o.fraction * 100, 0)}% of ` + `capacity)`
        }</td><td class="n">${num(o.achievedRate, 0)}</td><td class="n">${ms(o.latencyUs.p50)}</td><td \
class="n">${ms(o.latencyUs.p99)}</td><td class="n">${ms(o.latencyUs.p999)}</td><td class="n">${num(o.cpuUsPerRequest)}</td><td \
class="n">${num(o.serverBusyShare * 100, 0)}%</td><td class="n${o.heldRounds < o.rounds.length ? ' bad' : ''}">${o.heldRounds} of ${o.rounds.length}</td></tr>`,
    ),
  )
  return `<h2>Latency at a given load (open loop)</h2>
<p>Each cell driven on a schedule (${esc(results.scenario.load.arrivals)} arrivals): at the fixed rates every cell gets the same \
load, so CPU per request and latency compare at <em>equal load</em>; at fractions of its own closed-loop capacity (measured in \
the same round) each cell is walked up to its knee. Latency counts from each request's due time, in µs, so a server that stalls \
is charged for every request it made wait; autocannon's whole-millisecond closed-loop latency in the table further down is for \
reference only. "Rate held" counts the rounds in which the driver sent at least 95% of the requests due with a send lag p99 under 10 ms.</p>
<table><thead><tr><th>cell</th><th>offered req/s</th><th>achieved req/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 \
ms</th><th>CPU µs/req</th><th>servers busy</th><th>rate held</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

export function comparisonHtml(results: ResultsFile): string {
  const t = comparisonTable(results)
  return `<table><thead><tr><th>question</th><th>the explainer says</th>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>
${t.rows
  .map(
    (r) =>
      `<tr><th>${esc(r.question)}</th><td ` +
      `class="muted">${esc(r.claim)}</td>${r.answers.map((a) => `<td>${esc(a)}</td>`).join('')}</tr>`,
  )
  .join('\n')}
</tbody></table>`
}

const overheadInterval = (results: ResultsFile, id: string) => {
  const o = results.cells.find((c) => c.id === id)?.summary?.overheadUs
  return o && o.ci95[0] !== o.ci95[1] ? ` (${num(o.ci95[0])}–${num(o.ci95[1])})` : ''
}

export function breakdownHtml(results: ResultsFile): string {
  const rows = costBreakdown(results)
  if (!results.micro)
    return '<p class="muted">This run did not include the micro-benchmarks (scenario field <code>micro: true</code>), so there is no cost breakdown.</p>'
  const body = rows.map((b) =>
    b.missing
      ? `<tr><td>${esc(b.id)}</td><td class="n">${num(b.measuredUs)}</td><td colspan="4" class="muted">${esc(b.missing)}</td></tr>`
      : `<tr><td>${esc(b.id)}</td><td class="n">${num(b.measuredUs)}</td><td class="n">${num(b.overheadUs)}${overheadInterval(results, b.id)}</td><td>${
          b.parts
            .slice(1)
            .map((p) => `${esc(p.label)} ${num(p.us, p.us < 1 ? 3 : 1)}`)
            .join(' + ') || '–'
        }</td><td class="n">${num(b.explainedUs - b.parts[0]!.us)}</td><td \
class="n${b.large ? ' bad' : ''}">${num(b.remainderUs)}${
          b.remainderShareOfOverhead === null ? '' : ` (${num(b.remainderShareOfOverhead * 100, 0)}%)`
        }</td></tr>`,
  )
  const large = rows.filter((b) => b.large)
  const gaps = rows.filter((b) => b.overheadUs !== null && b.parts[0] && Math.abs(b.parts[0].us + b.overheadUs - b.measuredUs) > 0.5)
  return `<p>Each cell's overhead is its CPU per request less the mean of the two baseline windows around it (the framework, \
routing and serialization, and any users-table read), per round, median over rounds, so that the machine's drift cancels (the \
figure the chart stacks on the baseline). ${
    gaps.length
      ? `A median of differences is not a difference of medians: the baseline's median plus a cell's overhead differs from its ` +
        `measured median by more than 0.5 µs for ${esc(gaps.map(gapWords).join(', '))}. `
      : "Here the baseline's median plus each overhead equals the cell's measured median within 0.5 µs. "
  }Next \
to it, the primitives the strategy adds, timed by the micro-benchmarks on the same machine in the same run (their CPU time per \
operation, all threads counted), and the remainder they do not explain, shown rather than hidden. The remainder holds what a \
primitive timed alone in a hot loop cannot: a larger header to parse and copy, scheduling, allocation and garbage collection, \
caches that a real request finds colder. A negative remainder means the primitives timed alone cost more than the overhead \
measured; where its size is within the overhead's own interval (shown beside it) it is noise, not a finding.</p>
<table><thead><tr><th>cell</th><th>measured µs</th><th>overhead over baseline µs</th><th>its primitives (µs)</th><th>sum \
µs</th><th>remainder µs (share of overhead)</th></tr></thead><tbody>${body.join('\n')}</tbody></table>
${
  large.length
    ? `<p class="warn">Unexplained by the primitives (more than ${num(LARGE_REMAINDER_SHARE * 100, 0)}% of the ` +
      `overhead and more than ${LARGE_REMAINDER_MIN_US} µs, even at the low end of the overhead's ` +
      `interval): ${esc(large.map((b) => `${b.id} spends ${num(b.remainderUs)} µs per request beyond its primitives`).join('; '))}.</p>`
    : ''
}`
}

export function microHtml(results: ResultsFile): string {
  const micro = results.micro
  if (!micro) return ''
  return `<details><summary>Micro-benchmarks (${micro.tasks.length} tasks${
    micro.quick ? ', quick mode: a short time budget per ' + 'task; <code>npm run bench:micro</code> runs the full ' + 'one' : ''
  })</summary><table><thead><tr><th>task</th><th>group</th><th>mean µs (wall)</th><th>p99 µs</th><th>CPU µs</th><th>ops/s</th></tr></thead><tbody>
${micro.tasks
  .map(
    (t) =>
      `<tr><td>${esc(t.name)}</td><td>${esc(t.group)}</td>${
        t.status === 'ok'
          ? `<td ` +
            `class="n">${num(t.meanUs, 3)}</td><td class="n">${num(t.p99Us, 3)}</td><td class="n">${num(t.cpuUs, 3)}</td><td ` +
            `class="n">${num(t.opsPerSecond, 0)}</td>`
          : `<td colspan="4" class="muted">${esc(t.status)}: ${esc(t.reason)}</td>`
      }</tr>`,
  )
  .join('\n')}
</tbody></table></details>`
}

const gapWords = (b: { id: string; parts: { us: number }[]; overheadUs: number | null; measuredUs: number }) =>
  `${b.id} (${num(b.parts[0]!.us + b.overheadUs!)} vs ${num(b.measuredUs)} µs)`

/** Whether this run's windows wrote to a store, so whether its durability settings entered their cost: counted, not assumed. */
function durabilityWords(results: ResultsFile, kind: string): string {
  const cells = results.cells.filter((c) => c.store === kind && c.status === 'ok' && c.summary && descriptorOf(c).state === 'server')
  if (!cells.length) return ''
  const writes = Math.max(...cells.flatMap((c) => c.rounds.map((r) => r.storeOpsPerRequest.writes)))
  return writes === 0
    ? "A production server keeps durability on; this run's windows wrote nothing to this store, so these settings did not enter their cost."
    : `A production server keeps durability on; this run's windows wrote to this store (up to ${num(writes, 3)} writes per request in a ` +
        'window), so what those writes cost here is without it.'
}

/** Each store process the run used, and the settings the harness started it with, as it recorded them. */
function storesHtml(results: ResultsFile): string {
  const stores = (results.environment.stores ?? []).filter((s) => s.description)
  return stores
    .map(
      (s) =>
        `<li>Store ${esc(s.kind)}: ${esc(s.description!)}${
          s.settings
            ? `; settings: ${Object.entries(s.settings)
                .map(([k, v]) => `<code>${esc(k)}=${esc(v.value)}</code> (${esc(v.why)})`)
                .join(', ')}. ${durabilityWords(results, s.kind)}`
            : ''
        }</li>`,
    )
    .join('\n')
}

const SETTING_KIND = {
  'plain-http': 'for plain HTTP',
  cookie: 'the cookie',
  tuned: 'tuned',
  default: 'left at its default',
} as const

/** Each library session cell's configuration as its servers ran it: what differs from its README's, with why. */
function librariesHtml(results: ResultsFile): string {
  return results.cells
    .filter((c) => c.library)
    .map((c) => {
      const l = c.library!
      const settings = l.settings
        .map((s) => `<code>${esc(s.setting)}: ${esc(s.value)}</code> (${SETTING_KIND[s.kind]}: ${esc(s.why)})`)
        .join('; ')
      return (
        `<li>Session library in ${esc(c.id)}: ${esc(l.library)} (${esc(l.preset)}) on ${esc(l.adapter)}, its cookie ` +
        `<code>${esc(l.cookieName)}</code> presented by every client; the adapter offers: ${esc(l.adapterOffers)}. Settings ` +
        `apart from its README's configuration: ${settings}.</li>`
      )
    })
    .join('\n')
}

/** The stores of this run that ran as processes of their own (pinned beside the load generator), as ` and Redis, PostgreSQL`. */
function storesApart(results: ResultsFile): string {
  const labels = [
    ...new Set(
      results.cells.flatMap((c) =>
        c.store && c.status !== 'skipped' && storeDescriptors[c.store].placement === 'same-host' ? [storeDescriptors[c.store].label] : [],
      ),
    ),
  ]
  return labels.length ? ` and ${labels.join(', ')}` : ''
}

/** How far the baseline's requests/s and CPU per request moved across its windows in this run, computed. */
function spreadWords(results: ResultsFile): string {
  const base = results.cells.find((c) => c.id === results.scenario.baseline && c.status === 'ok')
  if (!base || base.rounds.length < 2) return 'the baseline has fewer than two windows, so no spread is stated.'
  const range = (xs: number[]) => Math.max(...xs) / Math.min(...xs)
  const rps = range(base.rounds.map((r) => r.rps))
  const cpu = range(base.rounds.map((r) => r.cpuUsPerRequest))
  return (
    `the baseline (${esc(base.id)}) did the same requests in each of its ${base.rounds.length} windows, and its requests/s ` +
    `ranged ${num(rps, 2)}x lowest to highest while its CPU per request ranged ${num(cpu, 2)}x` +
    `${cpu < rps ? ', the steadier of the two here' : rps < cpu ? ', the less steady of the two here' : ''}.`
  )
}

export function methodology(results: ResultsFile): string {
  const e = results.environment
  const l = results.scenario.load
  const nc = results.noiseControl
  const clientBound = results.cells
    .filter((c) => c.summary?.clientBoundRounds)
    .map(
      (c) =>
        `${c.id} (${c.summary!.clientBoundRounds} of ${c.rounds.length} windows, ${num(c.summary!.serverBusyShare * 100, 0)}% busy at the median)`,
    )
  const pk = Object.entries(e.packages)
    .map(([k, v]) => `${k} ${v ?? 'missing'}`)
    .join(', ')
  const aff = e.cpuAffinity
    ? `load generator${storesApart(results)} pinned to CPU ${e.cpuAffinity.client}, servers to CPU ${e.cpuAffinity.server}`
    : 'processes not pinned to CPUs'
  return `<ul>
<li>Machine: ${esc(e.cpus.count)} logical CPUs \
(${esc(e.cpus.model)}), ${num(e.memoryBytes / 2 ** 30, 0)} GiB, ${esc(e.os)}; Node.js ${esc(e.node)}${
    e.redisServer ? `; Redis ${esc(e.redisServer)} installed` : ''
  }; ${esc(aff)}.</li>
<li>Versions: ${esc(pk)}; commit <code>${esc(e.gitCommit ?? 'unknown')}</code>${e.gitDirty ? ' (with uncommitted changes)' : ''}.</li>
<li>Load: autocannon, closed loop, ${l.connections} connections, ${l.warmupSeconds} s warm-up before a cell's first window, \
then ${l.durationSeconds} s windows, ${l.rounds} round${l.rounds > 1 ? 's' : ''}. ${
    presentsCredential(results)
      ? `Requests ` + `rotate over ${results.scenario.workload.users} logged-in users`
      : `Requests rotate ` + `over ${results.scenario.workload.users} users logging in, each a new visitor (no cookie presented or kept)`
  }, each \
connection cycling through its own share of them, so every window reaches the whole pool.</li>
<li>Noise control (${esc(nc.method)}): in every round the other cells run in an order shuffled with seed ${nc.seed}, each \
between two windows of the baseline (${esc(results.scenario.baseline)}); a cell's ratio to the baseline is taken against the \
mean of those two, so drift slower than a few seconds cancels. When the two disagreed by more \
than ${percent(nc.bracketTolerance)}, the cell's window and one more baseline window after it were measured again (its new \
bracket is the earlier after-window and that new one; at most ${nc.maxRepeats} times; the last reading \
stands): ${nc.repeats} window${nc.repeats === 1 ? ' was' : 's were'} measured again in this \
run${nc.repeats ? " (every one of them is kept in results.json, in its round's <code>repeatedWindows</code>)" : ''}. The rule \
reads only the two baseline windows, never the cell's own figure, so it cannot favour one value of a cell over \
another.${
    nc.bracketSpread
      ? ` The two baseline windows around a cell differed by ${percent(nc.bracketSpread.median)} at the ` +
        `median, ${percent(nc.bracketSpread.max)} at most.`
      : ''
  }</li>
<li>Saturation: each window records the servers' busy share (CPU time over the window and the CPUs they may use). A closed loop \
measures CPU per request at saturation only when the client keeps the servers busy; a window \
under ${percent(CLIENT_BOUND_SHARE)} is flagged client-bound, and no comparison between cells uses a round in which either \
window was.${clientBound.length ? ` Client-bound here: ${esc(clientBound.join(', '))}.` : ''}</li>
<li>CPU per request: each server's process CPU time (user + system) over the window divided by the requests it started; read \
over IPC before and after the window. Server time: an HDR histogram from onRequest to onResponse, in µs.</li>
${storesHtml(results)}
${librariesHtml(results)}
${
  results.cells.some((c) => c.summary?.storeCpuUsPerRequest)
    ? "<li>Store CPU: the store process's own CPU over the same window " +
      "(Redis: INFO cpu, checked against the kernel's account of the process in the tests; PostgreSQL: the scheduler's account of " +
      "every process it runs, a backend per connection), stacked on the servers' in the chart; in-process stores are inside the " +
      "servers' figure.</li>"
    : "<li>Store CPU: every store measured here ran inside the servers' processes, so its CPU is " +
      "inside the servers' figure; no store process ran.</li>"
}
<li>Verification: before measuring, no credential must give 401 and a fresh one 200; an extra instance started with SQLite's \
statement trace serves ${CROSS_CHECK_REQUESTS} requests, and every counted store operation must show in that trace or in the \
store's own counts; after each window the counted store operations per request must equal the contract (and Redis's INFO \
commandstats must agree on reads, writes and deletes), and there must be no non-2xx answer, error or timeout, or the cell is marked invalid.</li>
<li>Intervals: the interval of a median over rounds from order statistics, labelled with its coverage: with fewer than 6 rounds \
it is the range of the rounds (75% for 3 rounds, 94% for 5). They are within-run intervals: they say how much the rounds of this \
run agreed, not how far another run will land (for that, <code>npm run compare</code> uses the run-to-run spread measured on this machine).</li>
<li>Findings compare two cells by their paired per-round ratio (the two cells' windows of the same round; a round in which \
either window was client-bound is left out) and read its interval against a ±${EQUIVALENCE * 100}% band: "ahead" where it lies \
wholly outside, "equal" wholly inside, "unresolved" where it crosses an edge.</li>
<li>Spread in this run (${
    e.cpuAffinity
      ? `the load generator ran on CPU ${esc(e.cpuAffinity.client)} and the servers on CPU ${esc(e.cpuAffinity.server)}, but the ` +
        `host's other load reaches both`
      : 'the load generator and the servers shared every CPU'
  }): ${spreadWords(results)}</li>
<li>Run ${esc(results.startedAt)} to ${esc(results.finishedAt)}, scenario file <code>${esc(results.scenario.file)}</code>.</li>
</ul>`
}

export function lifecycleMethodology(results: ResultsFile): string {
  const e = results.environment
  const pk = Object.entries(e.packages)
    .map(([k, v]) => `${k} ${v ?? 'missing'}`)
    .join(', ')
  const aff = e.cpuAffinity
    ? `the lifecycle driver${storesApart(results)} pinned to CPU ${e.cpuAffinity.client}, servers to CPU ${e.cpuAffinity.server}`
    : 'processes not pinned to CPUs'
  return `<ul>
<li>Machine: ${esc(e.cpus.count)} logical CPUs \
(${esc(e.cpus.model)}), ${num(e.memoryBytes / 2 ** 30, 0)} GiB, ${esc(e.os)}; Node.js ${esc(e.node)}${
    e.redisServer ? `; Redis ${esc(e.redisServer)} installed` : ''
  }; ${esc(aff)}.</li>
<li>Versions: ${esc(pk)}; commit <code>${esc(e.gitCommit ?? 'unknown')}</code>${e.gitDirty ? ' (with uncommitted changes)' : ''}.</li>
<li>Each cell, in an order shuffled with seed ${results.noiseControl.seed}: its servers started and verified (no credential 401, \
a fresh one 200, every counted store operation seen in SQLite's statement trace or Redis's own counts), then the virtual users' \
warm-up, the measured window of ${results.scenario.workload.durationSeconds ?? '–'} s (${results.scenario.load.rounds} round${
    results.scenario.load.rounds > 1 ? 's' : ''
  }), and a drain in which only the thieves go on.</li>
<li>The figures here are counts (exact), lags (resolved to the thief's probe interval) and open-loop latencies; CPU per request \
is every request the servers answered in the window, of every kind, and is not bracketed against a baseline.</li>
<li>Run ${esc(results.startedAt)} to ${esc(results.finishedAt)}, scenario file <code>${esc(results.scenario.file)}</code>.</li>
</ul>`
}
