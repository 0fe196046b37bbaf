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
  // Short interleaved rounds: their median shrugs off a burst of noise from the shared host.
  load: { connections: 50, durationSeconds: 2, warmupSeconds: 1, rounds: 4 },
  baseline: { strategy: 'none' },
  // The primitives too, so the report can explain each cell's CPU per request.
  micro: true,
})
