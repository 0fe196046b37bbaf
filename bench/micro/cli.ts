import { mkdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { table } from '../format.ts'
import { ProcessGroup } from '../processes.ts'
import { unavailableReason } from '../stores/run/provisioner.ts'
import { startPostgres } from '../stores/postgres-server.ts'
import { privateOrGivenRedis } from '../stores/run/redis.ts'
import { runMicro } from './run.ts'
import { outputStamp, writeJsonAtomic } from '../results-io.ts'
import type { MicroResults } from '../contracts/results.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const USAGE = 'usage: npm run bench:micro -- [--quick] [--out DIR] [--redis-url URL] [--postgres-url URL]'

export function microTable(r: MicroResults): string {
  const f = (v: number | null, d: number) =>
    v === null ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
  return table(
    ['task', 'group', 'ops/s', 'mean µs', 'p99 µs', 'CPU µs', 'samples'],
    r.tasks.map((t) => [
      t.name,
      t.group,
      t.status === 'ok' ? f(t.opsPerSecond, 0) : t.status,
      f(t.meanUs, 3),
      f(t.p99Us, 3),
      f(t.cpuUs, 3),
      t.samples === null ? (t.reason ?? '') : String(t.samples),
    ]),
  )
}

async function main(argv: string[]): Promise<number> {
  let values: { quick?: boolean; out?: string; 'redis-url'?: string; 'postgres-url'?: string }
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { quick: { type: 'boolean' }, out: { type: 'string' }, 'redis-url': { type: 'string' }, 'postgres-url': { type: 'string' } },
    }))
  } catch (err) {
    process.stderr.write(`authbench micro: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  const log = (s: string) => process.stderr.write(`${s}\n`)
  const out = resolve(values.out ?? join(ROOT, 'reports', `${outputStamp()}-micro`))
  const controller = new AbortController()
  process.on('SIGINT', () => controller.abort())
  process.on('SIGTERM', () => controller.abort())
  const group = new ProcessGroup()
  process.on('exit', () => group.killAllSync())
  // A store that cannot be started here skips its tasks with the reason a bench cell would give.
  const unavailable: Partial<Record<'redis' | 'postgres', string>> = {}
  let redis: { url: string | null; stop(): Promise<void> } = { url: null, stop: async () => {} }
  try {
    redis = await privateOrGivenRedis(values['redis-url'] ?? process.env.REDIS_URL ?? null, null, group)
  } catch (err) {
    unavailable.redis = unavailableReason('redis', err)
    log(`Redis tasks skipped: ${unavailable.redis}`)
  }
  let postgres: { url: string | null; stop(): Promise<void> } = {
    url: values['postgres-url'] ?? process.env.POSTGRES_URL ?? null,
    stop: async () => {},
  }
  if (!postgres.url) {
    try {
      const p = await startPostgres()
      group.track(p.process)
      postgres = p
    } catch (err) {
      unavailable.postgres = unavailableReason('postgres', err)
      log(`PostgreSQL tasks skipped: ${unavailable.postgres}`)
    }
  }
  let results: MicroResults
  try {
    results = await runMicro({
      quick: values.quick ?? false,
      redisUrl: redis.url,
      postgresUrl: postgres.url,
      unavailable,
      log,
      signal: controller.signal,
    })
  } finally {
    await redis.stop()
    await postgres.stop()
  }
  if (controller.signal.aborted) return 130
  mkdirSync(out, { recursive: true })
  writeJsonAtomic(join(out, 'micro.json'), results)
  process.stdout.write(`\n${microTable(results)}\n\nmicro: ${relative(process.cwd(), join(out, 'micro.json'))}\n`)
  return results.tasks.some((t) => t.status === 'failed') ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`authbench micro: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  },
)
