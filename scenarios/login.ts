// Question: what does issuing a credential cost (POST /login): a session row written to the store
// versus a signed access token plus a recorded refresh token, on top of the same password check?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'login',
  description: 'POST /login: password check plus session creation, or token pair signing and refresh-token recording',
  cells: [
    { strategy: 'none' },
    { strategy: 'session', store: ['sqlite', 'redis'] },
    { strategy: 'jwt', alg: ['HS256', 'EdDSA'], engine: 'fast-jwt' },
  ],
  workload: { route: 'POST /login', users: 1000 },
  load: { connections: 20, durationSeconds: 4, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
