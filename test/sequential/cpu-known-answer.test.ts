// The headline figure against a known answer: a real server (servers/main.ts, started as the
// harness starts one) whose every request first spends a known amount of its CPU in a loop, or
// waits a known time spending none, measured the way a window measures CPU per request (the
// server's own CPU clock over IPC before and after, divided by the requests it answered), at
// saturation (the closed loop) and at a fixed rate (the open loop). Sequential: a window's CPU
// per request is what this file checks, and other test files on the same cores would add noise.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pinSelf, planAffinity } from '../../bench/affinity.ts'
import { drive } from '../../bench/drive/closed.ts'
import { openLoop } from '../../bench/drive/open.ts'
import { ProcessGroup, startServer, type ServerHandle } from '../../bench/processes.ts'
import { median } from '../../bench/stats.ts'

const BURN_US = 1000
/** What both servers of the burn test spend first, so both answer about one request per turn of the event loop. */
const BASE_BURN_US = 500
const WAIT_MS = 5
const LONG_WAIT_MS = 20
/** A request to the no-auth server: its identity in a header, as behind a gateway. */
const GET = [{ method: 'GET' as const, path: '/me', headers: { 'x-user-id': '1' } }]
/**
 * The tolerance stated: a known difference of CPU per request reads between 10% under and 30% over it (the median of
 * three windows). The loop reads
 * the CPU clock every 200 steps, so it overshoots by about 2 µs, and a loop alone (no HTTP) reads within 3% of a 1 ms
 * difference here; through a server the difference read 8-16% over it on this project's 2-core machine (measured, 2026-12-07:
 * closed loop 1,076-1,144 µs, 300 requests/s 1,164 µs; at 150 requests/s up to 1,492 µs, so the fixed rate here is 300).
 * The server's own path costs more beside a longer request; the report compares cells by ratio, which an excess
 * proportional to the cost leaves alone, and instructions per request count without it.
 */
const UNDER = 0.1
const OVER = 0.3

/** The server's CPU per request over a window driven by `run`, read as a window reads it. */
async function cpuPerRequest(server: ServerHandle, run: () => Promise<unknown>): Promise<{ us: number; requests: number }> {
  const before = await server.stats(true)
  await run()
  const after = await server.stats(false)
  const requests = after.requests - before.requests
  assert.ok(requests > 0, 'the window answered no request')
  return { us: (after.cpuUs - before.cpuUs) / requests, requests }
}

// Pinned as a run pins them: the load (this process) on one CPU, the servers on the other.
const affinity = planAffinity()
if (affinity) pinSelf(affinity.client)

async function start(group: ProcessGroup, extra: string[]): Promise<ServerHandle> {
  const server = await startServer(group, ['--strategy', 'none', '--users', '10', ...extra], affinity?.server ?? null)
  // Warm up: the first requests compile the route; the window measures a warm server.
  await drive([server.url], GET, 4, 1)
  return server
}

describe('CPU per request against a known answer', () => {
  test(`${BURN_US} µs more burned CPU per request reads as ${BURN_US} µs more, at saturation and at a fixed rate`, async (t) => {
    const group = new ProcessGroup()
    t.after(() => group.stopAll())
    // Two servers that differ only in the CPU each request burns: at saturation both answer about one request per turn of
    // the event loop (a plain server batches many, and pays its per-turn cost once for them: that is not the known part).
    const less = await start(group, ['--calibrate-burn-us', String(BASE_BURN_US)])
    const more = await start(group, ['--calibrate-burn-us', String(BASE_BURN_US + BURN_US)])
    const closed = (s: ServerHandle) => cpuPerRequest(s, () => drive([s.url], GET, 8, 1))
    // 300 requests/s at about 2 ms a request is 60% of one core: below saturation.
    const fixed = (s: ServerHandle) =>
      cpuPerRequest(s, () =>
        openLoop({ urls: [s.url], requests: GET, rate: 300, durationSeconds: 1, connections: 20, arrivals: 'constant' }),
      )
    const seen: string[] = []
    for (const [loop, measure] of [
      ['closed loop', closed],
      ['fixed rate', fixed],
    ] as const) {
      // Three windows each, alternating, and the median of their differences: one window the machine slowed does not decide.
      const diffs: number[] = []
      for (let i = 0; i < 3; i++) diffs.push((await measure(more)).us - (await measure(less)).us)
      const apart = median(diffs)
      seen.push(`${loop}: ${diffs.map((d) => d.toFixed(1)).join(', ')} µs apart`)
      assert.ok(apart >= (1 - UNDER) * BURN_US && apart <= (1 + OVER) * BURN_US, `${seen.join('; ')}: not ${BURN_US} -10% +30%`)
    }
  })

  test(`waiting spends no CPU: ${WAIT_MS} ms and ${LONG_WAIT_MS} ms waits cost the same CPU per request, their answers ${
    LONG_WAIT_MS - WAIT_MS
  } ms apart`, async (t) => {
    const group = new ProcessGroup()
    t.after(() => group.stopAll())
    // Both set one timer per request (a few µs, and a wake-up): only the length of the wait differs.
    const short = await start(group, ['--calibrate-wait-ms', String(WAIT_MS)])
    const long = await start(group, ['--calibrate-wait-ms', String(LONG_WAIT_MS)])
    const at = async (s: ServerHandle) => {
      let p50 = 0
      const cpu = await cpuPerRequest(s, async () => {
        p50 = (await openLoop({ urls: [s.url], requests: GET, rate: 200, durationSeconds: 2, connections: 20, arrivals: 'constant' }))
          .serviceTimeUs.p50
      })
      return { ...cpu, p50 }
    }
    const a = await at(short)
    const b = await at(long)
    assert.ok(b.p50 - a.p50 >= (LONG_WAIT_MS - WAIT_MS) * 1000 * 0.9, `answers at ${a.p50} and ${b.p50} µs`)
    // 15 ms more of waiting: within the burn test's excess (30% of its 1 ms), i.e. under 20 µs of CPU per ms waited.
    assert.ok(
      Math.abs(b.us - a.us) <= OVER * BURN_US,
      `CPU per request ${a.us.toFixed(1)} µs waiting ${WAIT_MS} ms, ${b.us.toFixed(1)} µs waiting ${LONG_WAIT_MS} ms`,
    )
  })
})
