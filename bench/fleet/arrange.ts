// What a run arranges before its cells, for the fleet it asked for: a namespace topology (or the
// notice that it runs on loopback instead), the stores placed on its hosts, and the load-driver
// processes; undone, in the reverse order, on every exit path.
import type { StoreKind } from '../../servers/types.ts'
import type { Driver } from '../drive/closed.ts'
import type { RunListener } from '../contracts/events.ts'
import type { CellPlan } from '../contracts/plan.ts'
import type { TopologyRecord } from '../contracts/results.ts'
import type { Scenario } from '../contracts/scenario.ts'
import type { Fleet } from '../remote/fleet.ts'
import type { ProcessGroup } from '../processes.ts'
import { storeDescriptors } from '../stores/index.ts'
import { storeProvisioners } from '../stores/run/index.ts'
import type { OpenDriver } from '../drive/open.ts'
import { startDrivers } from './drivers.ts'
import { placers, type Placement } from './placement.ts'

/** Stores a namespace topology can start on a host of its own. */
const PLACEABLE = Object.values(storeProvisioners).flatMap((p) => (p.onHost ? [storeDescriptors[p.kind].label] : []))

export interface Arranged {
  placement: Placement | null
  storeUrls: Partial<Record<StoreKind, string>>
  /** The CPU of each store started on a host whose protocol does not tell it, by kind. */
  hostedCpu: Partial<Record<StoreKind, () => Promise<number | null>>>
  /** Several driver processes (or one on its own host), or null: the harness drives. */
  driver: Driver | null
  openDriver: OpenDriver | null
  /** Every host made so far (instances get theirs as cells start: read it after the run). */
  record(): TopologyRecord
  close(): Promise<void>
}

const loopback = (note: string | null): TopologyRecord => ({ kind: 'loopback', harness: '127.0.0.1', hosts: [], note })
export const remoteRecord = (f: Fleet): TopologyRecord => ({
  kind: 'remote',
  harness: null,
  hosts: f.instances.map((t, i) => ({ name: `instance${i + 1}`, address: t.url })),
  note: null,
})

export async function arrangeFleet(o: {
  scenario: Scenario
  plans: CellPlan[]
  active: Set<string>
  storeUrls: Partial<Record<StoreKind, string>>
  group: ProcessGroup
  clientCpus: string | null
  emit: RunListener
  /** Remote mode's fleet file: what the run benches instead of starting servers. */
  targets: Fleet | null
}): Promise<Arranged> {
  const undo: (() => Promise<void> | void)[] = []
  const close = async () => {
    for (const u of undo.reverse()) await u()
  }
  let placement: Placement | null = null
  let note: string | null = null
  try {
    const placer = placers[o.scenario.topology]
    const why = placer.unavailable()
    if (why) {
      note = `${why}: this run used loopback`
      o.emit({ type: 'notice', message: `topology: ${note}` })
    } else {
      placement = placer.place()
      const p = placement
      if (p) undo.push(() => p.destroy())
    }
    const storeUrls = { ...o.storeUrls }
    const hostedCpu: Arranged['hostedCpu'] = {}
    if (placement) {
      for (const kind of new Set(o.plans.flatMap((p) => (p.store && o.active.has(p.id) ? [p.store] : [])))) {
        // An in-process store lives in each instance: nothing to place on a host.
        if (storeDescriptors[kind].placement === 'in-process' || storeUrls[kind]) continue
        const onHost = storeProvisioners[kind].onHost
        if (!onHost) {
          for (const p of o.plans.filter((x) => x.store === kind && o.active.has(x.id))) {
            o.active.delete(p.id)
            o.emit({
              type: 'cell-skipped',
              cell: p.id,
              reason:
                `a namespace topology places ${PLACEABLE.join(', ')} and the in-process stores on its hosts; ` +
                `${kind} is not placed yet (run it with topology "loopback")`,
            })
          }
          continue
        }
        const hosts = placement.stores(Math.max(1, storeDescriptors[kind].processes))
        const started = await onHost(hosts, { cpus: o.clientCpus, group: o.group })
        undo.push(() => started.stop())
        storeUrls[kind] = started.url
        if (started.cpuUs) hostedCpu[kind] = started.cpuUs
        o.emit({ type: 'notice', message: started.description })
      }
    }
    let driver: Driver | null = null
    let openDriver: OpenDriver | null = null
    const n = o.scenario.load.drivers
    // The lifecycle's virtual users run in the harness (on the bridge's address): no driver process to start.
    if ((placement || n > 1) && o.scenario.workload.route !== 'lifecycle') {
      const wraps = placement ? placement.drivers(n).map((h) => h.wrap) : Array.from({ length: n }, () => (argv: string[]) => argv)
      const pool = await startDrivers(o.group, wraps, o.clientCpus)
      undo.push(() => pool.stop())
      driver = pool.drive
      openDriver = pool.open
    }
    const p = placement
    const remote = o.targets ? remoteRecord(o.targets) : null
    return { placement, storeUrls, hostedCpu, driver, openDriver, record: () => remote ?? (p ? p.record() : loopback(note)), close }
  } catch (err) {
    await close()
    throw err
  }
}
