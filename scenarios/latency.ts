// Question: at a given load, what latency does a user see (p50, p99, counted from when each
// request was due, not from when a busy client got round to sending it), with a session on
// SQLite, PostgreSQL or Redis against a JWT (HS256 with jose and fast-jwt, EdDSA with fast-jwt),
// both at the same rates for every cell and walked up to each cell's own knee, on one instance
// and on two?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'latency',
  description: "GET /me, open loop: equal rates for every cell, and 25-90% of each cell's own closed-loop capacity",
  // One and two instances of the baseline, the Redis session and the fast-jwt JWT: the fleet model
  // is checked at both (the two share the servers' CPU here, and the model is told so).
  cells: [
    { strategy: 'none', instances: [1, 2] },
    { strategy: 'session', store: ['sqlite', 'postgres'] },
    { strategy: 'session', store: 'redis', instances: [1, 2] },
    { strategy: 'jwt', alg: 'HS256', engine: 'jose' },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', instances: [1, 2] },
    { strategy: 'jwt', alg: 'EdDSA', engine: 'fast-jwt' },
  ],
  workload: { route: 'GET /me' },
  load: {
    mode: 'open',
    rates: [1000, 3000],
    capacityFractions: [0.25, 0.5, 0.75, 0.9],
    connections: 50,
    durationSeconds: 1,
    warmupSeconds: 1,
    rounds: 3,
  },
  baseline: { strategy: 'none', instances: 1 },
  simulate: true,
})
