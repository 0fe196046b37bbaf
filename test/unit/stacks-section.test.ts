// The report's "What does my stack cost?" section: each library cell's counted store work and CPU, beside its other
// preset and the reference session on the same store, with the preset facts' settings.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { libraryConfig } from '../../common/session-libraries.ts'
import { renderHtml } from '../../bench/report/html.ts'
import { cell, fixtureResults, round } from '../fixtures/results.ts'

function withLibraries() {
  const r = fixtureResults()
  const lib = (preset: 'defaults' | 'tuned', cpu: number, writes: number) => {
    const { sessionOptions: _s, adapterOptions: _a, ...record } = libraryConfig('fastify-session', preset, 'sqlite', 1800)
    return cell(
      `session-fastify-session-sqlite-${preset}`,
      { strategy: 'session', store: 'sqlite', sessionLibrary: 'fastify-session', preset },
      [1, 2, 3].map((n) => round(n, cpu + n, 15_000, 1, { storeOpsPerRequest: { reads: 1, writes, deletes: 0 }, setCookieShare: writes })),
      { library: record },
    )
  }
  r.cells.push(lib('defaults', 60, 1), lib('tuned', 40, 0))
  return r
}

test('What does my stack cost: reads and writes per request, CPU against the other preset and the reference, the settings apart', () => {
  const html = renderHtml(withLibraries(), '')
  assert.match(html, /<h2>What does my stack cost\?<\/h2>/)
  const row = (preset: string) =>
    new RegExp(
      `<tr><td>fastify-session</td><td>${preset}</td><td>[^<]+</td><td class="num">([^<]+)</td><td class="num">([^<]+)</td><td class="num">([^<]+)</td>`,
    )
  // Reads, writes and Set-Cookie per answer: the defaults renew (and set the cookie) on every answer, the tuned preset never.
  assert.deepEqual(row('defaults').exec(html)!.slice(1), ['1.00', '1.00', '1.00'])
  assert.deepEqual(row('tuned').exec(html)!.slice(1), ['1.00', '0.00', '0.00'])
  // 62/42, 63/43, 61/41 per round: the defaults cost about 1.48x the tuned preset, every round the same way.
  assert.match(html, /tuned: 1\.48x \([^)]*\): ahead/)
  assert.match(html, /defaults: 0\.6\dx \([^)]*\): ahead/)
  // The fixture's reference SQLite session costs 29 to 31 µs a round: the tuned library (41 to 43) 1.37x it, paired.
  assert.match(html, /<td>1\.37x \([^)]*\): ahead<\/td><\/tr>/)
  assert.match(html, /what separates its defaults \(session-fastify-session-sqlite-defaults\) from its tuned preset/)
  assert.match(html, /Store writes per request: 1\.00 as shipped, 0\.00 tuned\./)
  assert.doesNotMatch(renderHtml(fixtureResults(), ''), /What does my stack cost/)
})
