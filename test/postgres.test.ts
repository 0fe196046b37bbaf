import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { ProcessGroup } from '../bench/processes.ts'
import { postgresProvisioner } from '../bench/stores/run/postgres.ts'
import type { ProvisionedStore } from '../bench/stores/run/index.ts'
import { POSTGRES_TIMEOUT_MS, unavailableError } from '../servers/stores/postgres.ts'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { login, processesTagged, runTag, testServer, timedAgainstLoop, waitFor } from './helpers.ts'

/** A request's own work around its store call: a few ms on an idle machine. */
const WORK_MS = 100

/** The kernel's tick account of a server and its live children (utime + stime, whole 10 ms ticks each), and how many processes that sums. */
function treeTicksUs(postmaster: number): { us: number; processes: number } {
  const ticks = (pid: number | string) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return {
      ppid: Number(f[1]),
      us: (Number(f[11]) + Number(f[12]) + (Number(pid) === postmaster ? Number(f[13]) + Number(f[14]) : 0)) * 10_000,
    }
  }
  let { us } = ticks(postmaster)
  let processes = 1
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const t = ticks(name)
      if (t.ppid === postmaster) {
        us += t.us
        processes++
      }
    } catch {
      // exited meanwhile
    }
  }
  return { us, processes }
}

