import { esc, num, percent } from '../format.ts'
import { descriptorOf } from '../strategies/index.ts'
import type { CellResult, LifecycleSummary, ResultsFile } from '../contracts/results.ts'
import type { ChartSpec, Line } from '../page/kit.ts'

type Lived = CellResult & { lifecycle: LifecycleSummary }

/** Cells of a lifecycle run with figures to show. */
const livedCells = (r: ResultsFile): Lived[] => r.cells.filter((c): c is Lived => c.status === 'ok' && c.lifecycle !== null)

/** A line of the charts: cells that differ only in their credential lifetime, by lifetime. */
export interface LifecycleLine {
  key: string
  label: string
  cells: Lived[]
  /** The credential's lifetime does not apply (sessions): one flat line. */
  flat: boolean
  color: string
}

const opsPerSecond = (l: LifecycleSummary) => l.storeOpsPerSecond.reads + l.storeOpsPerSecond.writes + l.storeOpsPerSecond.deletes
const writesPerSecond = (l: LifecycleSummary) => l.storeOpsPerSecond.writes + l.storeOpsPerSecond.deletes

export function lifecycleLines(r: ResultsFile): LifecycleLine[] {
  const lines = new Map<string, LifecycleLine>()
  const shade = new Map<string, number>()
  for (const c of livedCells(r)) {
    const key = c.id.replace(/-ttl\d+s/, '')
    let line = lines.get(key)
    if (!line) {
      const d = descriptorOf(c)
      const i = shade.get(c.strategy) ?? 0
      shade.set(c.strategy, i + 1)
      line = { key, label: key, cells: [], flat: c.accessTtlSeconds === null, color: d.colors[i % d.colors.length]! }
      lines.set(key, line)
    }
    line.cells.push(c)
  }
  for (const l of lines.values()) l.cells.sort((a, b) => (a.accessTtlSeconds ?? 0) - (b.accessTtlSeconds ?? 0))
  return [...lines.values()]
}

/** Least squares of y = a + b / x over the points: a line's store operations per second against the lifetime. */
export function fitInverse(points: { x: number; y: number }[]): { a: number; b: number } | null {
  if (points.length < 2) return null
  const us = points.map((p) => 1 / p.x)
  const n = points.length
  const mu = us.reduce((s, u) => s + u, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const sxx = us.reduce((s, u) => s + (u - mu) ** 2, 0)
  if (sxx === 0) return null
  const b = points.reduce((s, p, i) => s + (us[i]! - mu) * (p.y - my), 0) / sxx
  return { a: my - b * mu, b }
}

/**
 * Where a refreshing line (a + b / TTL store operations per second) meets a flat one (S): TTL* =
 * b / (S - a). Below it the refreshes cost the store more than the flat line's per-request reads.
 * Null when they never meet (the refreshing line is above or below at every lifetime).
 */
export function breakEvenTtl(fit: { a: number; b: number }, flat: number): number | null {
  if (fit.b <= 0 || flat <= fit.a) return null
  return fit.b / (flat - fit.a)
}

const ttlRange = (lines: LifecycleLine[]) => {
  const ttls = lines.flatMap((l) => l.cells.flatMap((c) => (c.accessTtlSeconds === null ? [] : [c.accessTtlSeconds])))
  return ttls.length ? ([Math.min(...ttls), Math.max(...ttls)] as const) : null
}

function lineDataset(
  l: LifecycleLine,
  y: (s: LifecycleSummary) => number | null,
  range: readonly [number, number],
  dashed = false,
): Record<string, unknown> {
  const data = l.flat
    ? [range[0], range[1]].map((x) => ({ x, y: y(l.cells[0]!.lifecycle) }))
    : l.cells.map((c) => ({ x: c.accessTtlSeconds, y: y(c.lifecycle) }))
  return {
    label: l.flat ? `${l.label} (no lifetime: flat)` : l.label,
    data,
    borderColor: l.color,
    backgroundColor: l.color,
    showLine: true,
    fill: false,
    pointRadius: l.flat ? 0 : 3,
    borderDash: l.flat || dashed ? [6, 4] : [],
  }
}

export const lineOptions = (yTitle: string, log = false) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { display: true, position: 'bottom' } },
  scales: {
    x: { type: 'linear', title: { display: true, text: 'credential lifetime (access-token TTL; sealed cookie idle timeout), s' } },
    y: { type: log ? 'logarithmic' : 'linear', beginAtZero: !log, title: { display: true, text: yTitle } },
  },
})

