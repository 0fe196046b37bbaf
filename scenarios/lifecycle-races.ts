// Question: two tabs of one user refresh at the same moment with the same refresh token. Rotation
// with reuse detection reads the second as theft and revokes the whole family: the user is logged
// out for nothing. How often, and does a grace window for a just-rotated token (RFC 9700 allows
// one) stop it while reuse outside the window is still caught?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'lifecycle-races',
  description:
    'Concurrent refreshes: 200 users calling GET /me twice a second with 4 s access tokens; one refresh in ten is sent by two tabs at ' +
    'once with the same refresh token. JWT HS256 (fast-jwt) on SQLite and Redis, without a grace window and with a 2 s one.',
  cells: [{ strategy: 'jwt', engine: 'fast-jwt', store: ['sqlite', 'redis'], accessTtlSeconds: 4, refreshGraceSeconds: [0, 2] }],
  workload: {
    route: 'lifecycle',
    users: 200,
    requestsPerUserPerSecond: 2,
    durationSeconds: 10,
    logoutsPerSecond: 2,
    concurrentRefreshShare: 0.1,
  },
  load: { rounds: 1 },
})
