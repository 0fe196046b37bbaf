// Question: at a given load, what latency does a user see (p50, p99, counted from when each
// request was due, not from when a busy client got round to sending it), with a session on
// SQLite or Redis against a JWT (HS256 with jose and fast-jwt, EdDSA with fast-jwt), both at the
// same rates for every cell and walked up to each cell's own knee?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'latency',
  description: 'GET /me, open loop: equal rates for every cell, and 25-90% of each cell\'s own closed-loop capacity',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'jwt', alg: 'HS256', engine: ['jose', 'fast-jwt'] },
    { strategy: 'jwt', alg: 'EdDSA', engine: 'fast-jwt' },
  ],
  workload: { route: 'GET /me' },
  load: {
    mode: 'open', rates: [1000, 3000], capacityFractions: [0.25, 0.5, 0.75, 0.9],
    connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3,
  },
  baseline: { strategy: 'none' },
  simulate: true,
})
