import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, test } from 'node:test'
import { chromium } from 'playwright-core'
import { writeReport } from '../bench/report/index.ts'
import { findChromium } from '../scripts/system.mjs'
import { fixtureResults, lifecycleResults, openLoopResults } from './fixtures/results.ts'
import { runSimulation, writeSimulation } from '../bench/sim/index.ts'

const CHROMIUM = findChromium()

describe('the HTML report in a real browser', () => {
  // npm test refuses to start without a Chromium (npm run setup installs it); run alone, this file says why it skips.
  const skip =
    CHROMIUM === null
      ? 'no Chromium on PATH (chromium, chromium-browser, google-chrome) nor CHROMIUM_PATH: npm run setup installs it'
      : false
  /** Opens a report from file:// in Chromium; returns what the page drew and any problem it logged. */
  async function open(
    t: import('node:test').TestContext,
    results: import('../bench/contracts/results.ts').ResultsFile,
    which: 'report' | 'simulation' = 'report',
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'authbench-report-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const { html } = which === 'report' ? await writeReport(results, dir) : writeSimulation(runSimulation(results), dir)
    const browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    t.after(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('request', (r) => requests.push(r.url()))
    const url = pathToFileURL(html).href
    await page.goto(url, { waitUntil: 'load' })
    // A drawn chart has non-transparent pixels; a canvas Chart.js never touched has none.
    const drawn = await page.$$eval('canvas', (canvases) =>
      canvases.map((c) => {
        const el = c as HTMLCanvasElement
        const data = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data
        let painted = 0
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++
        return { id: el.id, painted, width: el.width }
      }),
    )
    return { page, url, drawn, problems, requests }
  }

  test('opens from file:// with no network request and no console error, and draws every chart', { skip }, async (t) => {
    const { page, url, drawn, problems, requests } = await open(t, fixtureResults())
    assert.deepEqual(
      drawn.map((d) => d.id),
      ['chart-rps', 'chart-cpu', 'chart-store-ops', 'chart-latency', 'chart-bytes', 'chart-ratios'],
    )
    for (const d of drawn) assert.ok(d.painted > 1000 && d.width > 200, `${d.id}: ${d.painted} painted pixels`)
    assert.deepEqual(problems, [])
    assert.deepEqual(requests, [url])
    assert.equal(await page.locator('h1').textContent(), 'authbench: fixture')
  })

  test('a lifecycle run: its section and its three charts against the lifetime, drawn', { skip }, async (t) => {
    const { page, url, drawn, problems, requests } = await open(t, lifecycleResults())
    assert.deepEqual(
      drawn.map((d) => d.id),
      ['chart-lifecycle-store-ops', 'chart-lifecycle-store-writes', 'chart-lifecycle-lag'],
    )
    for (const d of drawn) assert.ok(d.painted > 1000 && d.width > 200, `${d.id}: ${d.painted} painted pixels`)
    assert.deepEqual(problems, [])
    assert.deepEqual(requests, [url])
    // The answer first, then the lifecycle's own section.
    assert.deepEqual((await page.locator('h2').allTextContents()).slice(0, 2), ['The answer for this run', 'Token lifecycle'])
  })

  test("the fleet model's page: its three charts drawn, predicted beside measured", { skip }, async (t) => {
    const { page, url, drawn, problems, requests } = await open(t, openLoopResults(), 'simulation')
    assert.deepEqual(
      drawn.map((d) => d.id),
      ['chart-sim-max-rate', 'chart-sim-cores', 'chart-sim-p99-load'],
    )
    for (const d of drawn) assert.ok(d.painted > 1000 && d.width > 200, `${d.id}: ${d.painted} painted pixels`)
    assert.deepEqual(problems, [])
    assert.deepEqual(requests, [url])
    assert.equal(await page.locator('h2').first().textContent(), 'Checked against this run: predicted and measured')
  })
})