/** The break-even sentences: where each refreshing line meets each session line, measured or by the fitted curve. */
export function breakEvens(r: ResultsFile): { text: string; figures: string }[] {
  const lines = lifecycleLines(r)
  const w = r.scenario.workload
  const rate = w.requestsPerUserPerSecond ?? 1
  const out: { text: string; figures: string }[] = []
  for (const flat of lines.filter((l) => l.flat)) {
    const s = opsPerSecond(flat.cells[0]!.lifecycle)
    for (const line of lines.filter((l) => !l.flat && l.cells.some((c) => c.lifecycle.refreshes > 0))) {
      const pts = line.cells.map((c) => ({ x: c.accessTtlSeconds!, y: opsPerSecond(c.lifecycle) }))
      const fit = fitInverse(pts)
      if (!fit) continue
      const ttl = breakEvenTtl(fit, s)
      const figures =
        `${flat.label}: ${num(s, 0)} store ` +
        `ops/s; ${line.label}: ${pts.map((p) => `${num(p.y, 0)} at ${p.x} s`).join(', ')}; fitted ${num(fit.a, 0)} + ${num(fit.b, 0)}/TTL`
      const range = ttlRange([line])!
      const writes = (c: Lived) => writesPerSecond(c.lifecycle)
      const flatWrites = writesPerSecond(flat.cells[0]!.lifecycle)
      const [shortest, longest] = [line.cells[0]!, line.cells[line.cells.length - 1]!]
      const writeNote =
        ` In writes ` +
        `alone, ${line.label} made ${num(writes(shortest), 0)}/s at ${shortest.accessTtlSeconds} s and ${num(
          writes(longest),
          0,
        )}/s at ${longest.accessTtlSeconds} s against ${num(flatWrites, 0)}/s for ${flat.label}: refresh rotation writes where a session reads.`
      // An asymptote within 5% of the flat line: the refreshing line carries the same per-request reads (a denylist).
      if (Math.abs(fit.a - s) / s < 0.05 || ttl === null || ttl > 2 * range[1]) {
        const same = Math.abs(fit.a - s) / s < 0.05
        out.push({
          text: same
            ? `${line.label} reads the store on every request as ${flat.label} does and writes on every refresh besides: its ` +
              `line comes down to within 5% of ${flat.label}'s as the lifetime grows (fitted ` +
              `asymptote ${num(fit.a, 0)} against ${num(s, 0)} operations/s) and lies above it at short lifetimes: it never ` +
              `spares the store much.${writeNote}`
            : `${line.label} does ${fit.a + fit.b / range[1] >= s ? 'more' : 'fewer'} store operations per second ` +
              `than ${flat.label} at every lifetime measured (${range[0]}-${range[1]} s): the lines do not cross there.${writeNote}`,
          figures,
        })
        continue
      }
      const where =
        ttl < range[0]
          ? `below the shortest lifetime measured (${range[0]} s), by the fitted curve`
          : ttl > range[1]
            ? `above the longest lifetime measured (${range[1]} s), by the fitted curve`
            : 'within the lifetimes measured'
      out.push({
        text:
          `Break-even lifetime at ${num(rate, rate < 1 ? 2 : 0)} request${rate === 1 ? '' : 's'} per user per ` +
          `second: ${line.label} costs the store fewer operations per second than ${flat.label} once its access token lives ` +
          `longer than ${num(ttl, 1)} s (${where}), that is beyond about ${num(ttl * rate, 1)} requests per token lifetime; ` +
          `shorter-lived tokens refresh (and write) more often than sessions read.${writeNote}`,
        figures,
      })
    }
  }
  return out
}

/**
 * The lag on every instance beside the cache that causes it: the time from a logout until each instance, asked directly,
 * refused the copy; set against the cache's configured TTL (its longest possible lag) when the cell has one.
 */
