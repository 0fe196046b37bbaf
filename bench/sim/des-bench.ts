// `npm run bench:des`: how long the DES takes for 10^6 requests (4 instances, one store call each, a 1 s store pause).
import { simulate } from './des.ts'

const runs: number[] = []
let requests = 0
for (let i = 0; i < 3; i++) {
  const t0 = performance.now()
  const r = simulate({
    seed: i + 1,
    instances: 4,
    rate: 100_000,
    durationUs: 10_000_000,
    arrivals: 'poisson',
    appUs: { kind: 'exp', mean: 30 },
    storeOps: 1,
    storeUs: { kind: 'det', value: 5 },
    storeRttUs: 200,
    storePauses: [{ fromUs: 4_000_000, toUs: 5_000_000 }],
    timeoutUs: 500_000,
  })
  runs.push((performance.now() - t0) / 1000)
  requests = r.requests
}
runs.sort((a, b) => a - b)
process.stdout.write(
  `DES: ${requests.toLocaleString('en-US')} requests in ${runs[1]!.toFixed(2)} s (median of 3; ${runs.map((s) => s.toFixed(2)).join(', ')})\n`,
)
