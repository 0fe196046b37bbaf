import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import type { LoadRequest } from '../bench/contracts/client.ts'
import { type CountedServer, countInstructions, type InstructionSettings, STEADY_FLAGS, startCounted } from '../bench/instructions.ts'
import { ProcessGroup } from '../bench/processes.ts'

// The instruction counter against a server whose work is known: GET /loop?n=N runs one loop N times,
// so a count must be a fixed part plus N times the loop's body, and the same count on a second
// start must come out the same. Under valgrind: a minute or more; a count does not move with the
// machine's load, so it runs in the parallel tier (started among the longest).
const LOOP_SERVER = fileURLToPath(new URL('./fixtures/loop-server.ts', import.meta.url))
const SETTINGS: InstructionSettings = { warmupRequests: 30, batchRequests: 5, collect: false, nodeFlags: STEADY_FLAGS }
const loop = (n: number): LoadRequest[] => [{ method: 'GET', path: `/loop?n=${n}`, headers: {} }]
/** Instructions per request over three batches. */
const count = async (server: CountedServer, n: number) => mean(await countInstructions(server, loop(n), SETTINGS, 3))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

async function counted(group: ProcessGroup): Promise<CountedServer> {
  return startCounted(group, LOOP_SERVER, [], SETTINGS)
}

test('instructions per request are linear in the loop count, and two starts agree within 1%', { timeout: 600_000 }, async (t) => {
  const group = new ProcessGroup()
  t.after(() => {
    group.killAllSync()
  })
  const first = await counted(group)
  const at = new Map<number, number>()
  for (const n of [2_000_000, 6_000_000, 4_000_000]) at.set(n, await count(first, n))
  await first.stop()
  const slope = (at.get(6_000_000)! - at.get(2_000_000)!) / 4_000_000
  const predicted = at.get(2_000_000)! + slope * 2_000_000
  const measured = at.get(4_000_000)!
  t.diagnostic(`per request: ${[...at].map(([n, c]) => `n=${n} ${Math.round(c)}`).join(', ')}; ${slope.toFixed(3)} per iteration`)
  // The loop body is a handful of machine instructions once optimised.
  assert.ok(slope > 2 && slope < 20, `${slope.toFixed(2)} instructions per iteration`)
  assert.ok(
    Math.abs(measured - predicted) <= 0.01 * measured,
    `n = 4,000,000: ${Math.round(measured)} instructions per request, the line through 2,000,000 and 6,000,000 predicts ${Math.round(predicted)}`,
  )

  const second = await counted(group)
  const again = await count(second, 4_000_000)
  await second.stop()
  t.diagnostic(`n=4000000 on a second start: ${Math.round(again)}`)
  assert.ok(Math.abs(again - measured) <= 0.01 * measured, `n = 4,000,000 on two starts: ${Math.round(measured)} and ${Math.round(again)}`)
  assert.equal(group.size, 0)
})
