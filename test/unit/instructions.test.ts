import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseTotal } from '../../bench/instructions.ts'
import { InstrumentError } from '../../bench/contracts/errors.ts'

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
