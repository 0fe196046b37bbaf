// Question: under a fixed arrival rate (requests keep coming whatever the servers do), what does a user of each strategy see
// while the store's host is cut off from the app hosts, and how soon after the link is back are answers good again? Sessions
// on Redis fail closed with 503 within the store timeout, JWTs keep answering 200 from the token, a denylist fails closed.
// Every process is on a host of its own (network namespaces of one machine).
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'fleet-faults-open',
  description:
    "The store host's link down for 2 s at 2 s of each 8 s open-loop window at 400 GET /me per second, behind HAProxy in " +
    'front of two app instances, each instance, HAProxy and Redis on a host of its own: sessions on Redis against JWT HS256 ' +
    '(fast-jwt) with and without a Redis denylist. Requests due in each 100 ms by status, the slowest while cut off, and the ' +
    'time from the link coming back until answers are good again.',
  cells: [
    { strategy: 'session', store: 'redis', instances: 2, balancer: 'haproxy' },
    { strategy: 'jwt', engine: 'fast-jwt', store: 'redis', revocation: ['none', 'denylist'], instances: 2, balancer: 'haproxy' },
  ],
  workload: { route: 'GET /me' },
  faults: [{ atSeconds: 2, action: 'partition-store', durationSeconds: 2 }],
  topology: 'netns',
  // Connections enough for every request due in a store timeout (400/s x 0.5 s), so none waits in the driver for one.
  load: { mode: 'open', rates: [400], durationSeconds: 8, rounds: 1, connections: 400 },
})
