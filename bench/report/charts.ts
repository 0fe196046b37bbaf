import { percent } from '../format.ts'
import { storeDescriptors } from '../stores/index.ts'
import { medianIntervalCoverage } from '../stats.ts'
import { descriptorOf, strategyDescriptors } from '../strategies/index.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { cellColors, type ChartSpec } from '../page/kit.ts'

/** The store process's segment: a hue no strategy uses. */
const STORE_COLOR = '#8e44ad'

/** `blue: sessions, orange: JWTs`, for the strategies among `cells` that authenticate. */
function colourKey(cells: CellResult[]): string {
  return [...new Set(cells.map((c) => c.strategy))]
    .map((k) => strategyDescriptors[k])
    .filter((d) => d.state !== 'none')
    .map((d) => `${d.colorName}: ${d.label.family}`)
    .join(', ')
}

/** The cells whose request awaits something outside its own turn of the event loop, and what. */
function waiting(cells: CellResult[]): string {
  return cells
    .flatMap((c) => {
      const what = [c.store ? storeDescriptors[c.store].awaits : null, descriptorOf(c).awaits?.(c) ?? null].filter(Boolean)
      return what.length ? [`${c.id} on ${what.join(' and ')}`] : []
    })
    .join(', ')
}

/** What the dark store segment is, and what it shares its CPU with on this machine. */
function storeNote(results: ResultsFile, cells: CellResult[]): string {
  if (!cells.some((c) => c.summary?.storeCpuUsPerRequest)) return ''
  const a = results.environment.cpuAffinity
  const where = a
    ? ` The store processes were pinned with the load generator to CPU ${a.client} (the servers had CPU ${a.server}), so the ` +
      `client and the store shared that CPU.`
    : ' The store processes, the servers and the load generator were not pinned and shared every CPU.'
  return (
    ` Purple on top: the store process's own CPU per request over the same window (Redis: INFO cpu; PostgreSQL: every ` +
    `process it runs, a backend per connection), which the server's figure does not contain; an in-process store (SQLite, ` +
    `memory) is already inside the server's.${where}`
  )
}

/** Cells whose figures are trustworthy enough to chart. */
const chartable = (r: ResultsFile) => r.cells.filter((c) => c.status === 'ok' && c.summary)

const baseOptions = (yTitle: string, extra: Record<string, unknown> = {}) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { display: true, position: 'bottom' } },
  scales: {
    x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 30 } },
    y: { beginAtZero: true, title: { display: true, text: yTitle } },
  },
  ...extra,
})

const r1 = (v: number) => Math.round(v * 10) / 10
const r3 = (v: number) => Math.round(v * 1000) / 1000

/** Every chart of the report, from results alone (pure). */
/** The interval's coverage as it is for these cells: it depends on how many windows each has (the baseline has one per bracket). */
function windowCoverage(cells: CellResult[], baseline: string): string {
  const groups = new Map<number, string[]>()
  for (const c of cells)
    groups.set(c.rounds.length, [
      ...(groups.get(c.rounds.length) ?? []),
      c.id === baseline ? `${c.id} (the baseline: every bracketing window)` : c.id,
    ])
  return [...groups]
    .sort((a, b) => a[0] - b[0])
    .map(
      ([n, ids]) =>
        `${
          n === 1 ? '1 window (no interval)' : `${n} windows, ` + `coverage ${percent(medianIntervalCoverage(n))}`
        }: ${ids.length > 3 ? `${ids.length} cells` : ids.join(', ')}`,
    )
    .join('; ')
}

/** What every chart of a closed-loop run draws from: the cells shown, their labels and colours, the baseline. */
interface ChartContext {
  results: ResultsFile
  cells: CellResult[]
  labels: string[]
  colors: string[]
  baseline: CellResult | undefined
  baseCpu: number | null
}
const s = (c: CellResult) => c.summary!

