// Question: when every user logs in at once (a mass login, a deploy that drops every session, a
// clock step), their access tokens expire together. How high does the refresh rate peak, what do
// the other requests feel meanwhile, and how much does refresh jitter on the client spread it?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'lifecycle-storm',
  description:
    'Refresh storms: 500 users log in at once at the start of the window, then call GET /me once a second; their 6 s access tokens ' +
    'expire together. JWT HS256 (fast-jwt) on SQLite and Redis, the clients refreshing 0.5 s before exp, without jitter and with up ' +
    'to 2 s of it; a SQLite session beside them, which has nothing to refresh.',
  cells: [
    { strategy: 'session', store: 'sqlite' },
    { strategy: 'jwt', engine: 'fast-jwt', store: ['sqlite', 'redis'], accessTtlSeconds: 6, refreshJitterSeconds: [0, 2] },
  ],
  workload: { route: 'lifecycle', users: 500, requestsPerUserPerSecond: 1, durationSeconds: 14, logoutsPerSecond: 0, synchronized: true },
  load: { rounds: 1 },
})