function everyInstanceLine(c: Lived): Line[] {
  const e = c.lifecycle.everyInstanceLagMs
  if (!e) return []
  const cache = descriptorOf(c).instanceCache?.(c) ?? null
  const s = (v: number | null) => (v === null ? '–' : num(v / 1000, 2))
  const over = `over ${e.samples} logouts, each copy presented to all ${e.instances} instances directly every ${e.probeIntervalMs} ms`
  const figures = `${over}; ${e.censored} still working on some instance when the thieves stopped`
  if (e.samples === 0)
    return [{ text: `${c.id}: no logged-out copy was refused by every instance within the run (${e.censored} censored).`, figures }]
  const measured =
    `a logged-out copy was refused by every one of its ${e.instances} instances after ${s(e.p50)} s at the median ` +
    `(p99 ${s(e.p99)} s, max ${s(e.max)} s)`
  if (!cache) return [{ text: `${c.id}: ${measured}.`, figures }]
  if (cache.keepsSeconds === 0)
    return [
      {
        text:
          `${c.id}, with ${cache.name}: ${e.refusedAtFirst} of ${e.samples} logged-out copies were refused by every one of its ` +
          `${e.instances} instances the first time (max ${num(e.max, 2)} ms after the logout): ` +
          `${e.refusedAtFirst === e.samples ? 'the cache added no lag' : 'some instance served a copy after the logout'} (${cache.why}).`,
        figures,
      },
    ]
  const ttlMs = cache.keepsSeconds * 1000
  return [
    {
      text:
        `${c.id}, with ${cache.name}: ${measured}, against its configured ${cache.keepsSeconds} s TTL: the longest lag is ` +
        `${percent(e.max! / ttlMs)} of the TTL and the median ${percent(e.p50! / ttlMs)} (an entry's age at the logout is ` +
        `anywhere from 0 to the TTL, so its remaining time averages half of it; ${cache.why}).`,
      figures,
    },
  ]
}

