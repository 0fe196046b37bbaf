// Question: when a host drops in a fleet (the store's host cut off from the app hosts, then one app
// instance killed), what does a user of each strategy see, and how soon is it over? Sessions on Redis
// fail closed while the store is out of reach, JWTs keep working until they expire (their refreshes
// need the store), a denylist cannot check; a per-process memory session has no store host to lose,
// but loses the sessions its killed instance held. Every process is on a host of its own (network
// namespaces of one machine).
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'fleet-faults',
  description:
    "The store host's link down for 2 s at 3 s, then one of two app instances killed for 2 s at 9 s, behind HAProxy, under 200 users " +
    'calling GET /me twice a second (open loop), each instance, HAProxy and Redis on a host of its own: sessions on Redis and in ' +
    "each instance's memory (sticky), against JWT HS256 (fast-jwt) with its refresh state on Redis, with and without a Redis " +
    'denylist. A cell takes the faults that apply to it (the memory session has no store host to cut off). Timeline in 100 ms ' +
    'buckets, recovery, and the users forced to log in again.',
  cells: [
    { strategy: 'session', store: 'redis', instances: 2, balancer: 'haproxy' },
    { strategy: 'session', store: 'memory', instances: 2, balancer: 'haproxy', balance: 'sticky' },
    {
      strategy: 'jwt',
      engine: 'fast-jwt',
      store: 'redis',
      revocation: ['none', 'denylist'],
      accessTtlSeconds: 4,
      instances: 2,
      balancer: 'haproxy',
    },
  ],
  workload: { route: 'lifecycle', users: 200, requestsPerUserPerSecond: 2, durationSeconds: 14, logoutsPerSecond: 0 },
  faults: [
    { atSeconds: 3, action: 'partition-store', durationSeconds: 2 },
    { atSeconds: 9, action: 'kill-instance', durationSeconds: 2 },
  ],
  topology: 'netns',
  load: { rounds: 1 },
})
