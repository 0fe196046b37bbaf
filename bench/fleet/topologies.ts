// Topologies as descriptors, like balancers: each owns whether it puts the run's processes on
// hosts of their own, how many CPUs a cell's servers share under it, and how the report describes
// it. Pure: making the hosts is the run's side (placement.ts, netns.ts).
import type { TopologyKind, TopologyRecord } from '../contracts/results.ts'

/** The hosts a namespace topology makes, by role: `app1`, `app2`, ... for the instances, `load1`, ... for the drivers. */
export const HOSTS = { instance: 'app', balancer: 'lb', store: 'store', driver: 'load' } as const

/** The i-th store host (from 0): `store`, which every store's first process shares, then `store2`, `store3`, ... (a cluster's masters). */
export const storeHost = (i: number) => (i === 0 ? HOSTS.store : `${HOSTS.store}${i + 1}`)
export const isStoreHost = (name: string) => name === HOSTS.store || new RegExp(`^${HOSTS.store}\\d+$`).test(name)

export interface TopologyDescriptor {
  kind: TopologyKind
  /** Whether it puts the processes the harness starts on hosts of their own (remote mode starts none to place). */
  placesProcesses: boolean
  /** The CPUs a cell's servers share, given the machine's (or the servers' pinned set's): null when each instance has a core of its own. */
  serverCpus(machine: number): number | null
  /** Where the run's processes were, in words, from the hosts its record names. */
  describe(hosts: TopologyRecord['hosts']): string
}

const loopback: TopologyDescriptor = {
  kind: 'loopback',
  placesProcesses: false,
  serverCpus: (machine) => machine,
  describe: () => 'with every process on loopback',
}

const netns: TopologyDescriptor = {
  kind: 'netns',
  placesProcesses: true,
  // The hosts are namespaces of one machine: the instances still share its (pinned) CPUs.
  serverCpus: (machine) => machine,
  describe: (hosts) => {
    const has = (name: string) => hosts.some((h) => h.name === name)
    const stores = hosts.filter((h) => isStoreHost(h.name)).length
    const roles = [
      'each instance',
      ...(has(HOSTS.balancer) ? ['the balancer'] : []),
      ...(stores > 1 ? [`the store (${stores} hosts)`] : stores ? ['the store'] : []),
      ...(hosts.some((h) => h.name.startsWith(HOSTS.driver)) ? ['each load driver'] : []),
    ]
    return `with ${roles.join(', ')} on a network namespace of its own (${hosts.length} hosts)`
  },
}

const remote: TopologyDescriptor = {
  kind: 'remote',
  placesProcesses: false,
  // A remote fleet's instances run elsewhere: each a core of its own (a Node process serves on one thread).
  serverCpus: () => null,
  describe: (hosts) => `on a fleet authbench did not start (${hosts.length} instances, read through their metrics)`,
}

export const topologies = { loopback, netns, remote } satisfies Record<TopologyKind, TopologyDescriptor>

/** The topology a run's record names; older results, which have none, ran on loopback. */
export const topologyOf = (t: TopologyRecord | undefined): TopologyDescriptor => topologies[t?.kind ?? 'loopback']
