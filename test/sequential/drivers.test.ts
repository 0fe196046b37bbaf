// Several load-driver processes at once, against a server whose answer takes a fixed 20 ms: the
// merged result must count what the server answered and time its delay (sequential: the bounds
// are timings a busy machine would break).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test, type TestContext } from 'node:test'
import { startDrivers, splitConnections } from '../../bench/fleet/drivers.ts'
import { ProcessGroup } from '../../bench/processes.ts'

/** A server that answers every request after 20 ms, counting its answers, and two driver processes on loopback. */
async function fixedDelay(t: TestContext) {
  let answered = 0
  const server = createServer((_req, res) =>
    setTimeout(() => {
      answered++
      res.end('ok')
    }, 20),
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const group = new ProcessGroup()
  t.after(async () => {
    await group.stopAll()
    server.close()
  })
  const pool = await startDrivers(group, [(a) => a, (a) => a], null)
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    pool,
    answered: () => answered,
    requests: Array.from({ length: 10 }, (_, i) => ({ method: 'GET' as const, path: `/?u=${i}`, headers: {} })),
  }
}

test(
  'several driver processes: each its share of the connections; the merged count is what the server answered, the merged ' +
    'latency its fixed delay',
  async (t) => {
    assert.deepEqual(splitConnections(10, 3), [4, 3, 3])
    const { url, pool, requests, answered } = await fixedDelay(t)
    const r = await pool.drive([url], requests, 10, 2)
    await new Promise((res) => setTimeout(res, 100))
    // Every answer either driver counted is one the server sent; at most the ten in flight at the end were sent and not counted.
    assert.ok(answered() - r.requests >= 0 && answered() - r.requests <= 10, `counted ${r.requests}, answered ${answered()}`)
    assert.equal(r.statusCounts['200'], r.requests)
    // Ten connections, 20 ms each: about 500 requests a second over the two processes.
    assert.ok(r.rps > 350 && r.rps < 520, `rps ${r.rps}`)
    assert.ok(r.latencyMs.p50 >= 20 && r.latencyMs.p50 <= 23, `p50 ${r.latencyMs.p50} ms`)
    await pool.stop()
  },
)

test(
  'several driver processes in the open loop: each its share of the rate; every request the server answered is counted once, ' +
    'latency its fixed delay',
  async (t) => {
    const { url, pool, requests, answered } = await fixedDelay(t)
    const r = await pool.open({ urls: [url], requests, rate: 400, durationSeconds: 2, connections: 40, arrivals: 'constant', seed: 1 })
    // The open loop waits for every answer before it ends: the merged count is exactly the server's.
    assert.equal(r.completed, answered())
    assert.equal(r.requests, 800)
    assert.equal(r.intendedRate, 400)
    assert.ok(Math.abs(r.achievedRate - 400) < 8, `achieved ${r.achievedRate}/s`)
    assert.equal(r.held, true, r.reason ?? '')
    assert.ok(r.latencyUs.p50 >= 20_000 && r.latencyUs.p50 <= 23_000, `p50 ${r.latencyUs.p50} µs`)
    await pool.stop()
  },
)
