// Question: with a real load balancer in front and every process on a host of its own, how do a
// session on a shared Redis and a JWT scale from 1 to 2 to 4 instances, and what does the balancer
// itself cost per request? (On this machine the "hosts" are network namespaces sharing its cores:
// the run measures the software path a fleet runs, not more hardware.)
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'fleet',
  description:
    'GET /me through HAProxy (round robin) to 1, 2 and 4 instances, each on a host of its own (network namespaces), Redis on its ' +
    'own host, two load-driver hosts',
  cells: [
    { strategy: 'none', balancer: 'haproxy' },
    { strategy: 'session', store: 'redis', instances: [1, 2, 4], balancer: 'haproxy' },
    { strategy: 'jwt', engine: 'fast-jwt', instances: [1, 2, 4], balancer: 'haproxy' },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 64, durationSeconds: 3, warmupSeconds: 1, rounds: 3, drivers: 2 },
  topology: 'netns',
  baseline: { strategy: 'none' },
})
