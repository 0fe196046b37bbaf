// Question: with the session store across the network (0.5, 1, 2 ms away), what does a user wait,
// at equal load, compared with a JWT that does not ask the store? Latency, not CPU, is the headline.
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'distance',
  description:
    'GET /me, open loop at 500 and 1,500 requests/s: sessions on Redis with 0, 0.5, 1 and 2 ms added between the servers and Redis ' +
    '(a delay proxy, its added round trip measured), against JWT HS256 (fast-jwt), whose GETs never reach the store.',
  cells: [
    { strategy: 'session', store: 'redis', storeRttMs: [0, 0.5, 1, 2] },
    { strategy: 'jwt', engine: 'fast-jwt' },
  ],
  workload: { route: 'GET /me', users: 200 },
  load: { mode: 'open', rates: [500, 1500], durationSeconds: 3, warmupSeconds: 1, rounds: 2, connections: 50 },
  simulate: true,
})
