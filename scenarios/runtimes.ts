// Question: what does each Node major cost per GET /me? The baseline, a SQLite session and an HS256
// JWT in jsonwebtoken (handed its secret as a string and as a KeyObject), each on Node 20, 22 and 24
// (a major other than the harness's own is installed from the npm registry; a missing one skips its cells).
import { defineScenario } from '../bench/scenario.ts'

export default defineScenario({
  name: 'runtimes',
  description: 'GET /me on Node 20, 22 and 24: none, session-sqlite, and HS256 in jsonwebtoken with a string secret and with a KeyObject',
  cells: [
    { strategy: ['none', 'session'], runtime: ['node20', 'node22', 'node24'] },
    { strategy: 'jwt', alg: 'HS256', engine: 'jsonwebtoken', keyForm: ['string', 'keyobject'], runtime: ['node20', 'node22', 'node24'] },
  ],
  workload: { route: 'GET /me' },
  load: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3 },
  baseline: { strategy: 'none', runtime: 'node20' },
})
