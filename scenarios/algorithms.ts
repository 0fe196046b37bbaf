// Question: how much does the choice of signature algorithm (HS256, RS256, ES256, EdDSA) and of
// library (jose, fast-jwt) change the per-request cost of verifying an access token?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'algorithms',
  description: 'GET /me with every JWT algorithm and both libraries, against a SQLite session',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: 'sqlite' },
    { strategy: 'jwt', alg: ['HS256', 'RS256', 'ES256', 'EdDSA'], engine: ['jose', 'fast-jwt'] },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 3, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
