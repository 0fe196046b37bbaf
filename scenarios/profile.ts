// Question: once the handler needs the full user record (GET /profile), does the JWT's
// "no database hit" advantage survive, or does every strategy pay for the users-table read?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'profile',
  description: 'GET /profile: every strategy reads the users table; sessions read their store as well; a sealed cookie does not',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis', 'postgres'] },
    { strategy: 'jwt', alg: 'HS256', engine: ['jose', 'fast-jwt'] },
    { strategy: 'cookie' },
  ],
  workload: { route: 'GET /profile' },
  load: { connections: 50, durationSeconds: 4, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