/** The lifecycle run's answer box: lags, refresh counts, break-even, races and storms, each from the figures. */
export function lifecycleFindings(r: ResultsFile): Line[] {
  const cells = livedCells(r)
  const out: Line[] = []
  for (const c of cells) {
    const l = c.lifecycle
    const lag = l.revocationLagMs
    if (lag.samples === 0) {
      if (l.logouts > 0)
        out.push({
          text:
            `${c.id}: no logged-out credential was refused within the run (${lag.censored} still working when the thieves ` +
            `stopped, ${r.cells.find((x) => x.id === c.id)?.lifecycle?.rounds[0]?.drainSeconds ?? '?'} s after the window).`,
          figures: `${l.logouts} logouts`,
        })
      continue
    }
    const expected = l.expected.lagMedianMs
    // An instance that cached the credential may still serve it: the first refusal is then not every instance's (below).
    const cachedSomewhere = l.everyInstanceLagMs && l.everyInstanceLagMs.refusedAtFirst < l.everyInstanceLagMs.samples
    if (expected === 0) {
      out.push({
        text:
          `${c.id}: a logged-out credential${cachedSomewhere ? ', presented where its user sent its requests,' : ''} was refused at once: revocation lag ` +
          `p50 ${num(lag.p50, 2)} ms, p99 ${num(lag.p99, 2)} ms over ${lag.samples} logouts${lag.p99 !== null && lag.p99 < 50 ? ' (under 50 ms)' : ''}.`,
        figures: `the thief's first request, sent as the logout was answered; ${lag.censored} censored`,
      })
    } else {
      const ttl = l.accessTtlSeconds!
      const off = (lag.p50! - expected) / expected
      const offHalf = (lag.p50! - (ttl * 1000) / 2) / ((ttl * 1000) / 2)
      out.push({
        text:
          `${c.id}: a logged-out credential kept working for ${num(lag.p50! / 1000, 2)} s at the median ` +
          `(p99 ${num(lag.p99! / 1000, 2)} s) with a ${ttl} s ` +
          `lifetime: ${percent(Math.abs(off))} ${off >= 0 ? 'above' : 'below'} the ${num(expected / 1000, 2)} s its remaining ` +
          `lifetime predicts, ${percent(Math.abs(offHalf))} ${offHalf >= 0 ? 'above' : 'below'} TTL/2.`,
        figures: `${lag.samples} logouts, thief probing every ${lag.probeIntervalMs} ms, ${lag.censored} censored`,
      })
    }
  }
  for (const c of cells) out.push(...everyInstanceLine(c))
  for (const c of cells.filter((x) => x.lifecycle.expected.refreshes !== null && x.lifecycle.expected.refreshes > 0)) {
    const l = c.lifecycle
    const e = l.expected.refreshes!
    const naive = l.expected.refreshesAtTtl!
    out.push({
      text:
        `${c.id}: ${l.refreshes} refreshes, ${percent(Math.abs(l.refreshes - e) / e)} ${l.refreshes >= e ? 'above' : 'below'} the ${num(e, 0)} its ` +
        `client's policy predicts (a refresh ` +
        `every ${num(l.expected.refreshIntervalSeconds, 2)} s), ${percent(Math.abs(l.refreshes - naive) / naive)} ${
          l.refreshes >= naive ? 'above' : 'below'
        } users x duration / TTL (${num(naive, 0)}).`,
      figures:
        `${l.users} users, ${l.durationSeconds} s, refresh ${r.scenario.workload.refreshMarginSeconds ?? 0.5} s before a ` +
        `whole-second exp${
          c.refreshJitterSeconds ? ` minus up ` + `to ${c.refreshJitterSeconds} s of jitter` : ''
        }; ${l.storeOpsPerSecond.writes.toFixed(0)} writes/s`,
    })
  }
  for (const b of breakEvens(r)) out.push(b)
  for (const c of cells.filter((x) => x.lifecycle.races.attempted > 0)) {
    const { attempted, familyRevoked } = c.lifecycle.races
    out.push({
      text:
        `${c.id}: of ${attempted} refreshes sent by two tabs at ` +
        `once, ${familyRevoked} (${percent(familyRevoked / attempted)}) ended with the family revoked and the user logged out: ` +
        `reuse detection ${
          c.refreshGraceSeconds ? `with a ${c.refreshGraceSeconds} s grace window` : 'without a grace ' + 'window'
        } reads a race as theft${familyRevoked === 0 ? ' only outside its window' : ''}.`,
      figures:
        `${c.lifecycle.forcedLogins} forced logins; refresh ` +
        `failures: ${c.lifecycle.refreshFailuresBy.invalidGrant} invalid_grant, ${c.lifecycle.refreshFailuresBy.unavailable} store unavailable`,
    })
  }
  if (r.scenario.workload.synchronized) {
    for (const c of cells.filter((x) => x.lifecycle.refreshes > 0)) {
      const l = c.lifecycle
      const p = l.duringPeak
      out.push({
        text:
          `${c.id}: with every user logged in at once, refreshes peaked ` +
          `at ${num(l.refreshRate.peakPerSecond, 0)}/s (mean ${num(l.refreshRate.meanPerSecond, 0)}/s)${
            p.latencyUsP99 !== null && p.otherLatencyUsP99 !== null
              ? `; GETs due in a refresh storm (or the half second after it) had ` +
                `p99 ${num(p.latencyUsP99 / 1000, 2)} ms against ${num(p.otherLatencyUsP99 / 1000, 2)} ms the rest of the window ` +
                `once the mass login had been answered`
              : '; no 100 ms held five times the mean refresh rate: no storm'
          }.`,
        figures: `peak over 100 ms buckets, as a rate; ${c.refreshJitterSeconds ? `refresh jitter up to ${c.refreshJitterSeconds} s` : 'no refresh jitter'}`,
      })
    }
  }
  return out
}

