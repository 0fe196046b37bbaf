// Question: what does a cache in front of the session store cost in revocation? Teams put an in-process
// LRU before the store to save its read; fast-jwt's verify cache skips the signature check of a token it
// has seen. On the instance that cached it, does a logged-out session or a revoked token keep working,
// and for how long beside the cache's TTL? Two instances behind HAProxy round robin, so each user's
// requests reach both; after each logout a thief presents the copy to each instance directly.
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'session-cache',
  description:
    'The revocation lag an instance cache adds: a Redis session without and with a 2 s session cache, and fast-jwt with a ' +
    '1000-entry verify cache and a denylist, each on 2 instances behind HAProxy round robin; users call GET /me twice a second ' +
    'and some log out while a thief presents the old credential to every instance until each refuses it.',
  cells: [
    {
      strategy: 'session',
      store: 'redis',
      sessionCache: [null, { entries: 1000, ttlSeconds: 2 }],
      instances: 2,
      balancer: 'haproxy',
      balance: 'roundrobin',
    },
    {
      strategy: 'jwt',
      engine: 'fast-jwt',
      verifyCache: 1000,
      revocation: 'denylist',
      store: 'redis',
      accessTtlSeconds: 8,
      instances: 2,
      balancer: 'haproxy',
      balance: 'roundrobin',
    },
  ],
  workload: { route: 'lifecycle', users: 100, requestsPerUserPerSecond: 2, durationSeconds: 10, logoutsPerSecond: 5 },
  load: { rounds: 1 },
})
