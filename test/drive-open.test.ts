import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { drive } from '../bench/drive/closed.ts'
import { startKnownServer } from '../bench/drive/known-servers.ts'
import { parseLoadArgs } from '../bench/drive/load-options.ts'
import { openLoop } from '../bench/drive/open.ts'
import { UsageError } from '../servers/errors.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const GET = [{ method: 'GET' as const, path: '/', headers: {} }]

describe('the open-loop driver against servers whose behaviour is known', () => {
  test('a fixed 5 ms delay: every request answered, p50 at the delay, the rate held', { timeout: 30_000 }, async (t) => {
    const server = await startKnownServer({ kind: 'delay', ms: 5 })
    t.after(() => server.close())
    const r = await openLoop({ urls: [server.url], requests: GET, rate: 500, durationSeconds: 2, connections: 50, arrivals: 'constant' })
    assert.deepEqual([r.requests, r.completed, r.errors, r.non2xx], [1000, 1000, 0, 0])
    assert.ok(r.achievedRate >= 475, `achieved ${r.achievedRate}/s`)
    assert.ok(r.serviceTimeUs.p50 >= 5000 && r.serviceTimeUs.p50 <= 6500, `service p50 ${r.serviceTimeUs.p50} µs`)
    // Latency counts from the due time: the service time plus the send lag (a 1 ms timer, and this machine's noise).
    assert.ok(r.latencyUs.p50 >= r.serviceTimeUs.p50 && r.latencyUs.p50 <= r.serviceTimeUs.p50 + r.sendLagUs.p99 + 1000, `latency p50 ${r.latencyUs.p50} µs, service ${r.serviceTimeUs.p50}, lag p99 ${r.sendLagUs.p99}`)
  })

  test('a server stalling 200 ms every second: the schedule implies p90 near 100 ms and p99 near 190 ms, and a closed loop hides it', { timeout: 30_000 }, async (t) => {
    const server = await startKnownServer({ kind: 'stall', periodMs: 1000, stallMs: 200 })
    t.after(() => server.close())
    // 20% of the requests fall due during a stall and wait for its end: uniform over 0-200 ms.
    const open = await openLoop({ urls: [server.url], requests: GET, rate: 400, durationSeconds: 3, connections: 200, arrivals: 'constant' })
    assert.equal(open.errors, 0)
    assert.ok(open.latencyUs.p50 < 20_000, `p50 ${open.latencyUs.p50} µs`)
    assert.ok(open.latencyUs.p90 >= 40_000 && open.latencyUs.p90 <= 160_000, `p90 ${open.latencyUs.p90} µs`)
    assert.ok(open.latencyUs.p99 >= 150_000 && open.latencyUs.p99 <= 260_000, `p99 ${open.latencyUs.p99} µs`)
    // One connection: the requests due during a stall wait unsent; timed from the send, they look fast.
    const one = await openLoop({ urls: [server.url], requests: GET, rate: 400, durationSeconds: 3, connections: 1, arrivals: 'constant' })
    assert.ok(one.latencyUs.p99 >= 150_000, `latency p99 ${one.latencyUs.p99} µs`)
    assert.ok(one.serviceTimeUs.p99 <= 20_000, `service time p99 ${one.serviceTimeUs.p99} µs`)
    // A closed loop sends nothing while it waits: a few slow requests among thousands.
    const closed = await drive([server.url], GET, 1, 3)
    assert.ok(closed.latencyMs.p99 <= 20, `closed-loop p99 ${closed.latencyMs.p99} ms`)
  })

  test('Poisson arrivals keep the mean rate', { timeout: 30_000 }, async (t) => {
    const server = await startKnownServer({ kind: 'delay', ms: 1 })
    t.after(() => server.close())
    const r = await openLoop({ urls: [server.url], requests: GET, rate: 500, durationSeconds: 2, connections: 50, arrivals: 'poisson', seed: 3 })
    assert.equal(r.requests, 1000)
    assert.ok(r.achievedRate >= 400 && r.achievedRate <= 600, `achieved ${r.achievedRate}/s`)
  })
})

describe('npm run load', () => {
  const cli = (args: string[], onOut?: (child: ReturnType<typeof spawn>) => void) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load-cli.ts'), ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    onOut?.(child)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })

  test('every bad flag is named, exit 2', async () => {
    const bad: [string[], RegExp][] = [
      [['http://127.0.0.1:1/', '--rate', '0'], /--rate must be more than 0; got "0"/],
      [['http://127.0.0.1:1/', '--rate=-5'], /--rate must be a number from 0\.001 to 1000000; got "-5"/],
      [['http://127.0.0.1:1/', '--duration', '3601'], /--duration must be a number from 0\.1 to 3600; got "3601"/],
      [['http://127.0.0.1:1/', '--header', 'no colon'], /--header must look like "Name: value"; got "no colon"/],
      [['ftp://127.0.0.1/'], /URL must be an http\(s\) URL; got "ftp:\/\/127\.0\.0\.1\/"/],
      [['http://127.0.0.1:1/', '--connections', '1.5'], /--connections must be an integer from 1 to 10000; got "1\.5"/],
      [['http://127.0.0.1:1/', '--arrivals', 'burst'], /--arrivals must be constant or poisson; got "burst"/],
    ]
    for (const [args, message] of bad) {
      assert.throws(() => parseLoadArgs(args), (err: UsageError) => err.code === 'ERR_USAGE' && message.test(err.message), args.join(' '))
    }
    const res = await cli(['http://127.0.0.1:1/', '--rate', '0'])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /--rate must be more than 0/)
  })

  test('a target that refuses connections: exit 1 with the errors counted, nothing hangs', { timeout: 30_000 }, async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)) }) })
    const res = await cli([`http://127.0.0.1:${port}/`, '--rate', '100', '--duration', '1', '--json'])
    assert.equal(res.code, 1)
    const r = JSON.parse(res.stdout)
    assert.equal(r.completed, 0)
    assert.equal(r.errors, 100)
    assert.equal(r.held, false)
  })

  test('--json prints the contract fields; Ctrl-C prints the partial result marked as such, exit 130', { timeout: 30_000 }, async (t) => {
    const server = await startKnownServer({ kind: 'delay', ms: 1 })
    t.after(() => server.close())
    const ok = await cli([server.url + '/', '--rate', '200', '--duration', '1', '--json'])
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    const r = JSON.parse(ok.stdout)
    for (const k of ['intendedRate', 'achievedRate', 'durationSeconds', 'requests', 'completed', 'non2xx', 'errors', 'latencyUs', 'serviceTimeUs', 'sendLagUs']) assert.ok(k in r, k)
    assert.deepEqual(Object.keys(r.latencyUs), ['p50', 'p90', 'p99', 'p999', 'max'])
    const stopped = await cli([server.url + '/', '--rate', '200', '--duration', '30'], (child) => setTimeout(() => child.kill('SIGINT'), 1500))
    assert.equal(stopped.code, 130)
    assert.match(stopped.stdout, /INTERRUPTED: partial result/)
  })
})