/** The lifecycle charts: store operations and writes against the lifetime, the revocation lag, and (for storms) refreshes over time. */
export function lifecycleCharts(r: ResultsFile): ChartSpec[] {
  const lines = lifecycleLines(r)
  const range = ttlRange(lines)
  if (!range || lines.length === 0) return []
  const rate = r.scenario.workload.requestsPerUserPerSecond ?? 1
  const be = breakEvens(r)
    .map((b) => b.text)
    .join(' ')
  const charts: ChartSpec[] = [
    {
      id: 'lifecycle-store-ops',
      title: 'Store operations per second against the credential lifetime',
      caption:
        `Reads, writes and deletes per second counted by the servers over the measured ` +
        `window, ${r.scenario.workload.users} users at ${rate} GET/s each, with their logins, refreshes, logouts and the ` +
        `thieves' probes. Sessions (dashed, flat) read on every request whatever the lifetime; JWTs write on every refresh, so ` +
        `their line falls as the token lives longer; a denylist adds a read per request. ${be}`,
      config: {
        type: 'line',
        data: { datasets: lines.map((l) => lineDataset(l, opsPerSecond, range)) },
        options: lineOptions('store operations per second'),
      },
    },
    {
      id: 'lifecycle-store-writes',
      title: 'Store writes and deletes per second against the credential lifetime',
      caption:
        'The writing part of the line above: refresh rotation (mark the old token used, record the new one), logins, logouts, ' +
        'denylist entries, session renewals. Writes are what a replicated or persisted store pays most for.',
      config: {
        type: 'line',
        data: { datasets: lines.map((l) => lineDataset(l, writesPerSecond, range)) },
        options: lineOptions('store writes + deletes per second'),
      },
    },
    {
      id: 'lifecycle-lag',
      title: 'Revocation lag against the credential lifetime',
      caption:
        'How long a copy of a logged-out credential kept working: the thief presents it as the logout is answered, then again at ' +
        'intervals, until it is refused. Median solid, p99 dashed; grey: TTL/2, where the median of a plain JWT should sit ' +
        '(the remaining lifetime at a random moment is spread evenly over the lifetime). Sessions and denylists sit at zero; ' +
        'a sealed cookie lives on for its idle timeout after its last re-seal.',
      config: {
        type: 'line',
        data: {
          datasets: [
            ...lines.flatMap((l) => [
              lineDataset(l, (s) => (s.revocationLagMs.p50 === null ? null : s.revocationLagMs.p50 / 1000), range),
              {
                ...lineDataset(l, (s) => (s.revocationLagMs.p99 === null ? null : s.revocationLagMs.p99 / 1000), range, true),
                label: `${l.label} p99`,
              },
            ]),
            {
              label: 'TTL/2',
              data: [range[0], range[1]].map((x) => ({ x, y: x / 2 })),
              borderColor: '#999',
              backgroundColor: '#999',
              showLine: true,
              fill: false,
              pointRadius: 0,
              borderDash: [2, 3],
            },
          ],
        },
        options: lineOptions('seconds a logged-out credential kept working'),
      },
    },
  ]
  const timelined = livedCells(r).filter(
    (c) =>
      c.lifecycle.rounds.length > 0 && c.lifecycle.refreshes > 0 && (r.scenario.workload.synchronized || c.lifecycle.races.attempted > 0),
  )
  if (timelined.length) {
    const colors = new Map(lines.flatMap((l) => l.cells.map((c) => [c.id, l.color] as const)))
    charts.push({
      id: 'lifecycle-refresh-timeline',
      title: 'Refreshes per second over the window (first round)',
      caption:
        'Refreshes begun in each 100 ms of the measured window, as a rate. With every user logged in at once, their tokens ' +
        'expire together: a refresh storm every lifetime, unless the clients spread their refreshes with jitter.',
      config: {
        type: 'line',
        data: {
          datasets: timelined.map((c) => ({
            label: c.id,
            data: c.lifecycle.rounds[0]!.timeline.map((b) => ({ x: b.tMs / 1000, y: b.refreshes * 10 })),
            borderColor: colors.get(c.id),
            backgroundColor: colors.get(c.id),
            showLine: true,
            fill: false,
            pointRadius: 0,
          })),
        },
        options: {
          ...lineOptions('refreshes per second'),
          scales: {
            x: { type: 'linear', title: { display: true, text: 'seconds into the measured window' } },
            y: { beginAtZero: true, title: { display: true, text: 'refreshes per second' } },
          },
        },
      },
    })
    charts.push({
      id: 'lifecycle-latency-timeline',
      title: 'GET latency p99 over the window (first round)',
      caption:
        "The 99th percentile of the users' GETs due in each 100 ms, counted from their due time (open loop), in ms: what " +
        'everything else feels during a refresh storm.',
      config: {
        type: 'line',
        data: {
          datasets: timelined.map((c) => ({
            label: c.id,
            data: c.lifecycle.rounds[0]!.timeline.map((b) => ({ x: b.tMs / 1000, y: b.latencyUsP99 / 1000 })),
            borderColor: colors.get(c.id),
            backgroundColor: colors.get(c.id),
            showLine: true,
            fill: false,
            pointRadius: 0,
          })),
        },
        options: {
          ...lineOptions('GET latency p99, ms'),
          scales: {
            x: { type: 'linear', title: { display: true, text: 'seconds into the measured window' } },
            y: { beginAtZero: true, title: { display: true, text: 'GET latency p99, ms' } },
          },
        },
      },
    })
  }
  return charts
}

