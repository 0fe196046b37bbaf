import assert from 'node:assert/strict'
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { describe, test, type TestContext } from 'node:test'
import { readyPort, requestStats } from '../servers/ipc.ts'
import { FRAMEWORKS } from '../servers/types.ts'

const MAIN = new URL('../servers/main.ts', import.meta.url).pathname

function start(t: TestContext, args: string[]): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
  const child = fork(MAIN, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: readyPort(m)!, stdout: () => out }))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

function http(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let data = ''
      res.on('data', (d) => {
        data += d
      })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)))

const stats = requestStats

describe('servers/main.ts', () => {
  test('bad flags exit with code 2 and name the flag', () => {
    for (const [args, pattern] of [
      [[], /--strategy is required/],
      [['--strategy', 'oauth'], /--strategy must be one of none, session, jwt, cookie; got "oauth"/],
      [['--strategy', 'cookie', '--cookie-key', 'abcd'], /--cookie-key must be 32 bytes of hex/],
      [['--strategy', 'session', '--cookie-key', 'ab'.repeat(32)], /--cookie-key applies to --strategy cookie only/],
      [['--strategy', 'jwt', '--alg', 'HS512'], /--alg must be one of/],
      [['--strategy', 'jwt', '--port', '70000'], /--port must be an integer from 0 to 65535/],
      [['--strategy', 'session', '--store', 'redis'], /--store redis needs --redis-url/],
      [['--strategy', 'jwt', '--jwt-secret', 'abc'], /--jwt-secret must be hex/],
      [['--strategy', 'jwt', '--bogus', '1'], /Unknown option '--bogus'/],
      [['--strategy', 'none', '--framework', 'koa'], /--framework must be one of fastify, express; got "koa"/],
      [
        ['--strategy', 'cookie', '--framework', 'express'],
        /--strategy cookie runs on --framework fastify only \(a Fastify plugin\); got --framework express/,
      ],
    ] as const) {
      const res = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
        encoding: 'utf8',
        env: { ...process.env, REDIS_URL: '' },
      })
      assert.equal(res.status, 2, args.join(' '))
      assert.match(res.stderr, pattern)
    }
  })

  for (const framework of FRAMEWORKS)
    test(`${framework}: prints the listening line, reports its port over IPC, serves HTTP, counts, stops on SIGTERM`, async (t) => {
      const { child, port, stdout } = await start(t, ['--framework', framework, '--strategy', 'session', '--users', '50'])
      assert.equal(stdout(), `listening on http://127.0.0.1:${port}\n`)
      const loginRes = await http(
        port,
        'POST',
        '/login',
        { 'content-type': 'application/json' },
        '{"username":"user50","password":"pw-user50"}',
      )
      assert.equal(loginRes.status, 204)
      const cookie = String(loginRes.headers['set-cookie']).split(';')[0]!
      const before = await stats(child, true)
      for (let i = 0; i < 5; i++) assert.equal((await http(port, 'GET', '/me', { cookie })).status, 200)
      const afterStats = await stats(child, true)
      assert.deepEqual(
        [afterStats.requests - before.requests, afterStats.reads - before.reads, afterStats.writes - before.writes],
        [5, 5, 0],
      )
      assert.equal(afterStats.requestTimeUs.count, 5)
      assert.ok(afterStats.cpuUs > before.cpuUs)
      assert.equal(afterStats.sqlTrace, null)
      // Oversized headers are refused by Node's parser (431), not by a 5xx.
      const huge = await http(port, 'GET', '/me', { cookie: `sid=${'a'.repeat(20_000)}` })
      assert.equal(huge.status, 431)
      const done = exited(child)
      child.kill('SIGTERM')
      assert.equal(await done, 0)
    })

  for (const framework of FRAMEWORKS)
    test(`${framework}: --trace-sql: SQLite's own statement trace agrees with the counters, statement by statement`, async (t) => {
      const { child, port } = await start(t, ['--framework', framework, '--strategy', 'session', '--users', '50', '--trace-sql'])
      const start0 = await stats(child, false)
      const loginRes = await http(
        port,
        'POST',
        '/login',
        { 'content-type': 'application/json' },
        '{"username":"user7","password":"pw-user7"}',
      )
      const cookie = String(loginRes.headers['set-cookie']).split(';')[0]!
      for (let i = 0; i < 3; i++) assert.equal((await http(port, 'GET', '/profile', { cookie })).status, 200)
      assert.equal((await http(port, 'POST', '/logout', { cookie })).status, 204)
      const end = await stats(child, false)
      const delta = (s: typeof end, k: 'reads' | 'writes' | 'deletes') => s[k] - start0[k]
      const traced = (k: 'reads' | 'writes' | 'deletes') => end.sqlTrace![k] - start0.sqlTrace![k]
      // login: the user row and a new session; each /profile: the session and the user row; logout: read, then delete.
      assert.deepEqual(
        ['reads', 'writes', 'deletes'].map((k) => delta(end, k as 'reads')),
        [1 + 3 * 2 + 1, 1, 1],
      )
      assert.deepEqual(
        ['reads', 'writes', 'deletes'].map((k) => traced(k as 'reads')),
        [8, 1, 1],
      )
      // Stopped as the harness stops it, so its temporary database goes with it.
      const done = exited(child)
      child.kill('SIGTERM')
      assert.equal(await done, 0)
    })

  for (const framework of FRAMEWORKS)
    test(`${framework}: exits when the parent IPC channel closes`, async (t) => {
      const { child } = await start(t, ['--framework', framework, '--strategy', 'jwt', '--alg', 'ES256', '--users', '5'])
      const done = exited(child)
      child.disconnect()
      assert.equal(await done, 0)
    })

  test('JWKS over HTTP for an asymmetric key', async (t) => {
    const { child, port } = await start(t, ['--strategy', 'jwt', '--alg', 'RS256', '--engine', 'fast-jwt', '--users', '5'])
    const res = await http(port, 'GET', '/.well-known/jwks.json')
    assert.equal(res.status, 200)
    const { keys } = JSON.parse(res.body)
    assert.deepEqual([keys[0].kty, keys[0].alg, keys[0].use], ['RSA', 'RS256', 'sig'])
    child.kill('SIGTERM')
    assert.equal(await exited(child), 0)
  })
})
