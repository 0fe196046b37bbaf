import * as hdr from 'hdr-histogram-js'
import { newHistogram, type StatsSnapshot } from '../servers/metrics.ts'
import { drive, requestBytes, type LoadRequest, type LoadResult } from './drive/closed.ts'
import { CLIENT_BOUND_SHARE, type RoundMeasurement } from './results.ts'
import type { Scenario } from './scenario.ts'
import type { ExternalCounts } from './stores/index.ts'
import type { CellRuntime } from './verify.ts'

/** Drives load at the servers for a window; the closed-loop autocannon driver unless a test gives another. */
export type Driver = (urls: string[], requests: LoadRequest[], connections: number, durationSeconds: number, signal?: AbortSignal) => Promise<LoadResult>

const settle = () => new Promise((r) => setTimeout(r, 100))

type Snapshot = { stats: StatsSnapshot[]; counts: ExternalCounts | null; storeCpuUs: number | null }

async function snapshot(rt: Pick<CellRuntime, 'servers' | 'counts' | 'storeCpuUs'>): Promise<Snapshot> {
  const stats = await Promise.all(rt.servers.map((s) => s.stats(true)))
  return { stats, counts: await rt.counts(), storeCpuUs: await rt.storeCpuUs() }
}

/**
 * One measured window, with every instance's counters and CPU read before and after it and
 * summed. A cell's servers live through every round, so only its first window needs the warm-up
 * (JIT, connection pools).
 */
export async function measureRound(
  rt: Pick<CellRuntime, 'servers' | 'counts' | 'storeCpuUs' | 'requests' | 'serverCpuCount'>, window: { round: number; slot: number; warmup: boolean },
  load: Scenario['load'], signal?: AbortSignal, driver: Driver = drive,
): Promise<RoundMeasurement> {
  const { round, slot } = window
  const urls = rt.servers.map((s) => s.url)
  if (window.warmup && load.warmupSeconds > 0) await driver(urls, rt.requests, load.connections, load.warmupSeconds, signal)
  await settle()
  const before = await snapshot(rt)
  const result = await driver(urls, rt.requests, load.connections, load.durationSeconds, signal)
  await settle()
  const after = await snapshot(rt)

  const sum = (pick: (s: StatsSnapshot) => number) =>
    after.stats.reduce((n, s, i) => n + pick(s) - pick(before.stats[i]!), 0)
  const served = sum((s) => s.requests)
  const per = (n: number) => (served === 0 ? 0 : n / served)
  const serverCpuUs = sum((s) => s.cpuUs)
  const storeCpuUs = before.storeCpuUs !== null && after.storeCpuUs !== null ? after.storeCpuUs - before.storeCpuUs : null
  const busy = result.durationSeconds > 0 ? serverCpuUs / (result.durationSeconds * 1e6 * Math.min(rt.servers.length, rt.serverCpuCount)) : 0
  const merged = newHistogram()
  for (const s of after.stats) merged.add(hdr.decodeFromCompressedBase64(s.requestTimeHistogram))
  return {
    round,
    slot,
    requests: served,
    durationSeconds: result.durationSeconds,
    rps: result.rps,
    latencyMs: result.latencyMs,
    serverTimeUs: {
      p50: merged.getValueAtPercentile(50), p90: merged.getValueAtPercentile(90),
      p99: merged.getValueAtPercentile(99), max: merged.maxValue, mean: merged.totalCount ? merged.mean : 0,
    },
    cpuUsPerRequest: per(serverCpuUs),
    storeCpuUsPerRequest: storeCpuUs === null ? null : per(storeCpuUs),
    totalCpuUsPerRequest: per(serverCpuUs + (storeCpuUs ?? 0)),
    serverBusyShare: busy,
    clientBound: busy < CLIENT_BOUND_SHARE,
    storeOpsPerRequest: { reads: per(sum((s) => s.reads)), writes: per(sum((s) => s.writes)), deletes: per(sum((s) => s.deletes)) },
    redisCommandsPerRequest: before.counts && after.counts
      ? {
          reads: per(after.counts.reads - before.counts.reads), writes: per(after.counts.writes - before.counts.writes),
          deletes: per(after.counts.deletes - before.counts.deletes), total: per(after.counts.total - before.counts.total),
        }
      : null,
    bytesPerRequest: { request: requestBytes(urls[0]!, rt.requests), response: result.requests ? result.responseBytes / result.requests : 0 },
    statusCounts: result.statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    status401Share: result.requests ? (result.statusCounts['401'] ?? 0) / result.requests : 0,
    rssBytes: Math.max(...after.stats.map((s) => s.rssBytes)),
  }
}
