import { mkdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { table } from '../format.ts'
import { ProcessGroup } from '../processes.ts'
import type { StoreKind } from '../../common/kinds.ts'
import { storeDescriptors } from '../stores/index.ts'
import { storeProvisioners } from '../stores/run/index.ts'
import { givenOrPrivate, unavailableReason } from '../stores/run/provisioner.ts'
import { runMicro } from './run.ts'
import { outputStamp, writeJsonAtomic } from '../results-io.ts'
import type { MicroResults } from '../contracts/results.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The stores whose tasks need one, each named by its address flag (`--redis-url`, also `REDIS_URL`). */
const STARTED = Object.values(storeProvisioners).flatMap((p) =>
  p.micro && p.address ? [{ kind: p.kind, at: p.address, option: p.address.option.flag, env: p.address.option.env }] : [],
)
const USAGE = `usage: npm run bench:micro -- [--quick] [--out DIR] ${STARTED.map((s) => `[--${s.option} URL]`).join(' ')}`

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
  let values: { quick?: boolean; out?: string } & Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        out: { type: 'string' },
        ...Object.fromEntries(STARTED.map((x) => [x.option, { type: 'string' as const }])),
      },
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
  const urls: Partial<Record<StoreKind, string>> = {}
  const unavailable: Partial<Record<StoreKind, string>> = {}
  const stops: (() => Promise<void>)[] = []
  let results: MicroResults
  try {
    for (const x of STARTED) {
      const given = values[x.option]
      try {
        const s = await givenOrPrivate(x.at, typeof given === 'string' ? given : (process.env[x.env] ?? null), group)
        stops.push(() => s.stop())
        urls[x.kind] = s.url
      } catch (err) {
        unavailable[x.kind] = unavailableReason(x.kind, err)
        log(`${storeDescriptors[x.kind].label} tasks skipped: ${unavailable[x.kind]}`)
      }
    }
    results = await runMicro({ quick: values.quick ?? false, urls, unavailable, log, signal: controller.signal })
  } finally {
    for (const stop of stops) await stop()
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
