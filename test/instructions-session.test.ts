import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadScenario } from '../bench/contracts/scenario.ts'
import { InstrumentError } from '../bench/contracts/errors.ts'
import {
  asExpected,
  type BatchOps,
  countInstructions,
  type InstructionSettings,
  STEADY_FLAGS,
  startCounted,
} from '../bench/instructions.ts'
import { expandPlan } from '../bench/plan.ts'
import { ProcessGroup, SERVER_MAIN } from '../bench/processes.ts'
import { cellServerArgs, credentialPool } from '../bench/verify.ts'

// A session renews its idle deadline (a store write) once per renewal interval per user, and a batch
// under valgrind lasts seconds to tens of seconds: a counted batch must hold the read path alone,
// which the counter guarantees by logging its users in just before each batch and checks from the
// server's own counters. Under valgrind: a minute or more; counts and counters do not move with load, so the parallel tier.
const SETTINGS: InstructionSettings = { warmupRequests: 100, batchRequests: 100, collect: false, nodeFlags: STEADY_FLAGS }
const FILE = 'scenarios/default.ts'

test("a session's counted batches hold no store write, delete or purge, by the server's counters", { timeout: 900_000 }, async (t) => {
  const group = new ProcessGroup()
  t.after(() => {
    group.killAllSync()
  })
  const plan = expandPlan(await loadScenario(FILE), FILE).cells.find((c) => c.id === 'session-sqlite')!
  const start = (extra: string[]) =>
    startCounted(
      group,
      SERVER_MAIN,
      [
        ...cellServerArgs(plan, group.tempDir('authbench-test-instr-'), { usersTemplate: null, users: 20 }, []),
        '--purge-interval-ms',
        '86400000',
        ...extra,
      ],
      SETTINGS,
    )

  // As the counter counts a cell: fresh users before each batch, warm-up and counted, and the check.
  const steady = await start([])
  const seen: (BatchOps & { batch: string })[] = []
  const check = asExpected(plan)
  const counts = await countInstructions(steady, await credentialPool(plan, [steady.url], 20), SETTINGS, 2, {
    credentials: () => credentialPool(plan, [steady.url], 20),
    check: (ops, sent, batch) => {
      seen.push({ batch, ...ops })
      check(ops, sent, batch)
    },
  })
  await steady.stop()
  t.diagnostic(`per request: ${counts.map(Math.round).join(', ')}`)
  const none = { requests: 100, writes: 0, deletes: 0, purges: 0 }
  assert.deepEqual(seen, [
    { batch: 'warm-up batch 1', ...none },
    { batch: 'counted batch 1', ...none },
    { batch: 'counted batch 2', ...none },
  ])
  assert.equal(counts.length, 2)

  // The check can fail: renewals due every 2 s (an 8 s idle timeout) land inside a run that lasts longer (400 requests
  // under valgrind, at least 6 ms each). Two users, so each is asked every other request, and a stall of up to 8 s (a
  // loaded machine's, or valgrind's while its instrumentation is switched) idles neither out (a 401): at a 4 s timeout
  // a fresh-clone run on a loaded machine did.
  const renewing = await start(['--session-idle-ttl', '8'])
  // The route's first requests under valgrind compile its path, which on a loaded machine can outlast the idle timeout:
  // sent first, by a user of their own and whatever they answer, so the two users below are asked within moments of login.
  const [warm] = await credentialPool(plan, [renewing.url], 1)
  for (let i = 0; i < 20; i++) await (await fetch(`${renewing.url}${warm!.path}`, { headers: warm!.headers })).arrayBuffer()
  await assert.rejects(
    countInstructions(renewing, await credentialPool(plan, [renewing.url], 2), { ...SETTINGS, batchRequests: 300 }, 1, { check }),
    (err: Error) => err instanceof InstrumentError && err.code === 'ERR_INSTRUMENT' && / [1-9]\d* store writes/.test(err.message),
  )
  await renewing.stop()
  assert.equal(group.size, 0)
})