describe('PostgreSQL as the store: a real server the harness starts', () => {
  const group = new ProcessGroup()
  let store: ProvisionedStore
  let url: string
  before(async () => {
    store = await postgresProvisioner.provision({ cpus: null, group, urls: {} })
    url = store.serverArgs[1]!
  })
  after(async () => {
    await store?.stop()
    await group.stopAll()
  })
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
  }

  test("statements counted by PostgreSQL itself (pg_stat_statements) equal the servers' counters", async (t) => {
    for (const strategy of ['session', 'jwt'] as const) {
      const server = await testServer(
        t,
        {
          strategy,
          store: 'postgres',
          storeUrl: url,
          revocation: strategy === 'jwt' ? 'denylist' : 'none',
          engine: 'fast-jwt',
        },
        { purgeIntervalMs: 3_600_000 },
      )
      const cred = await login(server)
      const before = await store.counts()
      const counters = server.counters.totals()
      for (let i = 0; i < 200; i++) assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
      await server.app.inject({
        method: 'POST',
        url: '/logout',
        headers: cred.headers,
        ...(strategy === 'jwt' ? { payload: { refresh_token: cred.refreshToken } } : {}),
      })
      const after = (await store.counts())!
      const ours = {
        reads: server.counters.reads - counters.reads,
        writes: server.counters.writes - counters.writes,
        deletes: server.counters.deletes - counters.deletes,
      }
      const theirs = after.total - before!.total
      assert.deepEqual(
        { reads: after.reads - before!.reads, writes: after.writes - before!.writes, deletes: after.deletes - before!.deletes },
        ours,
        strategy,
      )
      // Every statement PostgreSQL ran, tagged or not, is one the counters know: an untagged one
      // (a stray query, a transaction's BEGIN) would show here and nowhere above. The purge timer
      // is set past the test so its statements cannot fall in the window.
      assert.equal(theirs, ours.reads + ours.writes + ours.deletes, `${strategy}: ${theirs} statements in all`)
      // 200 GETs, one read each, and the logout's own identification (a session read, or the
      // denylist read); the logout deletes the session, or denies the token and revokes its family.
      assert.deepEqual(ours, strategy === 'session' ? { reads: 201, writes: 0, deletes: 1 } : { reads: 201, writes: 1, deletes: 1 })
    }
  })

  test("its CPU as the harness reads it (the store's cpuUs, the scheduler's account) agrees with the kernel's ticks within their truncation", async (t) => {
    const server = await testServer(t, { strategy: 'session', store: 'postgres', storeUrl: url })
    const cred = await login(server)
    // The postmaster as the server itself names it (its data directory's postmaster.pid), not as the provisioner knows it.
    const pid = Number(readFileSync(`${await pgDataDir(url)}/postmaster.pid`, 'utf8').split('\n')[0])
    const cpu0 = (await store.cpuUs())!
    const ticks0 = treeTicksUs(pid)
    for (let i = 0; i < 40; i++)
      await Promise.all(Array.from({ length: 100 }, () => server.app.inject({ url: '/me', headers: cred.headers })))
    const cpu = (await store.cpuUs())! - cpu0
    const ticks1 = treeTicksUs(pid)
    const ticks = ticks1.us - ticks0.us
    assert.ok(cpu > 200_000, `the load gave PostgreSQL only ${cpu} µs of CPU`)
    // Each process's ticks are its run time cut to whole 10 ms, at both ends: at most one tick apart per process, per end, plus 2%.
    const bound = 10_000 * (ticks0.processes + ticks1.processes) + 0.02 * cpu
    assert.ok(
      Math.abs(cpu - ticks) <= bound,
      `scheduler ${cpu} µs against ticks ${ticks} µs over ${ticks1.processes} processes (bound ${bound})`,
    )
  })

  for (const strategy of ['session', 'jwt'] as const) {
    test(`${strategy}: paused, killed, restarted empty: 503 within a second, never 500, then back`, async (t) => {
      const faults = store.faults!
      const server = await testServer(t, {
        strategy,
        store: 'postgres',
        storeUrl: url,
        revocation: strategy === 'jwt' ? 'denylist' : 'none',
      })
      const cred = await login(server)
      const me = () => server.app.inject({ url: '/me', headers: cred.headers })
      assert.equal((await me()).statusCode, 200)

      await faults.pause()
      // Failed closed by the query timeout, not held until the server returns: the timeout, the
      // request's work, and however late this process's timers ran meanwhile (a loaded machine).
      const [paused, pausedMs, pausedLateMs] = await timedAgainstLoop(me)
      assert.equal(paused.statusCode, 503)
      assert.equal(paused.headers['retry-after'], '1')
      const pausedBound = POSTGRES_TIMEOUT_MS + WORK_MS + pausedLateMs
      assert.ok(pausedMs <= pausedBound, `answered in ${pausedMs} ms, bound ${pausedBound} ms`)
      await faults.resume()
      await waitFor('recovery after the pause', async () => (await me()).statusCode === 200, 8000)

      await faults.kill()
      // A terminated connection or a refused one answers at once; never later than the timeout.
      const [down, downMs, downLateMs] = await timedAgainstLoop(me)
      assert.equal(down.statusCode, 503)
      const downBound = POSTGRES_TIMEOUT_MS + WORK_MS + downLateMs
      assert.ok(downMs <= downBound, `answered in ${downMs} ms, bound ${downBound} ms`)
      const loginDown = await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user1', password: 'pw-user1' } })
      assert.equal(loginDown.statusCode, 503)

      // Started again and emptied: a session is unknown (401), a JWT lives on its signature (its denylist entries gone); new logins work again.
      await faults.restart()
      await waitFor('reconnection', async () => (await me()).statusCode !== 503, 8000)
      assert.equal((await me()).statusCode, strategy === 'session' ? 401 : 200)
      const fresh = await login(server)
      assert.equal((await server.app.inject({ url: '/me', headers: fresh.headers })).statusCode, 200)
    })
  }

  test('a table locked past the statement timeout, and every pooled connection waiting on it: 503 within a second, never 500', async (t) => {
    const server = await testServer(t, { strategy: 'session', store: 'postgres', storeUrl: url })
    const cred = await login(server)
    const locker = new pg.Client({ connectionString: url })
    await locker.connect()
    t.after(() => locker.end())
    const schemas = (
      await locker.query<{ s: string }>("SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'sessions'")
    ).rows.map((r) => r.s)
    await locker.query('BEGIN')
    for (const s of schemas) await locker.query(`LOCK TABLE "${s}".sessions IN ACCESS EXCLUSIVE MODE`)
    // More requests than the pool has connections: the first ones time out in their statement, the rest waiting for a connection.
    const [answers, ms, lateMs] = await timedAgainstLoop(() =>
      Promise.all(Array.from({ length: 40 }, () => server.app.inject({ url: '/me', headers: cred.headers }))),
    )
    await locker.query('ROLLBACK')
    assert.deepEqual([...new Set(answers.map((a) => a.statusCode))], [503])
    // Each waits at most one timeout (its statement's, or the pool's for a connection): with the
    // 40 requests' work, and however late this process's timers ran meanwhile.
    const bound = POSTGRES_TIMEOUT_MS + WORK_MS + lateMs
    assert.ok(ms <= bound, `answered in ${ms} ms, bound ${bound} ms`)
    await waitFor(
      'recovery after the lock',
      async () => (await server.app.inject({ url: '/me', headers: cred.headers })).statusCode === 200,
      8000,
    )
  })

  test('a read-only server: reads answer, a login (a write) gets 503, never 500', async (t) => {
    const server = await testServer(t, { strategy: 'session', store: 'postgres', storeUrl: url })
    const cred = await login(server)
    await admin('ALTER SYSTEM SET default_transaction_read_only = on')
    await admin('SELECT pg_reload_conf()')
    t.after(async () => {
      await admin('ALTER SYSTEM RESET default_transaction_read_only')
      await admin('SELECT pg_reload_conf()')
    })
    // Pooled connections pick up the reloaded setting at their next transaction.
    await waitFor(
      'read-only in effect',
      async () =>
        (await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user2', password: 'pw-user2' } })).statusCode ===
        503,
      8000,
    )
    assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
  })

  test('what counts as "cannot serve now" and what stays a bug', () => {
    const sql = (code: string) => Object.assign(new Error('x'), { code })
    for (const code of ['08006', '53300', '57P01', '57P03', '57014', '25006', '55P03', '40001', '40P01'])
      assert.equal(unavailableError(sql(code)), true, code)
    for (const code of ['42601', '23505', '22P02', '42P01']) assert.equal(unavailableError(sql(code)), false, code)
    assert.equal(unavailableError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true)
    assert.equal(unavailableError(new Error('timeout exceeded when trying to connect')), true)
    assert.equal(unavailableError(new Error('Query read timeout')), true)
    assert.equal(unavailableError(new TypeError('Cannot read properties of undefined')), false)
  })

  /** The data directory of the server at `url`, as the server itself says. */
  async function pgDataDir(u: string): Promise<string> {
    const c = new pg.Client({ connectionString: u })
    await c.connect()
    try {
      return (await c.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory
    } finally {
      await c.end()
    }
  }
})

test('npm run bench with a PostgreSQL cell, interrupted mid-run: exit 130, no process and no data directory left', {
  timeout: 120_000,
}, async (t) => {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'authbench-pg-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'pg.json')
  writeFileSync(
    file,
    JSON.stringify({
      name: 'pg',
      description: 'd',
      cells: [{ strategy: 'none' }, { strategy: 'session', store: 'postgres' }],
      workload: { route: 'GET /me', users: 50 },
      load: { connections: 10, durationSeconds: 2, warmupSeconds: 1, rounds: 3 },
    }),
  )
  const tag = runTag()
  const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/cli.ts'), file, '--out', join(dir, 'out')], {
      cwd: root,
      env: { ...process.env, AUTHBENCH_TEST_RUN: tag },
    })
    let stderr = ''
    let sent = false
    child.stderr.on('data', (d) => {
      stderr += d
      if (!sent && /round 1\/3 session-postgres/.test(stderr)) {
        sent = true
        child.kill('SIGINT')
      }
    })
    child.on('exit', (code) => resolve({ code, stderr }))
  })
  assert.equal(res.code, 130, res.stderr)
  const dataDir = /started a private PostgreSQL on postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres \(data in (\S+)\)/.exec(res.stderr)?.[1]
  assert.ok(dataDir, res.stderr)
  // Backends notice their postmaster is gone within moments.
  await waitFor('every PostgreSQL process gone', async () => processesTagged(tag).length === 0, 8000)
  assert.equal(existsSync(dataDir), false, dataDir)
})
