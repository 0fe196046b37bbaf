import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { buildCharts } from '../../bench/report/workloads/index.ts'
import { renderPngs } from '../../bench/report/png.ts'
import { fixtureResults } from '../fixtures/results.ts'

test('PNG charts are rendered with canvas (built from source in CI)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-png-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const out = await renderPngs(buildCharts(fixtureResults()), dir)
  assert.equal(out.status, 'ok', out.status === 'unavailable' ? out.reason : '')
  if (out.status !== 'ok') return
  assert.deepEqual(
    out.files.map((f) => basename(f)),
    ['rps.png', 'cpu.png', 'store-ops.png', 'latency.png', 'bytes.png', 'ratios.png'],
  )
  for (const f of out.files) {
    const png = readFileSync(f)
    assert.equal(png.subarray(1, 4).toString(), 'PNG')
    assert.equal(png.readUInt32BE(16), 1000)
    assert.equal(png.readUInt32BE(20), 520)
  }
})
