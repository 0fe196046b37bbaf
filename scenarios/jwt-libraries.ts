// Question: what does each JWT library cost per GET /me as teams call it: jose, fast-jwt and
// jsonwebtoken (the one teams use most) verifying HS256, and jsonwebtoken handed its secret as a
// string (as most code passes it: it tries createPublicKey() on it every verify) or as a KeyObject?
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'jwt-libraries',
  description: 'GET /me with HS256 in jose, fast-jwt and jsonwebtoken, jsonwebtoken with a string secret and with a KeyObject',
  cells: [
    { strategy: 'none' },
    // keyForm applies to jsonwebtoken only: jose and fast-jwt expand to one cell each.
    { strategy: 'jwt', alg: 'HS256', engine: ['jose', 'fast-jwt', 'jsonwebtoken'], keyForm: ['string', 'keyobject'] },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none' },
})
