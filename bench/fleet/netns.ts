// Several hosts on one machine: each instance, the balancer, the store and each load driver in a
// network namespace of its own, with its own address from 198.18.0.0/15 (RFC 2544's range for
// benchmarking network devices), all on one bridge that has no route out. The harness itself
// reaches them through the bridge's own address. Every namespace, veth and bridge made is removed
// on every exit path: by `destroy()`, by the synchronous exit hook, and, for a run killed outright,
// by the next run's sweep of topologies whose owner is gone.
import { spawnSync } from 'node:child_process'

/**
 * The benchmarking range (RFC 2544), 198.18.0.0/15: the only addresses a topology ever uses. Each
 * topology takes a /24 of its own in it (198.18.N.0/24, then 198.19.N.0/24), one no other
 * interface of this machine holds, so two runs at once never share a subnet.
 */
export const NETNS_RANGE = '198.18.0.0/15'
const SUBNETS = [...Array.from({ length: 256 }, (_, n) => `198.18.${n}`), ...Array.from({ length: 256 }, (_, n) => `198.19.${n}`)]

/** The /24s of 198.18.0.0/15 some interface of this machine holds an address in. */
function subnetsInUse(): Set<string> {
  const used = new Set<string>()
  for (const m of ip(['-o', '-4', 'addr', 'show'], true).matchAll(/inet (198\.1[89]\.\d+)\.\d+\//g)) used.add(m[1]!)
  return used
}
/** Names made here start with this and the owner's pid, so a sweep can tell whose they are. */
const NAME = 'ab'

export interface Host {
  name: string
  namespace: string
  address: string
  /** The veth end on the bridge. */
  link: string
  /** Runs `argv` inside this host's namespace. */
  wrap(argv: string[]): string[]
  /**
   * Takes the host's link down (its veth's bridge end: the switch port, so the host keeps its address and routes and
   * nothing reaches it or leaves it) or up again. Up is idempotent; `destroy()` removes the link either way.
   */
  setLink(up: boolean): void
}

export interface Topology {
  bridge: string
  /** The harness's own address on the bridge. */
  address: string
  hosts: Host[]
  /** A new host on the bridge, with the next free address. */
  add(name: string): Host
  destroy(): void
}

function ip(args: string[], allowFail = false): string {
  const res = spawnSync('ip', args, { encoding: 'utf8' })
  if (res.status !== 0 && !allowFail) throw new Error(`ip ${args.join(' ')}: ${(res.stderr || res.error?.message || '').trim()}`)
  return res.stdout ?? ''
}

/** Why a topology cannot be built here, or null: it needs root and iproute2. */
export function netnsUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'a network-namespace topology needs root (ip netns, veth, a bridge)'
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0)
    return 'ip (iproute2) is not on PATH; install it (apt-get install iproute2, or npm run setup)'
  return null
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes what earlier runs left (their owner no longer alive): the processes still running in their namespaces, the
 * namespaces `ab<pid>-*`, bridges `ab<pid>br`, veths `ab<pid>v<n>`. */
export function sweepStale(): string[] {
  const removed: string[] = []
  for (const line of ip(['netns', 'list'], true).split('\n')) {
    const ns = line.split(' ')[0]!
    const m = new RegExp(`^${NAME}(\\d+)-`).exec(ns)
    if (m && !alive(Number(m[1]))) {
      // What the killed run left running on that host (its servers, Redis, HAProxy, drivers) goes with it.
      for (const pid of ip(['netns', 'pids', ns], true).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      ip(['netns', 'del', ns], true)
      removed.push(ns)
    }
  }
  for (const line of ip(['-o', 'link', 'show'], true).split('\n')) {
    const m = new RegExp(`^\\d+: (${NAME}(\\d+)(?:br|v\\d+))[:@]`).exec(line)
    if (m && !alive(Number(m[2]))) {
      ip(['link', 'del', m[1]!], true)
      removed.push(m[1]!)
    }
  }
  return removed
}

/** Namespaces and bridges a process made, by its pid: what a test checks is gone. */
export function leftBy(pid: number): string[] {
  const ns = ip(['netns', 'list'], true)
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${NAME}${pid}-`))
  const links = ip(['-o', 'link', 'show'], true)
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`${NAME}${pid}`))
  return [...ns, ...links]
}

/**
 * Builds the bridge (with the harness's address, and no route beyond its /24) and returns the
 * topology; hosts are added as the run needs them.
 */
export function createTopology(): Topology {
  sweepStale()
  const pid = process.pid
  const bridge = `${NAME}${pid}br`
  const hosts: Host[] = []
  let subnet = ''
  let destroyed = false
  const destroy = () => {
    if (destroyed) return
    destroyed = true
    process.off('exit', destroy)
    // The outside end first: deleting it deletes its peer even while a process still holds the namespace.
    for (const h of hosts) {
      ip(['link', 'del', h.link], true)
      ip(['netns', 'del', h.namespace], true)
    }
    ip(['link', 'del', bridge], true)
  }
  process.on('exit', destroy)
  try {
    ip(['link', 'add', bridge, 'type', 'bridge'])
    // A free /24, taken by putting the bridge's address in it; another run that took the same one
    // at the same moment shows as a second holder, and the later one moves on.
    for (const candidate of SUBNETS.slice(pid % 200)) {
      if (subnetsInUse().has(candidate)) continue
      ip(['addr', 'add', `${candidate}.1/24`, 'dev', bridge])
      const holders = ip(['-o', '-4', 'addr', 'show'], true)
        .split('\n')
        .filter((l) => l.includes(`inet ${candidate}.`))
      if (holders.length === 1) {
        subnet = candidate
        break
      }
      ip(['addr', 'del', `${candidate}.1/24`, 'dev', bridge], true)
    }
    if (!subnet) throw new Error(`no free /24 left in ${NETNS_RANGE}`)
    ip(['link', 'set', bridge, 'up'])
  } catch (err) {
    destroy()
    throw err
  }
  const add = (name: string): Host => {
    const n = hosts.length + 1
    if (n > 250) throw new Error('a topology holds at most 250 hosts')
    const namespace = `${NAME}${pid}-${name}`
    const address = `${subnet}.${n + 9}`
    const outside = `${NAME}${pid}v${n}`.slice(0, 15)
    const host: Host = {
      name,
      namespace,
      address,
      link: outside,
      wrap: (argv) => ['ip', 'netns', 'exec', namespace, ...argv],
      setLink: (up) => {
        if (!destroyed) ip(['link', 'set', outside, up ? 'up' : 'down'])
      },
    }
    ip(['netns', 'add', namespace])
    hosts.push(host)
    ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace])
    ip(['link', 'set', outside, 'master', bridge, 'up'])
    ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
    ip(['-n', namespace, 'link', 'set', 'eth0', 'up'])
    ip(['-n', namespace, 'link', 'set', 'lo', 'up'])
    return host
  }
  return { bridge, address: `${subnet}.1`, hosts, add, destroy }
}