/** The lag on every instance as the table shows it, with the configured TTL of the cache that can cause it. */
function everyInstanceCell(c: Lived): string {
  const e = c.lifecycle.everyInstanceLagMs
  if (!e) return '–'
  const cache = descriptorOf(c).instanceCache?.(c) ?? null
  const ms = (v: number | null) => (v === null ? '–' : num(v, v < 10 ? 2 : 0))
  return `${ms(e.p50)} / ${ms(e.max)}${cache ? ` (${cache.keepsSeconds})` : ''}`
}

/** The lifecycle tables and methodology (HTML). */
export function lifecycleHtml(r: ResultsFile): string {
  const w = r.scenario.workload
  const rate = w.requestsPerUserPerSecond ?? 1
  const head = [
    'cell',
    'status',
    'lifetime s',
    'GETs per lifetime',
    'GETs',
    'refreshes (policy predicts; users x duration / TTL)',
    'logins (forced) / logouts',
    'store reads / writes / deletes per s',
    'per request served',
    'revocation lag p50 / p99 / max ms (predicted p50)',
    'censored',
    'lag on every instance p50 / max ms (cache TTL s)',
    'session reads per GET the cache implies',
    'races revoked',
    'GET p50 / p99 ms',
    'refresh p50 / p99 ms',
    'CPU µs/req',
  ]
  const ms = (v: number | null) => (v === null ? '–' : num(v, v < 10 ? 2 : 0))
  const rows = r.cells.map((c) => {
    const l = c.lifecycle
    const status = `<span class="status-${c.status}">${c.status}</span>`
    if (!l) return `<tr><td>${esc(c.id)}</td><td>${status}</td><td colspan="${head.length - 2}">${esc(c.reason ?? '')}</td></tr>`
    const o = l.storeOpsPerSecond
    const p = l.storeOpsPerRequest
    return `<tr><td>${esc(c.id)}</td><td>${status}</td><td class="n">${l.accessTtlSeconds ?? '–'}</td><td \
class="n">${l.requestsPerLifetime === null ? '–' : num(l.requestsPerLifetime, 0)}</td>
<td class="n">${l.requests}</td><td \
class="n">${l.refreshes}${l.expected.refreshes === null ? '' : ` (${num(l.expected.refreshes, 0)}; ${num(l.expected.refreshesAtTtl, 0)})`}</td>
<td class="n">${l.logins} (${l.forcedLogins}) / ${l.logouts}</td><td class="n">${num(o.reads, 1)} / ${num(o.writes, 1)} / ${num(o.deletes, 1)}</td>
<td class="n">${num(p.reads, 3)} / ${num(p.writes, 3)} / ${num(p.deletes, 3)}</td>
<td class="n">${ms(l.revocationLagMs.p50)} / ${ms(l.revocationLagMs.p99)} / ${ms(l.revocationLagMs.max)} (${ms(l.expected.lagMedianMs)})</td><td \
class="n">${l.revocationLagMs.censored}</td>
<td class="n">${everyInstanceCell(c as Lived)}</td>
<td class="n">${l.expected.stateReadsPerGet == null ? '–' : num(l.expected.stateReadsPerGet, 3)}</td>
<td class="n">${l.races.attempted ? `${l.races.familyRevoked} of ${l.races.attempted}` : '–'}</td>
<td class="n">${num(l.latencyUs.requests.p50 / 1000, 2)} / ${num(l.latencyUs.requests.p99 / 1000, 2)}</td>
<td class="n">${l.latencyUs.refreshes ? `${num(l.latencyUs.refreshes.p50 / 1000, 2)} / ${num(l.latencyUs.refreshes.p99 / 1000, 2)}` : '–'}</td>
<td class="n">${num(l.cpuUsPerRequest, 1)}</td></tr>${l.reason ? `<tr><td></td><td colspan="${head.length - 1}" class="bad">${esc(l.reason)}</td></tr>` : ''}`
  })
  const lifetimes = [...new Set(r.cells.flatMap((c) => (c.accessTtlSeconds === null ? [] : [c.accessTtlSeconds])))].sort((a, b) => a - b)
  return `<h2>Token lifecycle</h2>
<p>${w.users} virtual users, each calling <code>GET ${esc(w.path ?? '/me')}</code> ${rate} time${rate === 1 ? '' : 's'} a second \
on its own schedule (open loop: latency from each request's due time), refreshing its access \
token ${w.refreshMarginSeconds ?? 0.5} s before its \
<code>exp</code>; ${w.logoutsPerSecond} logout${w.logoutsPerSecond === 1 ? '' : 's'} a second (a random user, who logs in again \
at once), each followed by a thief presenting the logged-out credential until it is refused. ${
    w.synchronized
      ? 'Every user ' + 'logged in at once at the start of the window (a mass login: their tokens expire together). '
      : 'Logins were spread over a ' + 'warm-up of one refresh interval, so the window is in steady ' + 'state. '
  }${
    w.concurrentRefreshShare
      ? `${percent(w.concurrentRefreshShare)} of refreshes were sent twice at the same ` +
        `moment with the same refresh token, as two tabs of one user would. `
      : ''
  }</p>
<p><strong>Time is compressed.</strong> Lifetimes here are ${lifetimes.length ? lifetimes.join(', ') : '–'} s, not minutes; what \
carries over to production is the number of requests a user makes per credential lifetime \
(${lifetimes.map((t) => num(t * rate, 0)).join(', ')} here) and the ratios built on it. A 15-minute access token with a request \
every 30 s is 30 requests per lifetime; read the row whose requests per lifetime match yours.</p>
<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>
<ul class="muted">
<li>Store operations are the servers' own counters over the measured window (every request: GETs, logins, refreshes, logouts, \
thieves' probes), per second and per request they answered. A refresh is two writes (the old token marked used, the new one \
recorded); a login reads the user and writes a session or a refresh token; a logout deletes (and, with a denylist, writes the token's <code>jti</code>).</li>
<li>Predicted refreshes: users x duration over the client's refresh interval, less one per logout (the next login issues a fresh \
token in place of a refresh). The server writes <code>exp</code> in whole seconds from the issuing second, so a client \
refreshing a fixed margin early lands at the same fraction of a second every time and refreshes every TTL - ceil(margin) \
seconds, more often than users x duration / TTL says; with jitter the interval averages TTL - margin - jitter/2 - 1/2.</li>
<li>Predicted lag: zero where logout reaches server-side state (sessions, a denylist); the median remaining lifetime of the \
access token for a plain JWT (margin + jitter/2 + half the refresh interval); for a sealed cookie its idle timeout less half the \
time since its last re-seal. The thief replays the exact bytes it copied; one that also took each re-sealed cookie the server \
sends would keep a sealed cookie alive until its absolute timeout.</li>
<li>With more than one instance, a second thief presents each logged-out copy to every instance directly (past any \
balancer), each until it is refused: the lag on every instance is the time until the last of them refused it. An instance \
that caches what it read keeps serving the copy after another instance ended it; the table sets that lag beside the cache's \
configured TTL.</li>
<li>Revocation lag is the send time of the thief's first refused request after the logout was answered, so it is at most one \
probe interval late; censored counts credentials still working when the thieves stopped.</li>
<li>The lifecycle driver wakes on a millisecond timer and sends with Node's HTTP client: its latencies include up to about a \
millisecond of its own lateness (the send lag, recorded); a window whose send lag p99 exceeded 10 ms is flagged as not holding its schedule.</li>
</ul>`
}
