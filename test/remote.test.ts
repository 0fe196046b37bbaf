// Remote mode: servers the harness did not start, read through their Prometheus endpoints. The
// instrument is checked against the IPC counters of the same processes over the same window, then
// `npm run bench -- --targets` is run against a fleet the test started, and against targets that
// do not answer or do not match.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { drive } from '../bench/drive/closed.ts'
import { ProcessGroup, startServer, type ServerHandle } from '../bench/processes.ts'
import { remoteInstance } from '../bench/remote/instance.ts'
import { parsePrometheusText, total } from '../bench/remote/prometheus-text.ts'
import { strategyRunners } from '../bench/strategies/run/index.ts'
import { FRAMEWORKS } from '../servers/types.ts'
import { runBench } from './helpers.ts'

const sessionLogin = async (url: string, user: number) => (await strategyRunners.session.login(url, user)).headers.cookie!

const ROOT = fileURLToPath(new URL('..', import.meta.url))

const runCli = (args: string[]) => runBench(args)

const within = (a: number, b: number, share: number) => Math.abs(a - b) <= share * Math.max(Math.abs(a), Math.abs(b))

describe('remote mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-remote-'))
  const group = new ProcessGroup()
  test.after(async () => {
    await group.stopAll()
    rmSync(dir, { recursive: true, force: true })
  })
  const start = (args: string[]) => startServer(group, [...args, '--metrics-port', '0', '--users', '50'])

  for (const framework of FRAMEWORKS)
    test(`a server on ${framework} exports authbench_info, its requests by route and status, and its store operations by kind and table`, async () => {
      const s = await start(['--strategy', 'session', '--framework', framework, '--db', join(dir, `a-${framework}.sqlite`)])
      assert.match(s.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const cookie = await sessionLogin(s.url, 1)
      for (let i = 0; i < 3; i++) await (await fetch(`${s.url}/me`, { headers: { cookie } })).arrayBuffer()
      await (await fetch(`${s.url}/me`)).arrayBuffer()
      const samples = parsePrometheusText(await (await fetch(s.metricsUrl!)).text())
      assert.deepEqual(samples.find((x) => x.name === 'authbench_info')?.labels, {
        strategy: 'session',
        store: 'sqlite',
        alg: 'none',
        engine: 'none',
        key_form: 'none',
        verify_cache: 'none',
        session_cache: 'off',
        revocation: 'none',
        framework,
        session_library: 'authbench',
        preset: 'none',
      })
      assert.equal(total(samples, 'authbench_requests_total', { route: '/me', status: '200' }), 3)
      assert.equal(total(samples, 'authbench_requests_total', { route: '/me', status: '401' }), 1)
      assert.equal(total(samples, 'authbench_requests_total', { route: '/login', status: '204' }), 1)
      // A login: a user read and a session write; each /me with the cookie: a session read.
      assert.equal(total(samples, 'authbench_store_operations_total', { op: 'read', table: 'users' }), 1)
      assert.equal(total(samples, 'authbench_store_operations_total', { op: 'write', table: 'sessions' }), 1)
      assert.equal(total(samples, 'authbench_store_operations_total', { op: 'read', table: 'sessions' }), 3)
      assert.equal(total(samples, 'authbench_request_duration_seconds_count'), 5)
      assert.equal((await fetch(s.metricsUrl!.replace('/metrics', '/me'))).status, 404)
      await s.stop()
    })

  test('the same window read over IPC and through /metrics: CPU and store operations per request within 2%', async () => {
    const s: ServerHandle = await start(['--strategy', 'session', '--db', join(dir, 'b.sqlite')])
    const remote = await remoteInstance(s.url, s.metricsUrl!)
    const cookies = await Promise.all(Array.from({ length: 20 }, (_, i) => sessionLogin(s.url, i + 1)))
    const requests = cookies.map((cookie) => ({ method: 'GET' as const, path: '/me', headers: { cookie } }))
    // The scrape path warmed (compiled) first, and a window of at least REQUESTS requests, however
    // long a loaded machine takes to serve them: the two scrapes inside the IPC window are its only
    // difference from the metrics window, a fixed cost (about 18 ms of CPU here: 0.9% of 40 000
    // requests) that many requests dilute below 2%.
    const REQUESTS = 40_000
    for (let i = 0; i < 3; i++) await remote.stats(false)
    await drive([s.url], requests, 10, 1)
    // Both read at the same edges, back to back: the IPC window holds the metrics window and only
    // the two scrapes besides (a GC after the load falls in both or in neither).
    const ipc0 = await s.stats(true)
    const metrics0 = await remote.stats(true)
    const load = { requests: 0, windows: 0 }
    while (load.requests < REQUESTS) {
      load.requests += (await drive([s.url], requests, 10, 1)).requests
      load.windows++
    }
    const metrics1 = await remote.stats(true)
    const ipc1 = await s.stats(true)
    const served = { ipc: ipc1.requests - ipc0.requests, metrics: metrics1.requests - metrics0.requests }
    // The client counts only answers it waited for: at each window's end, each of its 10
    // connections may leave one request the server still serves.
    assert.ok(
      served.metrics >= load.requests && served.metrics - load.requests <= 10 * load.windows,
      `metrics ${served.metrics}, client ${load.requests} over ${load.windows} windows`,
    )
    assert.ok(within(served.metrics, served.ipc, 0.02), `served ${served.metrics} vs ${served.ipc}`)
    assert.equal((metrics1.reads - metrics0.reads) / served.metrics, 1)
    assert.equal((ipc1.reads - ipc0.reads) / served.ipc, 1)
    const a = (metrics1.cpuUs - metrics0.cpuUs) / served.metrics
    const b = (ipc1.cpuUs - ipc0.cpuUs) / served.ipc
    assert.ok(within(a, b, 0.02), `CPU per request: ${a.toFixed(1)} µs through /metrics, ${b.toFixed(1)} µs over IPC`)
    await s.stop()
  })

  test('npm run bench --targets benches a fleet it did not start, and leaves it running', async () => {
    const none = await start(['--strategy', 'none', '--db', join(dir, 'c.sqlite')])
    const session = await Promise.all([0, 1].map(() => start(['--strategy', 'session', '--db', join(dir, 'd.sqlite')])))
    const fleet = join(dir, 'fleet.json')
    writeFileSync(fleet, JSON.stringify({ instances: [none, ...session].map((s) => ({ url: s.url, metricsUrl: s.metricsUrl })) }))
    const scenario = join(dir, 'remote.json')
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'remote',
        description: 'a fleet the harness did not start',
        cells: [{ strategy: 'none' }, { strategy: 'session', store: 'sqlite', instances: 2 }],
        workload: { route: 'GET /me', users: 50 },
        // One round: every check below reads each round alike, and the refused runs stop before any.
        load: { connections: 10, durationSeconds: 2, warmupSeconds: 1, rounds: 1 },
      }),
    )
    const out = join(dir, 'out')
    const res = await runCli([scenario, '--targets', fleet, '--out', out, '--no-pin'])
    assert.equal(res.code, 0, res.stderr)
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status]),
      [
        ['none', 'ok'],
        ['session-sqlite-x2', 'ok'],
      ],
    )
    assert.deepEqual(results.environment.topology, {
      kind: 'remote',
      harness: null,
      note: null,
      hosts: [none, ...session].map((s, i) => ({ name: `instance${i + 1}`, address: s.url })),
    })
    const cell = results.cells[1]!
    for (const r of cell.rounds) {
      assert.equal(r.storeOpsPerRequest.reads, 1)
      assert.equal(r.storeOpsPerRequest.writes, 0)
      assert.ok(r.cpuUsPerRequest > 5, `CPU ${r.cpuUsPerRequest}`)
    }
    // Still running: remote mode stops nothing it did not start.
    assert.deepEqual(await Promise.all([none, ...session].map(async (s) => (await fetch(`${s.url}/me`)).status)), [200, 401, 401])
    assert.equal(none.child.exitCode, null)

    // A target that stopped: named, exit 2, before any load.
    await session[1]!.stop()
    const down = await runCli([scenario, '--targets', fleet, '--out', join(dir, 'down'), '--no-pin'])
    assert.equal(down.code, 2, down.stderr)
    assert.match(down.stderr, new RegExp(`${session[1]!.metricsUrl!.replace(/[.]/g, '\\.')} did not answer \\(ECONNREFUSED\\)`))
    assert.doesNotMatch(down.stderr, /round 1/)

    // Targets that run something else than the scenario's cells.
    writeFileSync(fleet, JSON.stringify({ instances: [none, session[0]!].map((s) => ({ url: s.url, metricsUrl: s.metricsUrl })) }))
    const short = await runCli([scenario, '--targets', fleet, '--out', join(dir, 'short'), '--no-pin'])
    assert.equal(short.code, 2)
    assert.match(
      short.stderr,
      new RegExp(
        'session-sqlite-x2: needs 2 instance\\(s\\) running strategy=session,store=sqlite,session_cache=off,framework=fastify,' +
          'session_library=authbench; the targets have 1',
      ),
    )
  })

  test("a target's Node major is its runtime: a cell that asks for another is not matched to it", async () => {
    const s = await start(['--strategy', 'none', '--db', join(dir, 'rt.sqlite')])
    const own = `node${process.versions.node.split('.')[0]}`
    assert.equal((await remoteInstance(s.url, s.metricsUrl!)).info.runtime, own)
    const other = own === 'node24' ? 'node22' : 'node24'
    const fleet = join(dir, 'rt-fleet.json')
    writeFileSync(fleet, JSON.stringify({ instances: [{ url: s.url, metricsUrl: s.metricsUrl }] }))
    const scenario = join(dir, 'rt.json')
    const cells = [{ strategy: 'none', runtime: other }]
    writeFileSync(scenario, JSON.stringify({ name: 'rt', description: 'd', cells, workload: { route: 'GET /me', users: 20 } }))
    const res = await runCli([scenario, '--targets', fleet, '--out', join(dir, 'rt'), '--no-pin'])
    assert.equal(res.code, 2)
    assert.match(
      res.stderr,
      new RegExp(`none-${other}: needs 1 instance\\(s\\) running strategy=none,framework=fastify,runtime=${other}; the targets have 0`),
    )
    await s.stop()
  })

  test('a fleet file that is not one: exit 2, naming the field', async () => {
    const fleet = join(dir, 'bad.json')
    writeFileSync(fleet, JSON.stringify({ instances: [{ url: 'localhost:1' }] }))
    const res = await runCli([join(ROOT, 'test/fixtures/mini.json'), '--targets', fleet])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /instances\.0\.url: an http:\/\/ URL/)
    assert.match(res.stderr, /instances\.0\.metricsUrl: /)
  })
})