function rpsChart({ results, cells, labels, colors }: ChartContext): ChartSpec {
  return {
    id: 'rps',
    title: 'Requests per second',
    caption:
      `Median requests/s over each cell's windows (bar) and the interval of that median (thin bar; order statistics, ` +
      `within this run only): ${windowCoverage(cells, results.scenario.baseline)}. Throughput is the noisy figure on a shared machine.`,
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'median req/s', data: cells.map((c) => Math.round(s(c).rps.median)), backgroundColor: colors },
          {
            label: 'interval',
            data: cells.map((c) => s(c).rps.ci95.map(Math.round)),
            backgroundColor: 'rgba(0,0,0,0.35)',
            barPercentage: 0.15,
            grouped: false,
          },
        ],
      },
      options: baseOptions('requests/s'),
    },
  }
}

function cpuChart({ results, cells, labels, colors, baseline, baseCpu }: ChartContext): ChartSpec {
  return {
    id: 'cpu',
    title: 'CPU per request: servers and store',
    caption: `${
      baseCpu === null
        ? 'Server CPU µs per request (median over rounds); no baseline cell completed, so no split is shown.'
        : `Server CPU µs per request, drift-cancelled: the baseline's median (${baseline!.id}, ${r1(baseCpu)} µs, grey) plus ` +
          `each cell's overhead over it (${colourKey(cells)}): per round, the cell's CPU per request less the two baseline ` +
          `windows around it, median over rounds; the same figure as in the findings and the breakdown. The raw medians are in ` +
          `the table below; on a noisy host they mix fast and slow periods.`
    }${storeNote(results, cells)}`,
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: [
          ...(baseCpu === null
            ? [
                {
                  label: 'server CPU µs/request',
                  data: cells.map((c) => r1(s(c).cpuUsPerRequest.median)),
                  backgroundColor: colors,
                  stack: 'cpu',
                },
              ]
            : [
                {
                  label: `baseline (${baseline!.id})`,
                  data: cells.map((c) => r1(baseCpu + Math.min(0, s(c).overheadUs?.median ?? 0))),
                  backgroundColor: '#bdc3c7',
                  stack: 'cpu',
                },
                {
                  label: 'auth overhead',
                  data: cells.map((c) => r1(Math.max(0, s(c).overheadUs?.median ?? 0))),
                  backgroundColor: colors,
                  stack: 'cpu',
                },
              ]),
          ...(cells.some((c) => s(c).storeCpuUsPerRequest)
            ? [
                {
                  label: 'store process',
                  data: cells.map((c) => (s(c).storeCpuUsPerRequest ? r1(s(c).storeCpuUsPerRequest!.median) : 0)),
                  backgroundColor: STORE_COLOR,
                  stack: 'cpu',
                },
              ]
            : []),
        ],
      },
      options: baseOptions('CPU µs per request', {
        plugins: { legend: { display: false } },
        scales: {
          x: { stacked: true, ticks: { autoSkip: false, maxRotation: 60, minRotation: 30 } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: 'CPU µs per request' } },
        },
      }),
    },
  }
}

function storeOpsChart({ cells, labels }: ChartContext): ChartSpec {
  return {
    id: 'store-ops',
    title: 'Store operations per request',
    caption:
      'Counted store reads, writes and deletes per request in the measured windows (users table included); verified against the ' +
      'contract before the cell is reported.',
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'reads', data: cells.map((c) => r3(s(c).storeOpsPerRequest.reads)), backgroundColor: '#2c3e50' },
          { label: 'writes', data: cells.map((c) => r3(s(c).storeOpsPerRequest.writes)), backgroundColor: '#c0392b' },
          { label: 'deletes', data: cells.map((c) => r3(s(c).storeOpsPerRequest.deletes)), backgroundColor: '#8e44ad' },
        ],
      },
      options: baseOptions('operations per request'),
    },
  }
}

function serverTimeChart({ results, cells, labels }: ChartContext): ChartSpec {
  return {
    id: 'latency',
    title: 'Server-side request time',
    caption:
      `Server time from onRequest to onResponse in µs (p50, p90, p99, max; log scale), ` +
      `under ${results.scenario.load.connections} connections in a closed loop: latency under this load, not the cost of a ` +
      `request. A request that waits (${waiting(cells) || 'none here'}) lets others run meanwhile, so its server time is ` +
      `mostly waiting in line behind them; a request that finishes in one turn of the event loop shows its own work. Compare ` +
      `costs by CPU per request; client-side latency from autocannon has 1 ms resolution and is in the table below.`,
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: (['p50', 'p90', 'p99', 'max'] as const).map((p, i) => ({
          label: p,
          data: cells.map((c) => s(c).serverTimeUs[p]),
          backgroundColor: ['#a3c4dc', '#5b9bd5', '#2e75b6', '#1f4e79'][i],
        })),
      },
      options: baseOptions('µs', {
        scales: {
          x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 30 } },
          y: { type: 'logarithmic', title: { display: true, text: 'µs (log scale)' } },
        },
      }),
    },
  }
}

function bytesChart({ cells, labels, colors }: ChartContext): ChartSpec {
  return {
    id: 'bytes',
    title: 'Request bytes on the wire',
    caption:
      'Bytes of one request as sent (request line, headers, body): the credential is the difference, an opaque cookie against a signed token.',
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'bytes per request', data: cells.map((c) => Math.round(s(c).bytesPerRequest.request)), backgroundColor: colors },
        ],
      },
      options: baseOptions('bytes'),
    },
  }
}

function ratiosChart({ results, cells, labels }: ChartContext): ChartSpec {
  return {
    id: 'ratios',
    title: `Ratios to the baseline (${results.scenario.baseline})`,
    caption:
      "Each window's ratio to the mean of the two baseline windows around it (its bracket), then the median over rounds: " +
      'throughput (higher is better) and CPU per request (lower is better).',
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: [
          {
            label: 'req/s ratio',
            data: cells.map((c) => (s(c).ratioToBaseline.rps === null ? null : r3(s(c).ratioToBaseline.rps!))),
            backgroundColor: '#16a085',
          },
          {
            label: 'CPU/request ratio',
            data: cells.map((c) => (s(c).ratioToBaseline.cpu === null ? null : r3(s(c).ratioToBaseline.cpu!))),
            backgroundColor: '#d35400',
          },
        ],
      },
      options: baseOptions('x baseline'),
    },
  }
}

/** The closed-loop charts of a run's cells (an open-mode run adds its latency curve). */
export function closedCharts(results: ResultsFile): ChartSpec[] {
  const cells = chartable(results)
  if (cells.length === 0) return []
  const baseline = results.cells.find((c) => c.id === results.scenario.baseline)
  const ctx: ChartContext = {
    results,
    cells,
    labels: cells.map((c) => c.id),
    colors: cellColors(cells),
    baseline,
    baseCpu: baseline?.status === 'ok' && baseline.summary ? baseline.summary.cpuUsPerRequest.median : null,
  }
  return [rpsChart, cpuChart, storeOpsChart, serverTimeChart, bytesChart, ratiosChart].map((chart) => chart(ctx))
}

/** The hockey stick: p50 and p99 latency (from each request's due time) against the offered rate, one line per cell. */
export function latencyCurve(results: ResultsFile): ChartSpec | null {
  const cells = chartable(results).filter((c) => c.openLoop?.length)
  if (cells.length === 0) return null
  const colors = cellColors(cells)
  const datasets = cells.flatMap((c, i) => {
    const points = [...c.openLoop!].sort((a, b) => a.rate - b.rate)
    return (['p50', 'p99'] as const).map((p) => ({
      label: `${c.id} ${p}`,
      data: points.map((o) => ({ x: Math.round(o.rate), y: o.latencyUs[p] })),
      borderColor: colors[i],
      backgroundColor: colors[i],
      borderDash: p === 'p50' ? [4, 4] : [],
      showLine: true,
      fill: false,
      pointRadius: 3,
    }))
  })
  return {
    id: 'latency-curve',
    title: 'Latency against offered load (open loop)',
    caption:
      `Each cell driven on a schedule at fixed rates and at fractions of its own closed-loop capacity; latency counted ` +
      `from each request's due time (coordinated-omission correct), p99 solid and p50 dashed, log scale, medians ` +
      `over ${results.scenario.load.rounds} round${results.scenario.load.rounds > 1 ? 's' : ''}. Where a line turns up, the cell is near its knee.`,
    config: {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: true, position: 'bottom' } },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'offered requests/s' } },
          y: { type: 'logarithmic', title: { display: true, text: 'latency µs (log scale)' } },
        },
      },
    },
  }
}
