// What the harness can do to a cell's app instances behind its balancer: SIGKILL one, start it again
// with the same flags on the same port and host (so the balancer's health checks find it at the same
// address), and read how soon the balancer stopped sending to it. The instances' counters are read across a
// restart as one instance's: what the killed process had counted at its last read is carried.
import type { StatsSnapshot } from '../../servers/metrics.ts'
import type { ServerHandle } from '../processes.ts'
import type { Balancer } from './haproxy.ts'

export interface InstanceFaults {
  /**
   * SIGKILLs instance `i` (0-based) and resolves once it has exited; `routedAwayMs` then resolves with the ms from the kill
   * until the balancer's stats reported its server DOWN (polled every 20 ms), or null when it did not within 10 s.
   */
  kill(i: number): Promise<{ routedAwayMs: Promise<number | null> }>
  /** Starts instance `i` again, with its flags and port; resolves once it listens. */
  start(i: number): Promise<void>
  /** Starts every killed instance again. */
  ensureUp(): Promise<void>
}

const POLL_MS = 20
const ROUTED_AWAY_BOUND_MS = 10_000
const CARRIED = ['requests', 'failed', 'reads', 'writes', 'deletes', 'purges', 'cpuUs'] as const

const withPort = (args: string[], port: number) => args.map((a, k) => (k > 0 && args[k - 1] === '--port' ? String(port) : a))

/**
 * The instances' faults, and the instances as the window's counters read them. `servers` is the cell's own list of handles:
 * a restarted instance's handle replaces the killed one's there, so the cell's close stops it.
 */
export function instanceFaults(o: {
  servers: ServerHandle[]
  /** The flags every instance of the cell started with (`--port 0` among them). */
  args: string[]
  /** Starts instance `i` with these flags, as the cell's own were (its CPUs, its runtime, its host). */
  start: (args: string[], i: number) => Promise<ServerHandle>
  balancer: Pick<Balancer, 'serverStates'>
  /** How each instance is read (over IPC, or through its metrics on a namespace topology), in the order of `servers`. */
  readers: Pick<ServerHandle, 'stats'>[]
  /** How a restarted instance is read. */
  reader: (h: ServerHandle) => Promise<Pick<ServerHandle, 'stats'>>
}): { faults: InstanceFaults; measured: Pick<ServerHandle, 'url' | 'stats'>[] } {
  const readers = [...o.readers]
  const carried = o.servers.map(() => Object.fromEntries(CARRIED.map((k) => [k, 0])) as Record<(typeof CARRIED)[number], number>)
  const dead = new Map<number, StatsSnapshot>()
  const add = (s: StatsSnapshot, i: number): StatsSnapshot => ({
    ...s,
    ...Object.fromEntries(CARRIED.map((k) => [k, s[k] + carried[i]![k]])),
  })
  const measured = o.servers.map((s, i) => ({
    url: s.url,
    stats: async (reset: boolean): Promise<StatsSnapshot> => {
      const last = dead.get(i)
      if (last) return { ...last, ...carried[i]!, inFlight: 0 }
      return add(await readers[i]!.stats(reset), i)
    },
  }))
  const routedAway = async (i: number, killedAt: number): Promise<number | null> => {
    while (performance.now() - killedAt < ROUTED_AWAY_BOUND_MS) {
      if ((await o.balancer.serverStates())[`i${i + 1}`]?.startsWith('DOWN')) return Math.round(performance.now() - killedAt)
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
    return null
  }
  const faults: InstanceFaults = {
    async kill(i) {
      const handle = o.servers[i]!
      const last = await readers[i]!.stats(false)
      for (const k of CARRIED) carried[i]![k] += last[k]
      dead.set(i, last)
      const exited = new Promise((r) => handle.child.once('exit', r))
      handle.child.kill('SIGKILL')
      const killedAt = performance.now()
      await exited
      return { routedAwayMs: routedAway(i, killedAt) }
    },
    async start(i) {
      if (!dead.has(i)) return
      o.servers[i] = await o.start(withPort(o.args, o.servers[i]!.port), i)
      readers[i] = await o.reader(o.servers[i]!)
      dead.delete(i)
    },
    async ensureUp() {
      for (const i of [...dead.keys()]) await faults.start(i)
    },
  }
  return { faults, measured }
}
