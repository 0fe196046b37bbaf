// `npm run observe`: a fleet the test started, under a load the test drives itself (a known number
// of GET /me), measured from the servers' metrics alone; flags it refuses; a target that stops
// answering mid-run; Ctrl-C.
import assert from 'node:assert/strict'
import { type AddressInfo, createServer } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { ResultsFile } from '../bench/contracts/results.ts'
import { ProcessGroup, startServer, type ServerHandle } from '../bench/processes.ts'
import { strategyRunners } from '../bench/strategies/run/index.ts'
import { runCli } from './helpers.ts'

/** `npm run observe -- ARGS`; `onStderr` sees its stderr so far at each chunk. */
const runObserve = (args: string[], onStderr?: Parameters<typeof runCli>[3]) => runCli('bench/observe-cli.ts', args, undefined, onStderr)

/** Exactly `total` GET /me, `concurrency` at a time, each with one of `headers`; resolves with the statuses seen. */
async function load(url: string, headers: Record<string, string>[], total: number, concurrency = 10): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {}
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        const res = await fetch(`${url}/me`, { headers: headers[i % headers.length] })
        await res.arrayBuffer()
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
      }
    }),
  )
  return statuses
}

const fleetOf = (servers: ServerHandle[]) => JSON.stringify({ instances: servers.map((s) => ({ url: s.url, metricsUrl: s.metricsUrl })) })

