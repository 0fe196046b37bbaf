import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer, createServer as createNetServer, type AddressInfo } from 'node:net'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { drive } from '../../bench/drive/closed.ts'
import { startKnownServer } from '../../bench/drive/known-servers.ts'
import { parseLoadArgs } from '../../bench/drive/load-options.ts'
import { openLoop } from '../../bench/drive/open.ts'
import type { UsageError } from '../../bench/contracts/errors.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
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
    assert.ok(
      r.latencyUs.p50 >= r.serviceTimeUs.p50 && r.latencyUs.p50 <= r.serviceTimeUs.p50 + r.sendLagUs.p99 + 1000,
      `latency p50 ${r.latencyUs.p50} µs, service ${r.serviceTimeUs.p50}, lag p99 ${r.sendLagUs.p99}`,
    )
  })

  test('a server stalling 200 ms every second: the schedule implies p90 near 100 ms and p99 near 190 ms, and a closed loop hides it', {
    timeout: 30_000,
  }, async (t) => {
    const server = await startKnownServer({ kind: 'stall', periodMs: 1000, stallMs: 200 })
    t.after(() => server.close())
    // 20% of the requests fall due during a stall and wait for its end: uniform over 0-200 ms.
    const open = await openLoop({
      urls: [server.url],
      requests: GET,
      rate: 400,
      durationSeconds: 3,
      connections: 200,
      arrivals: 'constant',
    })
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

  test('several instances: request i goes to instance i mod n (round robin), whatever the rate', { timeout: 30_000 }, async (t) => {
    const servers = await Promise.all([0, 1].map(() => startKnownServer({ kind: 'delay', ms: 0 })))
    t.after(() => Promise.all(servers.map((s) => s.close())))
    // At 200/s each answer is back long before the next request is due: one idle connection could take them all.
    for (const rate of [200, 2000]) {
      const r = await openLoop({
        urls: servers.map((s) => s.url),
        requests: GET,
        rate,
        durationSeconds: 1,
        connections: 50,
        arrivals: 'constant',
      })
      assert.deepEqual([r.completed, r.errors], [rate, 0])
      const served = await Promise.all(
        servers.map(async (s) => (JSON.parse(await (await fetch(`${s.url}/__times`)).text()) as number[]).length),
      )
      assert.deepEqual(served, [rate / 2, rate / 2], `at ${rate}/s`)
    }
  })

  test("a known server's CPU, read from the scheduler: one that spends 60 ms of CPU in every 200 spends 30% of a core", {
    timeout: 30_000,
  }, async (t) => {
    // Spent by its own CPU time, not by the clock: on a core another process shares, a 60 ms wall-clock stall spends less.
    const server = await startKnownServer({ kind: 'burn', periodMs: 200, cpuMs: 60 })
    t.after(() => server.close())
    const before = server.cpuUs()!
    await new Promise((r) => setTimeout(r, 3000))
    const used = server.cpuUs()! - before
    // 15 burns of 60 ms in 3 s (one more or less by where the window falls: 7%), plus an idle event loop's own few milliseconds.
    assert.ok(used >= 0.85 * 900_000 && used <= 1.15 * 900_000, `${used} µs of CPU in 3 s`)
  })

  test('Poisson arrivals keep the mean rate', { timeout: 30_000 }, async (t) => {
    const server = await startKnownServer({ kind: 'delay', ms: 1 })
    t.after(() => server.close())
    const r = await openLoop({
      urls: [server.url],
      requests: GET,
      rate: 500,
      durationSeconds: 2,
      connections: 50,
      arrivals: 'poisson',
      seed: 3,
    })
    assert.equal(r.requests, 1000)
    assert.ok(r.achievedRate >= 400 && r.achievedRate <= 600, `achieved ${r.achievedRate}/s`)
  })
})

describe('npm run load', () => {
  const cli = (args: string[], onOut?: (child: ReturnType<typeof spawn>) => void) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load-cli.ts'), ...args], { cwd: ROOT })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      child.stderr.on('data', (d) => {
        stderr += d
      })
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
      assert.throws(
        () => parseLoadArgs(args),
        (err: UsageError) => err.code === 'ERR_USAGE' && message.test(err.message),
        args.join(' '),
      )
    }
    const res = await cli(['http://127.0.0.1:1/', '--rate', '0'])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /--rate must be more than 0/)
  })

  test('a target that refuses connections: exit 1 with the errors counted, nothing hangs', { timeout: 30_000 }, async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((r) => {
      const s = createServer()
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => r(p))
      })
    })
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
    const ok = await cli([`${server.url}/`, '--rate', '200', '--duration', '1', '--json'])
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    const r = JSON.parse(ok.stdout)
    for (const k of [
      'intendedRate',
      'achievedRate',
      'durationSeconds',
      'requests',
      'completed',
      'non2xx',
      'errors',
      'latencyUs',
      'serviceTimeUs',
      'sendLagUs',
    ])
      assert.ok(k in r, k)
    assert.deepEqual(Object.keys(r.latencyUs), ['p50', 'p90', 'p99', 'p999', 'max'])
    const stopped = await cli([`${server.url}/`, '--rate', '200', '--duration', '30'], (child) =>
      setTimeout(() => child.kill('SIGINT'), 1500),
    )
    assert.equal(stopped.code, 130)
    assert.match(stopped.stdout, /INTERRUPTED: partial result/)
  })
})

