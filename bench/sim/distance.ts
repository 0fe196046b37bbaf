// The model's side of a store at a distance: each cell behind a delay proxy beside its twin with
// the store next door, the growth the asked round trip predicts and the growth measured.
import { median } from '../stats.ts'
import type { CellResult, ResultsFile } from '../contracts/results.ts'

/** A cell behind a delay proxy, beside its twin with the store next door. */
export interface DistanceRow {
  cell: string
  twin: string | null
  askedMs: number
  addedUs: number
  proxyCpuUsPerChunk: number | null
  /** Store round trips one request makes (its reads of session or denylist state). */
  storeReads: number
  /** At the lowest fixed open-loop rate: the servers' own request time p50, µs, for the cell and its twin. */
  rate: number | null
  serverP50Us: number | null
  twinServerP50Us: number | null
  /** What the model says the cell's p50 grows by: store round trips per request x the round trip added. */
  predictedGrowthUs: number
  measuredGrowthUs: number | null
  /** How far the measured growth is from the predicted one, as a share of the predicted; null when nothing was predicted. */
  errorShare: number | null
  /** Client latency p50 and p99 at that rate, µs. */
  latencyUs: { p50: number; p99: number } | null
}

const twinId = (id: string) => id.replace(/-rtt[0-9.]+ms/, '')

function atLowestRate(c: CellResult): { rate: number; serverP50: number; latency: { p50: number; p99: number } } | null {
  const fixed = (c.openLoop ?? []).filter((p) => p.fraction === null).sort((a, b) => a.rate - b.rate)[0]
  if (!fixed) return null
  return {
    rate: fixed.rate,
    serverP50: median(fixed.rounds.map((r) => r.serverTimeUs.p50)),
    latency: { p50: fixed.latencyUs.p50, p99: fixed.latencyUs.p99 },
  }
}

/** Every cell that has a delay proxy or a twin that does, with the model's prediction beside the measurement. */
export function distanceRows(r: ResultsFile): DistanceRow[] {
  const ok = r.cells.filter((c) => c.status === 'ok')
  const distant = ok.filter((c) => c.storeRtt)
  return distant.map((c) => {
    const twin = ok.find((t) => t.id === twinId(c.id) && t.id !== c.id) ?? null
    const mine = atLowestRate(c)
    const theirs = twin ? atLowestRate(twin) : null
    const reads = c.expected.ops.stateReads
    const predicted = reads * c.storeRtt!.addedUs
    const measured = mine && theirs ? mine.serverP50 - theirs.serverP50 : null
    return {
      cell: c.id,
      twin: twin?.id ?? null,
      askedMs: c.storeRtt!.askedMs,
      addedUs: c.storeRtt!.addedUs,
      proxyCpuUsPerChunk: c.storeRtt!.proxyCpuUsPerChunk,
      storeReads: reads,
      rate: mine?.rate ?? null,
      serverP50Us: mine?.serverP50 ?? null,
      twinServerP50Us: theirs?.serverP50 ?? null,
      predictedGrowthUs: predicted,
      measuredGrowthUs: measured,
      errorShare: measured !== null && predicted > 0 ? (measured - predicted) / predicted : null,
      latencyUs: mine?.latency ?? null,
    }
  })
}