describe('npm run observe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-observe-'))
  const group = new ProcessGroup()
  test.after(async () => {
    await group.stopAll()
    rmSync(dir, { recursive: true, force: true })
  })
  const start = (args: string[]) => startServer(group, [...args, '--metrics-port', '0', '--users', '50'])

  test('measures a fleet under load it did not drive: each request counted once, a session read per request', async () => {
    const session = await start(['--strategy', 'session', '--db', join(dir, 'a.sqlite')])
    const jwt = await start(['--strategy', 'jwt', '--db', join(dir, 'b.sqlite')])
    // A baseline server the load never reaches: its cell is kept, having served nothing.
    const none = await start(['--strategy', 'none', '--db', join(dir, 'n.sqlite')])
    const login = (s: ServerHandle, kind: 'session' | 'jwt') =>
      Promise.all(Array.from({ length: 20 }, async (_, i) => (await strategyRunners[kind].login(s.url, i + 1)).headers))
    const [sessionHeaders, jwtHeaders] = await Promise.all([login(session, 'session'), login(jwt, 'jwt')])
    const fleet = join(dir, 'fleet.json')
    writeFileSync(fleet, fleetOf([session, jwt, none]))
    const out = join(dir, 'out')
    const PER_SERVER = 1000
    let loaded: Promise<{ statuses: Record<number, number>[]; windowsBefore: number }> | null = null
    const res = await runObserve(['--targets', fleet, '--window', '4', '--windows', '2', '--out', out], (stderr) => {
      // The load starts once the first edge is read, and is over before the last.
      if (loaded || !stderr.includes('observing 3 targets')) return
      loaded = Promise.all([load(session.url, sessionHeaders, PER_SERVER), load(jwt.url, jwtHeaders, PER_SERVER)]).then((statuses) => ({
        statuses,
        windowsBefore: 0,
      }))
      const seen = () => (stderr.match(/^window \d\/2/gm) ?? []).length
      loaded = loaded.then((l) => ({ ...l, windowsBefore: seen() }))
    })
    assert.equal(res.code, 0, res.stderr)
    const sent = await loaded!
    assert.deepEqual(sent.statuses, [{ 200: PER_SERVER }, { 200: PER_SERVER }])
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.equal(results.scenario.workload.route, 'observed')
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status, c.instances, c.rounds.length]),
      [
        ['none', 'ok', 1, 2],
        ['session-sqlite', 'ok', 1, 2],
        ['jwt-HS256-jose-sqlite', 'ok', 1, 2],
      ],
    )
    assert.deepEqual(
      results.cells[0]!.rounds.map((r) => [r.requests, r.cpuUsPerRequest]),
      [
        [0, 0],
        [0, 0],
      ],
    )
    for (const c of results.cells.slice(1)) {
      for (const r of c.rounds) assert.ok(r.requests <= PER_SERVER, `${c.id} window ${r.round}: ${r.requests}`)
      // Windows edge to edge, and the load inside them: every request counted, none twice.
      assert.equal(
        c.rounds.reduce((n, r) => n + r.requests, 0),
        PER_SERVER,
        c.id,
      )
      assert.deepEqual(
        c.rounds.map((r) => r.instanceWindows!.map((w) => w.url)),
        [[c.id === 'session-sqlite' ? session.url : jwt.url], [c.id === 'session-sqlite' ? session.url : jwt.url]],
      )
    }
    const sessionCell = results.cells[1]!
    assert.equal(sessionCell.summary!.storeOpsPerRequest.reads, 1)
    assert.equal(sessionCell.summary!.storeOpsPerRequest.writes, 0)
    assert.ok(sessionCell.summary!.cpuUsPerRequest.median > 5, `CPU ${sessionCell.summary!.cpuUsPerRequest.median}`)
    assert.equal(results.cells[2]!.summary!.storeOpsPerRequest.reads, 0)
    assert.equal(results.scenario.baseline, '')
    assert.ok(existsSync(join(out, 'index.html')))
    const html = readFileSync(join(out, 'index.html'), 'utf8')
    assert.match(html, /Observed: 3 servers in 3 cells under load from outside/)
    assert.match(html, /Not observed: client-side latency/)
    assert.doesNotMatch(html, /closed loop|client-bound/i)
    assert.match(res.stdout, /fleet \(2 windows\)\s+2000 /)
    assert.ok(sent.windowsBefore < 2, 'the load ended before the last edge')
  })

  test('flags it cannot use: exit 2, naming the flag', async () => {
    // A port nothing listens on: one the system gave, then closed.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo
        s.close(() => resolve(port))
      })
    })
    const fleet = join(dir, 'one.json')
    const target = `http://127.0.0.1:${port}`
    writeFileSync(fleet, JSON.stringify({ instances: [{ url: target, metricsUrl: `${target}/metrics` }] }))
    const cases: [string[], RegExp][] = [
      [[], /--targets FLEET\.json is required/],
      [['--targets', fleet, '--window', '0'], /--window must be seconds/],
      [['--targets', fleet, '--windows', 'x'], /--windows must be a whole number/],
      [['--targets', fleet, '--bogus'], /Unknown option '--bogus'/],
      [['--targets', join(dir, 'missing.json')], /--targets: .*missing\.json: ENOENT/],
      [
        ['--targets', fleet],
        new RegExp(`--targets: targets not usable:\n {2}${target.replace(/[.]/g, '\\.')}/metrics did not answer \\(ECONNREFUSED\\)`),
      ],
    ]
    for (const [args, message] of cases) {
      const res = await runObserve(args)
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, message)
    }
  })

  test('a target that stops answering fails its windows with the reason (exit 1); Ctrl-C writes what was observed (exit 130)', async () => {
    const db = join(dir, 'c.sqlite')
    const servers = await Promise.all([0, 1].map(() => start(['--strategy', 'session', '--db', db])))
    const fleet = join(dir, 'pair.json')
    writeFileSync(fleet, fleetOf(servers))
    const out = join(dir, 'stopped')
    let stopping: Promise<void> | null = null
    const res = await runObserve(['--targets', fleet, '--window', '1', '--windows', '3', '--out', out], (stderr) => {
      if (!stopping && /^window 1\/3/m.test(stderr)) stopping = servers[1]!.stop()
    })
    await stopping
    assert.equal(res.code, 1, res.stderr)
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    const cell = results.cells[0]!
    assert.equal(cell.id, 'session-sqlite-x2')
    assert.equal(cell.status, 'failed')
    assert.equal(cell.rounds.length, 1)
    // The first window served nothing: kept, and said so.
    assert.equal(cell.rounds[0]!.requests, 0)
    assert.equal(cell.rounds[0]!.cpuUsPerRequest, 0)
    assert.match(res.stderr, /window 1\/3 \([\d.]+s\): session-sqlite-x2 0 requests \(served nothing: /)
    const metrics = servers[1]!.metricsUrl!.replace(/[.]/g, '\\.')
    assert.match(cell.reason!, new RegExp(`^windows 2, 3 of 3 failed: ${metrics} did not answer \\(ECONNREFUSED\\)`))
    assert.ok(existsSync(join(out, 'index.html')))

    const alone = join(dir, 'alone.json')
    writeFileSync(alone, fleetOf([servers[0]!]))
    const cut = join(dir, 'cut')
    const interrupted = await runObserve(['--targets', alone, '--window', '1', '--windows', '20', '--out', cut], (stderr, child) => {
      if (/^window 1\/20/m.test(stderr) && !/SIGINT/.test(stderr)) child.kill('SIGINT')
    })
    assert.equal(interrupted.code, 130, interrupted.stderr)
    const partial = JSON.parse(readFileSync(join(cut, 'results.json'), 'utf8')) as ResultsFile
    assert.equal(partial.interrupted, true)
    assert.ok(partial.cells[0]!.rounds.length >= 1 && partial.cells[0]!.rounds.length < 20)
    assert.ok(existsSync(join(cut, 'index.html')))
  })
})
