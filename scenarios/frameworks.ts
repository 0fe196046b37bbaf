// Question: what does the framework itself cost per GET /me? The same routes and answers on Fastify
// and on Express 5, each with no authentication (the framework's own cost over the other's), a
// server-side session in SQLite and an HS256 JWT verified by fast-jwt, so a strategy's cost can be
// read over `none` on the framework it runs on.
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'frameworks',
  description: 'GET /me on Fastify and on Express 5: none, a SQLite session and an HS256 JWT (fast-jwt) on each',
  cells: [
    { strategy: 'none', framework: ['fastify', 'express'] },
    { strategy: 'session', store: 'sqlite', framework: ['fastify', 'express'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', framework: ['fastify', 'express'] },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none', framework: 'fastify' },
})
