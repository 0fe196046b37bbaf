// Question: per request on GET /me, what does identifying the caller cost with a server-side
// session (SQLite, Redis, in-process memory) versus a JWT (HS256 and EdDSA, jose and fast-jwt),
// measured against the same server with no authentication at all?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'default',
  description: 'GET /me: sessions over SQLite, Redis and memory against JWTs (HS256, EdDSA; jose, fast-jwt), against no auth',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis', 'memory'] },
    { strategy: 'jwt', alg: ['HS256', 'EdDSA'], engine: ['jose', 'fast-jwt'] },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 4, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
