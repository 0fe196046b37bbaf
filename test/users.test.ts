import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { createServer, DEFAULT_CONFIG } from '../servers/server.ts'
import { usersCachePath, verifyPassword } from '../servers/users.ts'

test('seeded users: real salted scrypt hashes, cached for the next start', async (t) => {
  const config = { ...DEFAULT_CONFIG, strategy: 'session' as const, users: 17, hashCost: 5 }
  const cache = usersCachePath(17, 5)
  rmSync(cache, { force: true })
  t.after(() => rmSync(cache, { force: true }))

  const first = await createServer(config)
  t.after(() => first.close())
  const hashes = (path: string) => {
    const db = new Database(path, { readonly: true })
    try {
      return db.prepare('SELECT username, password_hash AS h FROM users ORDER BY id').all() as { username: string; h: string }[]
    } finally {
      db.close()
    }
  }
  const rows = hashes(first.dbPath)
  assert.equal(rows.length, 17)
  assert.match(rows[0]!.h, /^scrypt\$5\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
  assert.equal(new Set(rows.map((r) => r.h.split('$')[2])).size, 17, 'every salt differs')
  assert.equal(await verifyPassword('pw-user3', rows[2]!.h), true)
  assert.equal(await verifyPassword('pw-user4', rows[2]!.h), false)
  assert.ok(existsSync(cache))

  const second = await createServer(config)
  t.after(() => second.close())
  assert.deepEqual(hashes(second.dbPath), rows)
  const res = await second.app.inject({ method: 'POST', url: '/login', payload: { username: 'user17', password: 'pw-user17' } })
  assert.equal(res.statusCode, 204)
})
