// SQLite's busy wait is synchronous: it blocks the event loop, so no timer can say how late the
// machine ran meanwhile (test/helpers.ts, timedAgainstLoop). Its wall-clock bound runs here, in the
// sequential tier, on a machine no other test file shares.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { BUSY_TIMEOUT_MS } from '../../servers/db.ts'
import { login, testServer, timed } from '../helpers.ts'

describe('SQLite busy fails closed with 503 within the busy timeout', () => {
  test('a write while another connection holds the write lock', async (t) => {
    const server = await testServer(t, { strategy: 'session' })
    const cred = await login(server)
    const locker = new Database(server.dbPath)
    t.after(() => locker.close())
    locker.exec('BEGIN IMMEDIATE')
    const [res, ms] = await timed(() =>
      server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user1', password: 'pw-user1' } }),
    )
    assert.equal(res.statusCode, 503)
    assert.equal(res.headers['retry-after'], '1')
    // The busy timeout (counted in the sleeps SQLite asks for, each of which a loaded machine
    // stretches) and the login's own work: under a second, on a machine no other file shares.
    assert.ok(ms < BUSY_TIMEOUT_MS + 900, `answered in ${ms} ms`)
    // WAL readers are not blocked by the writer.
    assert.equal((await server.app.inject({ url: '/me', headers: cred.headers })).statusCode, 200)
    locker.exec('COMMIT')
    assert.equal(
      (await server.app.inject({ method: 'POST', url: '/login', payload: { username: 'user1', password: 'pw-user1' } })).statusCode,
      204,
    )
  })
})