describe('the open-loop driver reads what real servers send', () => {
  const plain = async (t: TestContext, handler: Parameters<typeof createHttpServer>[1], tune?: (s: HttpServer) => void) => {
    const server = createHttpServer({}, handler)
    tune?.(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    t.after(() => {
      server.closeAllConnections()
      server.close()
    })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  test('a streamed (chunked) answer, with trailers, is read whole: every request answered', { timeout: 30_000 }, async (t) => {
    const url = await plain(t, (_req, res) => {
      res.setHeader('trailer', 'x-done')
      res.write('{"id":1,')
      setImmediate(() => {
        res.addTrailers({ 'x-done': '1' })
        res.end('"username":"user1"}')
      })
    })
    const r = await openLoop({ urls: [url], requests: GET, rate: 300, durationSeconds: 1, connections: 20, arrivals: 'constant' })
    assert.deepEqual([r.requests, r.completed, r.errors, r.non2xx], [300, 300, 0, 0])
    assert.equal(r.held, true)
  })

  test('Connection: close and a body ended by the close: each answer counted, a new connection for the next', {
    timeout: 30_000,
  }, async (t) => {
    const url = await plain(t, (_req, res) => {
      res.setHeader('connection', 'close')
      res.end('bye')
    })
    const r = await openLoop({ urls: [url], requests: GET, rate: 200, durationSeconds: 1, connections: 20, arrivals: 'constant' })
    assert.deepEqual([r.completed, r.errors], [200, 0])
    const raw = createNetServer((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the close')),
    )
    await new Promise<void>((res) => raw.listen(0, '127.0.0.1', res))
    t.after(() => raw.close())
    const r2 = await openLoop({
      urls: [`http://127.0.0.1:${(raw.address() as AddressInfo).port}`],
      requests: GET,
      rate: 200,
      durationSeconds: 1,
      connections: 20,
      arrivals: 'constant',
    })
    assert.deepEqual([r2.completed, r2.errors, r2.non2xx], [200, 0, 0])
  })

  test('a server that closes idle connections: the request that meets the close is sent again, none lost', {
    timeout: 30_000,
  }, async (t) => {
    const url = await plain(
      t,
      (_req, res) => res.end('ok'),
      (s) => {
        s.keepAliveTimeout = 40
      },
    )
    const r = await openLoop({ urls: [url], requests: GET, rate: 20, durationSeconds: 2, connections: 5, arrivals: 'constant' })
    assert.deepEqual([r.requests, r.completed, r.errors], [40, 40, 0])
  })

  test('a request that fails says why, by reason, in the result and on the terminal', { timeout: 30_000 }, async (t) => {
    const url = await plain(t, (req) => req.socket.destroy())
    const r = await openLoop({ urls: [url], requests: GET, rate: 100, durationSeconds: 1, connections: 10, arrivals: 'constant' })
    assert.deepEqual([r.completed, r.errors], [0, 100])
    assert.deepEqual(r.errorsBy, { 'the server closed the connection before answering': 100 })
    assert.match(r.reason!, /100 requests failed: 100 the server closed the connection before answering/)
  })

  test('a server that stalls 200 ms every second with 10 connections: requests wait for a connection it holds, and the driver is not blamed', {
    timeout: 30_000,
  }, async (t) => {
    const server = await startKnownServer({ kind: 'stall', periodMs: 1000, stallMs: 200 })
    t.after(() => server.close())
    const r = await openLoop({ urls: [server.url], requests: GET, rate: 400, durationSeconds: 3, connections: 10, arrivals: 'constant' })
    assert.equal(r.errors, 0)
    assert.ok(r.latencyUs.p99 >= 150_000, `p99 ${r.latencyUs.p99} µs`)
    assert.ok(r.connectionWaitUs.p99 >= 100_000, `connection wait p99 ${r.connectionWaitUs.p99} µs`)
    assert.ok(r.schedulerLagUs.p99 < 10_000, `scheduler lag p99 ${r.schedulerLagUs.p99} µs`)
    assert.equal(r.held, true, r.reason ?? '')
    assert.match(r.note!, /waited for a free connection .*all 10 connections held by the server/)
    assert.doesNotMatch(`${r.reason} ${r.note}`, /driver itself fell behind/)
  })
})

test("open loop: a Set-Cookie replaces that virtual client's cookie; npm run load measures a streaming server and names why requests failed", {
  timeout: 30_000,
}, async (t) => {
  const latest = new Map<string, number>()
  let stale = 0
  const server = createHttpServer((req, res) => {
    const [, user, version] = /c=(\d+)\.(\d+)/.exec(req.headers.cookie ?? '') ?? []
    if (req.url === '/fail') return req.socket.destroy()
    const current = latest.get(user!) ?? 0
    if (Number(version) !== current) stale++
    if (Math.random() < 0.3) {
      latest.set(user!, current + 1)
      res.setHeader('set-cookie', `c=${user}.${current + 1}; Path=/`)
    }
    res.write('streamed ')
    res.end('answer')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const requests = Array.from({ length: 10 }, (_, i) => ({ method: 'GET' as const, path: '/', headers: { cookie: `c=${i}.0` } }))
  const r = await openLoop({ urls: [url], requests, rate: 200, durationSeconds: 1, connections: 1, arrivals: 'constant' })
  assert.deepEqual([r.completed, r.errors, stale], [200, 0, 0])
  for (let i = 0; i < 10; i++) assert.equal(requests[i]!.headers.cookie, `c=${i}.${latest.get(String(i))}`)
  const run = (path: string) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench/load-cli.ts'), `${url}${path}`, '--rate', '50', '--duration', '1'],
        { cwd: ROOT },
      )
      let stdout = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      child.on('close', (code) => resolve({ code, stdout }))
    })
  const streamed = await run('/')
  assert.equal(streamed.code, 0, streamed.stdout)
  assert.match(streamed.stdout, /50 answered, 0 non-2xx, 0 errors/)
  const failing = await run('/fail')
  assert.equal(failing.code, 1)
  assert.match(failing.stdout, /50 requests failed: 50 the server closed the connection before answering/)
})
