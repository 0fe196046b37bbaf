// Question: what happens with two server instances behind one load: sessions in a shared store
// (SQLite file, Redis) and JWTs keep working, while a per-process store (memory) breaks?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'scaling',
  description: 'GET /me with 1 and 2 instances: shared stores against a per-process store, JWT needing none',
  cells: [
    { strategy: 'none', instances: [1, 2] },
    { strategy: 'session', store: ['sqlite', 'redis', 'memory'], instances: [1, 2] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', store: 'memory', instances: [1, 2] },
    { strategy: 'jwt', alg: 'HS256', engine: 'fast-jwt', store: 'memory', revocation: 'denylist', instances: 2 },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 3, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none', instances: 1 },
})
