// The balancer's own cost per request against a known answer: HAProxy, configured as a fleet cell's (one thread,
// keep-alive both sides, health checks), in front of a server that answers at once, driven by the open-loop driver at
// a ladder of rates until the driver cannot hold one. What HAProxy spends per request there is its cost with nothing
// behind it to wait on, so a fleet cell's balancer figure can be read against it at the cell's own rate. Each point
// records HAProxy's own request count (its frontend's `req_tot`) beside the driver's, the check on its denominator.
import type { BalancerFloorPoint } from '../contracts/results.ts'
import type { RunListener } from '../contracts/events.ts'
import { startKnownServer } from '../drive/known-servers.ts'
import { openLoop } from '../drive/open.ts'
import type { ProcessGroup } from '../processes.ts'
import { startHaproxy } from './haproxy.ts'

/** The ladder of rates (requests/s); a smoke run takes two. */
const RATES = [500, 1000, 2000, 4000, 8000, 16000, 32000]
const SMOKE_RATES = [500, 2000]
/** Each rate's window: half a second holds thousands of requests at all but the lowest rates. */
export const BALANCER_FLOOR_SECONDS = 0.5

export interface BalancerFloorOptions {
  group: ProcessGroup
  /** Where the cells' balancer ran (the load generator's CPUs), and where their servers did. */
  balancerCpus: string | null
  serverCpus: string | null
  durationSeconds: number
  smoke: boolean
  signal: AbortSignal
  emit: RunListener
}

const GET = [{ method: 'GET' as const, path: '/', headers: {} }]

/** Measures the floor, emitting one `balancer-floor-measured` event a rate; stops at the first rate the driver did not hold. */
export async function measureBalancerFloor(o: BalancerFloorOptions): Promise<BalancerFloorPoint[]> {
  const server = await startKnownServer({ kind: 'delay', ms: 0 }, { cpus: o.serverCpus, group: o.group })
  const points: BalancerFloorPoint[] = []
  try {
    const lb = await startHaproxy(o.group, { backends: [server.url], balance: 'roundrobin', stickyCookie: null, cpus: o.balancerCpus })
    try {
      const window = (rate: number, durationSeconds: number) =>
        openLoop({ urls: [lb.url], requests: GET, rate, durationSeconds, connections: 100, arrivals: 'constant', signal: o.signal })
      // HAProxy's count once it stops moving: a request the window gave up on can still reach it a moment later.
      const settled = async () => {
        let last = await lb.requestsTotal()
        for (let i = 0; i < 20; i++) {
          await new Promise((r) => setTimeout(r, 50))
          const now = await lb.requestsTotal()
          if (now === last) return now
          last = now
        }
        return last
      }
      await window(1000, 0.5)
      for (const rate of o.smoke ? SMOKE_RATES : RATES) {
        if (o.signal.aborted) break
        const countBefore = await settled()
        const cpuBefore = lb.cpuUs()
        const r = await window(rate, o.durationSeconds)
        const countAfter = await settled()
        const cpuAfter = lb.cpuUs()
        const point: BalancerFloorPoint = {
          rate,
          achievedRate: r.achievedRate,
          completed: r.completed,
          retried: r.retried,
          errors: r.errors,
          balancerRequests: countAfter - countBefore,
          cpuUsPerRequest: r.completed > 0 ? (cpuAfter - cpuBefore) / r.completed : null,
          busyShare: (cpuAfter - cpuBefore) / 1e6 / r.durationSeconds,
          held: r.held,
        }
        points.push(point)
        o.emit({ type: 'balancer-floor-measured', measurement: point })
        if (!r.held) break
      }
    } finally {
      await lb.stop()
    }
  } finally {
    await server.close()
  }
  return points
}
