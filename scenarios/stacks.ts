// Question: per GET /me, what do the session libraries teams ship cost as their READMEs configure them
// (defaults: a store write on every request) and as their maintainers advise (tuned: none), on Redis and
// PostgreSQL, on the framework each runs on, against this benchmark's reference session on the same
// framework and store and against an HS256 JWT? And the JWT side as teams ship it: jsonwebtoken handed a string
// secret or a KeyObject, fast-jwt with its verify cache off and on. Each library cell's results name the settings that
// separate its two presets (results.json `library.settings`).
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'stacks',
  description:
    'GET /me: express-session and @fastify/session (defaults and tuned) on Redis and PostgreSQL, against the reference session ' +
    'and HS256 JWTs (fast-jwt with and without its verify cache; jsonwebtoken with a string secret and a KeyObject)',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', sessionLibrary: 'fastify-session', preset: ['defaults', 'tuned'], store: ['redis', 'postgres'] },
    {
      strategy: 'session',
      sessionLibrary: 'express-session',
      framework: 'express',
      preset: ['defaults', 'tuned'],
      store: ['redis', 'postgres'],
    },
    { strategy: 'session', store: ['redis', 'postgres'], framework: ['fastify', 'express'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', framework: ['fastify', 'express'] },
    // The JWT libraries as teams hand them their key, and fast-jwt's verify cache (off by default) on.
    { strategy: 'jwt', alg: 'HS256', engine: 'jsonwebtoken', keyForm: ['string', 'keyobject'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', verifyCache: 1000 },
  ],
  workload: { route: 'GET /me', users: 200 },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
