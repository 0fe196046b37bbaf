import { setMaxListeners } from 'node:events'
import { Bench } from 'tinybench'
import { describeEnvironment } from '../environment.ts'
import { buildTasks } from './tasks.ts'
import type { MicroResults, MicroTaskResult } from '../contracts/results.ts'
import type { StoreKind } from '../../common/kinds.ts'

export interface MicroOptions {
  quick: boolean
  /** Addresses of the stores whose tasks need one (Redis, PostgreSQL); a store absent here has its tasks skipped. */
  urls: Partial<Record<StoreKind, string>>
  /** Why a store absent from `urls` could not be had (its cells' skip reason); absent: its tasks say it is not installed. */
  unavailable?: Partial<Record<StoreKind, string>>
  /** Sessions stored while reading (default 100,000). */
  sessions?: number
  /** Per-task time budget in ms; overrides quick/full. */
  timeMs?: number
  log?: (line: string) => void
  signal?: AbortSignal
}

/** Times every primitive with tinybench; setup stays outside the timed region. */
export async function runMicro(options: MicroOptions): Promise<MicroResults> {
  const startedAt = new Date().toISOString()
  const time = options.timeMs ?? (options.quick ? 300 : 2000)
  const ctx = await buildTasks({
    urls: options.urls,
    unavailable: options.unavailable,
    sessions: options.sessions,
  })
  const results: MicroTaskResult[] = []
  // Every task listens on the abort signal: that many listeners are expected, not a leak.
  if (options.signal) setMaxListeners(ctx.tasks.length + 10, options.signal)
  // One bench, tasks run one after another; each task's setup already happened in buildTasks.
  const bench = new Bench({
    time,
    warmupTime: Math.max(10, time / 5),
    iterations: 10,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  for (const task of ctx.tasks) bench.add(task.id, task.fn)
  try {
    for (const task of ctx.tasks) {
      if (options.signal?.aborted) break
      const t = bench.getTask(task.id)!
      await t.warmup()
      const cpuBefore = process.cpuUsage()
      await t.run()
      const cpu = process.cpuUsage(cpuBefore)
      const r = t.result
      if (r.state === 'completed' || r.state === 'aborted-with-statistics') {
        const meanMs = r.latency.mean / task.batch
        results.push({
          id: task.id,
          name: task.name,
          group: task.group,
          status: 'ok',
          reason: null,
          opsPerSecond: 1000 / meanMs,
          meanUs: meanMs * 1000,
          p99Us: (r.latency.p99 * 1000) / task.batch,
          cpuUs: (cpu.user + cpu.system) / (r.latency.samplesCount * task.batch),
          samples: r.latency.samplesCount,
        })
      } else {
        const reason = r.state === 'errored' ? r.error.message : `tinybench state ${r.state}`
        results.push({
          id: task.id,
          name: task.name,
          group: task.group,
          status: 'failed',
          reason,
          opsPerSecond: null,
          meanUs: null,
          p99Us: null,
          cpuUs: null,
          samples: null,
        })
      }
      options.log?.(
        `${task.name.padEnd(62)} ${results.at(-1)!.meanUs?.toFixed(3).padStart(10) ?? 'failed'} µs, ${results.at(-1)!.cpuUs?.toFixed(3) ?? '-'} µs CPU`,
      )
    }
  } finally {
    await ctx.close()
  }
  for (const s of ctx.skipped)
    results.push({ ...s, status: 'skipped', opsPerSecond: null, meanUs: null, p99Us: null, cpuUs: null, samples: null })
  return { environment: describeEnvironment(), quick: options.quick, startedAt, tasks: results }
}
