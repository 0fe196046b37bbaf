import assert from 'node:assert/strict'
import { test } from 'node:test'
import { asExpected, parseTotal } from '../../bench/instructions.ts'
import { InstrumentError } from '../../bench/contracts/errors.ts'
import { validateScenario } from '../../bench/contracts/scenario.ts'
import { expandPlan } from '../../bench/plan.ts'

test("a callgrind dump's total is its totals line's first event (Ir)", () => {
  const dump =
    'version: 1\ncreator: callgrind-3.19.0\npid: 42\ncmd: node\npart: 1\n\npositions: line\nevents: Ir\n' +
    'summary: 35871234\n\nfl=(1) ???\nfn=(1) 0x0000000004a1b2c3\n0 12\n\ntotals: 35871234\n'
  assert.equal(parseTotal(dump), 35_871_234)
  assert.equal(parseTotal('events: Ir\nsummary: 77\n'), 77)
  assert.throws(
    () => parseTotal('events: Ir\n'),
    (err: Error) => err instanceof InstrumentError && err.code === 'ERR_INSTRUMENT',
  )
})

const sessionPlan = (route: 'GET /me' | 'POST /login') =>
  expandPlan(
    validateScenario({ name: 't', description: 't', cells: [{ strategy: 'session', store: 'sqlite' }], workload: { route } }, 't.json'),
    't.json',
  ).cells[0]!
const isInstrumentError = (pattern: RegExp) => (err: Error) =>
  err instanceof InstrumentError && err.code === 'ERR_INSTRUMENT' && pattern.test(err.message)

test("a batch holds its route's store work and nothing else: no renewal, no purge", () => {
  const reading = asExpected(sessionPlan('GET /me'))
  reading({ requests: 500, writes: 0, deletes: 0, purges: 0 }, 500, 'counted batch 1')
  assert.throws(
    () => reading({ requests: 500, writes: 3, deletes: 0, purges: 0 }, 500, 'counted batch 2'),
    isInstrumentError(/counted batch 2 held 500 requests, 3 store writes/),
  )
  assert.throws(
    () => reading({ requests: 500, writes: 0, deletes: 0, purges: 1 }, 500, 'warm-up batch 7'),
    isInstrumentError(/and 1 purges/),
  )
  assert.throws(
    () => reading({ requests: 499, writes: 0, deletes: 0, purges: 0 }, 500, 'counted batch 1'),
    isInstrumentError(/held 499 requests/),
  )
  // A login batch writes one session per request, exactly.
  const login = asExpected(sessionPlan('POST /login'))
  login({ requests: 100, writes: 100, deletes: 0, purges: 0 }, 100, 'counted batch 1')
  assert.throws(
    () => login({ requests: 100, writes: 101, deletes: 0, purges: 0 }, 100, 'counted batch 1'),
    isInstrumentError(/101 store writes/),
  )
})
