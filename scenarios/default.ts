// Question: per request on GET /me, what does identifying the caller cost with a server-side
// session (SQLite in the server's process; Redis and PostgreSQL across a socket) versus a JWT (HS256 and EdDSA, jose and fast-jwt)
// versus a stateless session sealed in an encrypted cookie, measured against the same server
// with no authentication at all?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'default',
  description:
    'GET /me: sessions over SQLite, Redis and PostgreSQL against JWTs (HS256, EdDSA; jose, fast-jwt) and a sealed-cookie session, against no auth',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'jwt', alg: ['HS256', 'EdDSA'], engine: ['jose', 'fast-jwt'] },
    { strategy: 'cookie' },
  ],
  workload: { route: 'GET /me' },
  // Many short interleaved rounds: the shared host's noise comes and goes within seconds, and the
  // median of six one-second windows spread over the run shrugs off a burst of it.
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 6 },
  baseline: { strategy: 'none' },
  // The primitives too, so the report can explain each cell's CPU per request.
  micro: true,
})
