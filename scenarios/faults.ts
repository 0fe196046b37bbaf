// Question: what does a user see when the session store pauses or restarts under load, how long
// until things are back to normal, and what do sessions and JWTs (with and without Redis-backed
// revocation) each lose?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'faults',
  description:
    'The store paused for 1 s at 3 s, then restarted without its state at 8 s, under 200 users calling GET /me twice a second (open loop): ' +
    'sessions on Redis and on PostgreSQL against JWT HS256 (fast-jwt) with its refresh state on Redis, with and without a Redis denylist. Timeline in ' +
    '100 ms buckets, recovery, and the users forced to log in again.',
  cells: [
    { strategy: 'session', store: ['redis', 'postgres'] },
    { strategy: 'jwt', engine: 'fast-jwt', store: 'redis', revocation: ['none', 'denylist'], accessTtlSeconds: 4 },
  ],
  workload: { route: 'lifecycle', users: 200, requestsPerUserPerSecond: 2, durationSeconds: 14, logoutsPerSecond: 0 },
  faults: [
    { atSeconds: 3, action: 'pause-store', durationSeconds: 1 },
    { atSeconds: 8, action: 'restart-store' },
  ],
  load: { rounds: 1 },
  simulate: true,
})
