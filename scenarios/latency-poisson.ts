// Question: does the fleet model's latency hold where the plan quotes it, on arrivals as a new
// user's traffic makes them (Poisson), on one instance and on two, from 20% to 70% of each cell's
// closed-loop capacity (judged against the utilisation each point measured)?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'latency-poisson',
  description: "GET /me, open loop with Poisson arrivals: 20-70% of each cell's own closed-loop capacity, on one and two instances",
  // The cells the fleet model is checked at both instance counts (two share the servers' CPU here).
  cells: [
    { strategy: 'none', instances: [1, 2] },
    { strategy: 'session', store: 'redis', instances: [1, 2] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', instances: [1, 2] },
  ],
  workload: { route: 'GET /me' },
  load: {
    mode: 'open',
    arrivals: 'poisson',
    rates: [1000],
    capacityFractions: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    connections: 50,
    durationSeconds: 1,
    warmupSeconds: 1,
    rounds: 3,
  },
  baseline: { strategy: 'none', instances: 1 },
  simulate: true,
})
