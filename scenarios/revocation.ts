// Question: what does it cost to make JWT logout immediate with a denylist checked on every
// request, compared with a plain JWT (which keeps working until it expires), a session, and a
// sealed-cookie session (which no logout can revoke)?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'revocation',
  description: 'GET /me: JWT with and without a per-request jti denylist (SQLite, Redis), against sessions and a sealed cookie',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', revocation: 'none' },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', revocation: 'denylist', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'cookie' },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 4, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
