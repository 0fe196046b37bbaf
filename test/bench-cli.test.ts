import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ResultsFile } from '../bench/contracts/results.ts'

import { processesTagged, runBench, runTag, waitFor } from './helpers.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bench/cli.ts')
const MINI = join(ROOT, 'test/fixtures/mini.json')

// The seed whose first round measures session-sqlite first (right after the baseline), so a test
// that interrupts the run once that cell is measured waits for two windows, not up to five.
const SQLITE_FIRST = 10

const runCli = (args: string[], onStderr?: Parameters<typeof runBench>[2], tag?: string) => runBench(args, tag, onStderr)

describe('npm run bench', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-cli-'))
  test.after(() => rmSync(dir, { recursive: true, force: true }))

  test('a smoke run: every cell ok, exact counts, every results.json field, nothing left running', async () => {
    const tag = runTag()
    const out = join(dir, 'run')
    const startedSeconds = Date.now() / 1000
    const res = await runCli([MINI, '--smoke', '--out', out], undefined, tag)
    const runSeconds = Date.now() / 1000 - startedSeconds
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(processesTagged(tag), [])
    assert.match(res.stderr, /ETA/)
    assert.match(res.stdout, /session-redis\s+ok/)

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.equal(results.schemaVersion, 1)
    assert.deepEqual(results.scenario.name, 'mini')
    assert.equal(results.scenario.file, 'test/fixtures/mini.json')
    assert.equal(results.scenario.baseline, 'none')
    assert.equal(results.smoke, true)
    assert.equal(results.interrupted, false)
    assert.equal(results.environment.node, process.version)
    assert.equal(results.environment.cpus.count, cpus().length)
    assert.match(results.environment.packages.fastify!, /^5\./)
    assert.match(results.environment.packages['better-sqlite3']!, /^12\./)
    assert.ok(results.environment.gitCommit === null || /^[0-9a-f]{40}$/.test(results.environment.gitCommit))
    assert.ok(!Number.isNaN(Date.parse(results.startedAt)))
    assert.deepEqual(
      results.cells.map((c) => [c.id, c.status]),
      [
        ['none', 'ok'],
        ['session-sqlite', 'ok'],
        ['session-redis', 'ok'],
        ['jwt-HS256-jose-sqlite', 'ok'],
        ['jwt-HS256-fast-jwt-sqlite', 'ok'],
      ],
    )
    const wantReads: Record<string, number> = {
      none: 0,
      'session-sqlite': 1,
      'session-redis': 1,
      'jwt-HS256-jose-sqlite': 0,
      'jwt-HS256-fast-jwt-sqlite': 0,
    }
    for (const c of results.cells) {
      // One round; the baseline measures a window before and after every other cell's (B X B Y ... B).
      assert.deepEqual([...new Set(c.rounds.map((r) => r.round))], [1], c.id)
      if (c.id !== 'none') assert.equal(c.rounds.length, 1, c.id)
      if (c.id !== 'none') assert.ok(c.rounds[0]!.bracket !== null && c.rounds[0]!.ratioToBaseline!.cpu! > 0, c.id)
      const s = c.summary!
      assert.deepEqual(s.storeOpsPerRequest, { reads: wantReads[c.id], writes: 0, deletes: 0 }, c.id)
      assert.ok(s.rps.median > 0 && s.cpuUsPerRequest.median > 0, c.id)
      assert.equal(s.non2xx, 0)
      assert.equal(s.errors, 0)
      assert.ok(s.serverTimeUs.p50 > 0 && s.serverTimeUs.p50 <= s.serverTimeUs.p99, c.id)
      assert.equal(c.rounds[0]!.redisCommandsPerRequest === null, c.store !== 'redis', c.id)
      assert.ok(c.reason === null)
    }
    const none = results.cells[0]!
    // B X B Y B Z B W B: one more baseline window than the other cells, plus one per window measured again.
    assert.equal(none.rounds.length, 4 + 1 + results.noiseControl.repeats)
    assert.equal(results.noiseControl.method, 'bracketed')
    assert.deepEqual([...results.noiseControl.orders[0]!].sort(), [
      'jwt-HS256-fast-jwt-sqlite',
      'jwt-HS256-jose-sqlite',
      'session-redis',
      'session-sqlite',
    ])
    const redisRound = results.cells.find((c) => c.id === 'session-redis')!.rounds[0]!
    assert.ok(redisRound.storeCpuUsPerRequest! > 0, `Redis CPU ${redisRound.storeCpuUsPerRequest}`)
    // The total is the servers' and the store's, and nothing else (no balancer here).
    assert.ok(
      Math.abs(redisRound.totalCpuUsPerRequest - (redisRound.cpuUsPerRequest + redisRound.storeCpuUsPerRequest!)) < 1e-9,
      `${redisRound.totalCpuUsPerRequest} against ${redisRound.cpuUsPerRequest} + ${redisRound.storeCpuUsPerRequest}`,
    )
    assert.equal(redisRound.redisCommandsPerRequest!.reads, 1)
    assert.equal(results.cells[0]!.summary!.ratioToBaseline.cpu, 1)
    // What the client holds: an opaque 43-character id versus a readable, much larger token.
    const session = results.cells.find((c) => c.id === 'session-sqlite')!
    assert.deepEqual(session.credential, { kind: 'cookie', header: 'cookie', bytes: 47, clientReadable: false, decoded: null })
    assert.deepEqual(session.revocationProbe, { statusAfterLogout: [401], keepsWorkingSeconds: 0 })
    const jwt = results.cells.find((c) => c.id === 'jwt-HS256-jose-sqlite')!
    assert.equal(jwt.credential!.kind, 'bearer')
    assert.deepEqual(Object.keys(jwt.credential!.decoded!.claims).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'name', 'sub'])
    assert.deepEqual(jwt.revocationProbe!.statusAfterLogout, [200])
    // A copy lives until its exp: the access lifetime (900 s) less the time between its issue and
    // the probe, which both fall inside the run.
    const { exp, iat } = jwt.credential!.decoded!.claims as { exp: number; iat: number }
    assert.equal(exp - iat, 900)
    const keeps = jwt.revocationProbe!.keepsWorkingSeconds!
    assert.ok(keeps <= 900 && keeps >= 900 - Math.ceil(runSeconds) - 1, `${keeps} s, the run took ${runSeconds} s`)
    assert.ok(jwt.summary!.bytesPerRequest.request > session.summary!.bytesPerRequest.request + 200)
  })

  test('without redis-server (or taskset, or git) on PATH: Redis cells skipped with the fix, the rest ok', async () => {
    const out = join(dir, 'no-redis')
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, MINI, '--smoke', '--out', out], {
        cwd: ROOT,
        env: { ...process.env, PATH: join(dir, 'empty-path') },
      })
      let stderr = ''
      child.stderr.on('data', (d) => {
        stderr += d
      })
      child.stdout.resume()
      child.on('exit', (code) => resolve({ code, stderr }))
    })
    assert.equal(res.code, 0, res.stderr)
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    const redis = results.cells.find((c) => c.id === 'session-redis')!
    assert.equal(redis.status, 'skipped')
    assert.match(
      redis.reason!,
      /redis-server is not on PATH; install it \(Debian\/Ubuntu: apt-get install redis-server, or npm run setup\) or pass --redis-url/,
    )
    assert.deepEqual(
      results.cells.filter((c) => c.id !== 'session-redis').map((c) => c.status),
      ['ok', 'ok', 'ok', 'ok'],
    )
    assert.equal(results.environment.cpuAffinity, null)
    assert.equal(results.environment.gitCommit, null)
  })

  test('a broken scenario is refused with every error named and exit code 2, before anything starts', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'bad',
        description: 'd',
        cells: [{ strategy: 'jwt', alg: 'none' }],
        workload: { route: 'GET /me' },
        load: { rounds: 0 },
        colour: 'red',
      }),
    )
    const tag = runTag()
    const res = await runCli([bad], undefined, tag)
    assert.equal(res.code, 2)
    assert.match(res.stderr, /bad\.json: \(root\): Unrecognized key/)
    assert.match(res.stderr, /bad\.json: cells\[0\]\.alg: /)
    assert.match(res.stderr, /bad\.json: load\.rounds: /)
    assert.deepEqual(processesTagged(tag), [])
    assert.equal((await runCli(['--bogus'])).code, 2)
    const badSeed = await runCli(['--seed', '1.5'])
    assert.equal(badSeed.code, 2)
    assert.match(badSeed.stderr, /--seed must be an integer from 0 to 4294967295; got "1\.5"/)
    assert.equal((await runCli([join(dir, 'missing.json')])).code, 2)
    // Refused when its plan is made (an axis where the workload does not take it): named, exit 2, no stack trace.
    const badPlan = join(dir, 'bad-plan.json')
    const cells = [{ strategy: 'none' }, { strategy: 'jwt', refreshJitterSeconds: 2 }]
    writeFileSync(badPlan, JSON.stringify({ name: 'bad-plan', description: 'd', cells, workload: { route: 'GET /me' } }))
    const planRes = await runCli([badPlan])
    assert.equal(planRes.code, 2)
    assert.match(planRes.stderr, /bad-plan\.json: cells\[1\]\.refreshJitterSeconds: applies to workload route "lifecycle" only/)
    assert.doesNotMatch(planRes.stderr, /\n\s+at /)
  })

  test('Ctrl-C mid-run: exit 130, partial results marked interrupted, nothing left running', async () => {
    const tag = runTag()
    const out = join(dir, 'interrupted')
    let sent = false
    const res = await runCli(
      [MINI, '--out', out, '--seed', String(SQLITE_FIRST)],
      (stderr, child) => {
        if (!sent && /round 1\/2 session-sqlite/.test(stderr)) {
          sent = true
          child.kill('SIGINT')
        }
      },
      tag,
    )
    assert.equal(res.code, 130, res.stderr)
    assert.deepEqual(processesTagged(tag), [])
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile
    assert.equal(results.interrupted, true)
    assert.deepEqual(results.noiseControl.orders[0], [
      'session-sqlite',
      'session-redis',
      'jwt-HS256-fast-jwt-sqlite',
      'jwt-HS256-jose-sqlite',
    ])
    assert.ok(results.cells.some((c) => c.status === 'skipped' && /interrupted/.test(c.reason ?? '')))
    assert.ok(existsSync(out))
  })

  test('Ctrl-C twice: every child killed at once, exit 130, no folder of the run left in the temp folder', async () => {
    const tag = runTag()
    // A temp folder of its own, so every folder in it is this run's (tsx keeps its cache there too).
    const tmp = mkdtempSync(join(dir, 'tmp-'))
    let sent = 0
    const out = join(dir, 'forced')
    const res = await runBench(
      [MINI, '--out', out, '--seed', String(SQLITE_FIRST)],
      tag,
      (stderr, child) => {
        if (sent === 0 && /round 1\/2 session-sqlite/.test(stderr)) {
          sent = 1
          child.kill('SIGINT')
        }
        // The second once the first is taken: the forced path, which waits for nothing.
        if (sent === 1 && /again to force/.test(stderr)) {
          sent = 2
          child.kill('SIGINT')
        }
      },
      { TMPDIR: tmp },
    )
    assert.equal(res.code, 130, res.stderr)
    assert.equal(sent, 2)
    // Forced, the run writes no results (a graceful Ctrl-C writes them, marked interrupted).
    assert.equal(existsSync(join(out, 'results.json')), false)
    await waitFor('every process of the run gone', async () => processesTagged(tag).length === 0, 10_000)
    // The cells' folders (keys, the servers' databases) and the users' template; the seeded users'
    // cache is a file kept for the next run.
    assert.deepEqual(
      readdirSync(tmp, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith('authbench-'))
        .map((e) => e.name),
      [],
    )
  })
})
