// Remote mode's input: a fleet file naming servers (and a store) the harness did not start, and
// the match of each of the scenario's cells to the instances whose `authbench_info` says they run it.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { TargetError } from '../contracts/errors.ts'
import { DEFAULT_FRAMEWORK, DEFAULT_SESSION_LIBRARY, STORES } from '../../common/kinds.ts'
import { storeDescriptors } from '../stores/index.ts'
import { strategyDescriptors } from '../strategies/index.ts'
import type { CellPlan } from '../contracts/plan.ts'
import { remoteInstance, type RemoteInstance } from './instance.ts'

/** Stores a fleet file can name: those reached at an address (an in-process store lives inside each instance). */
const REACHABLE = STORES.filter((k) => storeDescriptors[k].placement !== 'in-process')

const httpUrl = z.string().regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'an http:// URL')

/** docs/contracts.md, "Prometheus metrics and remote targets". */
const fleetSchema = z.strictObject({
  instances: z.array(z.strictObject({ url: httpUrl.transform((u) => u.replace(/\/$/, '')), metricsUrl: httpUrl })).min(1),
  store: z.strictObject({ kind: z.enum(REACHABLE), url: z.string().min(1) }).optional(),
})
export type Fleet = z.infer<typeof fleetSchema>

/** Reads and checks a fleet file; TargetError (exit 2) naming each fault. */
export function readFleet(file: string): Fleet {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new TargetError(`${file}: ${(err as Error).message}`)
  }
  const parsed = fleetSchema.safeParse(raw)
  if (!parsed.success) {
    throw new TargetError(
      `${file}: invalid fleet file\n${parsed.error.issues.map((i) => `  ${file}: ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`,
    )
  }
  return parsed.data
}

/** The `authbench_info` labels a cell's servers must show; axes the cell does not take are not asked. */
function wantedInfo(plan: CellPlan): Record<string, string> {
  const want: Record<string, string> = { strategy: plan.strategy }
  if (plan.store) want.store = plan.store
  if (plan.alg) want.alg = plan.alg
  if (plan.engine) want.engine = plan.engine
  if (plan.keyForm) want.key_form = plan.keyForm
  if (plan.verifyCache !== null) want.verify_cache = String(plan.verifyCache)
  if (plan.revocation) want.revocation = plan.revocation
  // A session cell names its cache, on or off: a cached server must not stand for an uncached cell.
  if (strategyDescriptors[plan.strategy].cachesSessions)
    want.session_cache = plan.sessionCache ? `${plan.sessionCache.entries}/${plan.sessionCache.ttlSeconds}` : 'off'
  want.framework = plan.framework ?? DEFAULT_FRAMEWORK
  if (plan.strategy === 'session') want.session_library = plan.sessionLibrary ?? DEFAULT_SESSION_LIBRARY
  if (plan.preset) want.preset = plan.preset
  if (plan.runtime) want.runtime = plan.runtime
  return want
}

const describe = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')

/**
 * Connects to every target (each must answer and export the metrics the harness reads) and gives
 * each cell the instances that run it. Throws TargetError, before any load, for a target that does
 * not answer, a cell whose instance count the targets do not have, a cell the harness would have
 * to start something for (a delay proxy), or a target no cell uses.
 */
export async function matchTargets(fleet: Fleet, plans: CellPlan[]): Promise<Map<string, RemoteInstance[]>> {
  return matchInstances(await connectAll(fleet), plans)
}

/** Every target's handle; TargetError naming each one that does not answer with the metrics the harness reads. */
export async function connectAll(fleet: Fleet, probe = true): Promise<RemoteInstance[]> {
  const problems: string[] = []
  const instances = (
    await Promise.all(
      fleet.instances.map((t) =>
        remoteInstance(t.url, t.metricsUrl, probe).catch((err: Error) => {
          problems.push(err.message)
          return null
        }),
      ),
    )
  ).filter((i): i is RemoteInstance => i !== null)
  if (problems.length) throw new TargetError(`targets not usable:\n  ${problems.join('\n  ')}`)
  return instances
}

/** The instances each cell's plan asks for, by their `authbench_info`; TargetError naming every mismatch. */
export function matchInstances(instances: RemoteInstance[], plans: CellPlan[]): Map<string, RemoteInstance[]> {
  const problems: string[] = []
  const byCell = new Map<string, RemoteInstance[]>()
  const used = new Set<RemoteInstance>()
  for (const plan of plans) {
    const want = wantedInfo(plan)
    const match = instances.filter((i) => Object.entries(want).every(([k, v]) => i.info[k] === v))
    if (plan.storeRttMs)
      problems.push(
        `${plan.id}: storeRttMs ${plan.storeRttMs} needs a delay proxy between servers and store that the harness starts; remote mode starts nothing`,
      )
    if (match.length !== plan.instances) {
      problems.push(
        `${plan.id}: needs ${plan.instances} instance(s) running ${describe(want)}; the targets ` +
          `have ${match.length}${match.length ? ` (${match.map((i) => i.url).join(', ')})` : ''}`,
      )
      continue
    }
    for (const i of match) used.add(i)
    byCell.set(plan.id, match)
  }
  for (const i of instances) if (!used.has(i)) problems.push(`${i.url} (${describe(i.info)}) matches no cell of the scenario`)
  if (problems.length) throw new TargetError(`the targets do not match the scenario:\n  ${problems.join('\n  ')}`)
  return byCell
}
