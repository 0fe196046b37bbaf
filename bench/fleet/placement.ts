// Where a run's processes live: all on loopback, or each on a host of a namespace topology (an
// instance per host, shared by the cells' n-th instances as one machine runs several services; one
// host for the balancer, one for the store, one per load driver).
import type { TopologyRecord } from '../contracts/results.ts'
import type { Topology } from '../contracts/scenario.ts'
import { createTopology, netnsUnavailable, type Host } from './netns.ts'
import { HOSTS, isStoreHost, storeHost } from './topologies.ts'

/** A partition of the store's hosts: their links down (nothing reaches them), then up again. */
export interface LinkFaults {
  /** The hosts, by name (`store`; a cluster's `store, store2, store3`). */
  host: string
  cut(): Promise<void>
  /** Up again; safe to call any time. */
  heal(): Promise<void>
}

export interface Placement {
  instance(i: number): Host
  balancer(): Host
  /**
   * The store's hosts, `n` of them (one per process of a store whose processes are on hosts of their own, a cluster's
   * masters): `store`, then `store2`, `store3`, ...; every store shares the first.
   */
  stores(n: number): Host[]
  /** The links of every store host made, to partition them from the others; null when no store was placed on a host. */
  storeLink(): LinkFaults | null
  drivers(n: number): Host[]
  record(): TopologyRecord
  destroy(): void
}

function netnsPlacement(): Placement {
  const topology = createTopology()
  const byName = new Map<string, Host>()
  const host = (name: string) => {
    const known = byName.get(name)
    if (known) return known
    const h = topology.add(name)
    byName.set(name, h)
    return h
  }
  return {
    instance: (i) => host(`${HOSTS.instance}${i + 1}`),
    balancer: () => host(HOSTS.balancer),
    stores: (n) => Array.from({ length: n }, (_, i) => host(storeHost(i))),
    storeLink: () => {
      // Every store host at once: a cluster whose masters the servers' hosts can still partly reach is not partitioned from them.
      const hs = [...byName.values()].filter((h) => isStoreHost(h.name))
      if (!hs.length) return null
      return {
        host: hs.map((h) => h.name).join(', '),
        cut: async () => {
          for (const h of hs) h.setLink(false)
        },
        heal: async () => {
          for (const h of hs) h.setLink(true)
        },
      }
    },
    drivers: (n) => Array.from({ length: n }, (_, i) => host(`${HOSTS.driver}${i + 1}`)),
    record: () => ({
      kind: 'netns',
      harness: topology.address,
      hosts: topology.hosts.map((h) => ({ name: h.name, address: h.address })),
      note: null,
    }),
    destroy: () => topology.destroy(),
  }
}

/** How a scenario's topology places its processes: why it cannot be made here (root, a tool missing), or null; and the placement it makes. */
export interface Placer {
  unavailable(): string | null
  /** Null: every process on loopback. */
  place(): Placement | null
}

export const placers = {
  loopback: { unavailable: () => null, place: () => null },
  netns: { unavailable: netnsUnavailable, place: netnsPlacement },
} satisfies Record<Topology, Placer>
