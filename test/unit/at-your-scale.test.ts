// The report's "At your scale" section and the plan.html beside it: this run's figures at the planner's default inputs.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_INPUTS, fmt } from '../../bench/capacity/arithmetic.ts'
import { renderHtml } from '../../bench/report/html.ts'
import { writePlanPage } from '../../bench/report/at-your-scale.ts'
import { fixtureResults } from '../fixtures/results.ts'

test("the report's At your scale section: server cores are the default rate times the run's CPU per request, linked to plan.html", () => {
  const r = fixtureResults()
  const html = renderHtml(r, '')
  const none = r.cells.find((c) => c.id === 'none')!
  const cores = (DEFAULT_INPUTS.rate * none.summary!.cpuUsPerRequest.median) / 1e6
  assert.match(html, /<h2>At your scale<\/h2>/)
  assert.match(html, /open <a href="plan\.html">plan\.html<\/a> to type your own/)
  const row = /<tr><th>no authentication<\/th><td class="n" title="([^"]*)">([^ <]+)/.exec(html)
  assert.ok(row, 'a row for the baseline')
  assert.equal(row[2], fmt(cores))
  assert.match(row[1]!, /^rate x /)
  // The inputs the figures rest on are named, and called an example.
  assert.match(html, /peak requests per second 40,000, active users 2,000,000/)
  assert.match(html, /These inputs are an example, not a measurement/)
})

test('writePlanPage writes plan.html with the planner form for a run that measured a choice, and nothing for one that measured none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-scale-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  assert.equal(writePlanPage(fixtureResults(), null, dir), true)
  const page = readFileSync(join(dir, 'plan.html'), 'utf8')
  assert.match(page, /<input type="number" name="rate" value="40000"/)
  const empty = fixtureResults()
  empty.cells = []
  const other = mkdtempSync(join(tmpdir(), 'authbench-scale-'))
  t.after(() => rmSync(other, { recursive: true, force: true }))
  assert.equal(writePlanPage(empty, null, other), false)
  assert.equal(existsSync(join(other, 'plan.html')), false)
  assert.doesNotMatch(renderHtml(empty, ''), /At your scale/)
})
