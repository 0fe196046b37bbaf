// Question: per GET /me, what do the session libraries teams ship cost as their READMEs configure them
// (defaults: a store write on every request) and as their maintainers advise (tuned: none), on Redis and
// PostgreSQL, on the framework each runs on, against this benchmark's reference session on the same
// framework and store and against an HS256 JWT? Each library cell's results name the settings that
// separate its two presets (results.json `library.settings`).
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'stacks',
  description:
    'GET /me: express-session and @fastify/session (defaults and tuned) on Redis and PostgreSQL, against the reference session and an HS256 JWT',
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
  ],
  workload: { route: 'GET /me', users: 200 },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
