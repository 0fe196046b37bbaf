// Question: what does a user's whole credential lifetime cost the store, and how long does a
// logged-out credential keep working, as the access token's lifetime grows? Where do refreshing
// JWTs start costing the store less than sessions (the break-even lifetime)?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'lifecycle',
  description:
    "What a user's whole credential lifetime costs: virtual users log in, call GET /me twice a second, refresh their access token " +
    'before it expires, and some log out while a thief keeps presenting the old credential. Access-token lifetimes of 4, 8 and 16 s ' +
    'stand for minutes (what carries over is requests per lifetime). Store operations per second against the lifetime, and how long ' +
    'a logged-out credential keeps working.',
  cells: [
    { strategy: 'session', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'cookie', accessTtlSeconds: [4, 8, 16] },
    { strategy: 'jwt', engine: 'fast-jwt', revocation: ['none', 'denylist'], accessTtlSeconds: [4, 8, 16] },
  ],
  workload: { route: 'lifecycle', users: 200, requestsPerUserPerSecond: 2, durationSeconds: 10, logoutsPerSecond: 10 },
  load: { rounds: 1 },
})
