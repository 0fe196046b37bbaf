import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { drive, shareOf } from '../bench/drive/closed.ts'

test('each connection cycles through its own share of the credential pool, so a short window reaches all of it', async (t) => {
  // A server that remembers, per connection, the first user it was asked for, and every user seen.
  const first = new Map<number, number>()
  const seen = new Set<number>()
  const server = createServer((req, res) => {
    const user = Number(req.headers['x-user'])
    seen.add(user)
    if (!first.has(req.socket.remotePort!)) first.set(req.socket.remotePort!, user)
    res.end('ok')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const requests = Array.from({ length: 100 }, (_, i) => ({ method: 'GET' as const, path: '/me', headers: { 'x-user': String(i) } }))
  const r = await drive([url], requests, 10, 1)
  assert.ok(r.requests >= 100, `${r.requests} requests`)
  assert.deepEqual([...first.values()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.equal(seen.size, 100)
  // A 1 s window lasts about a second: no time goes into building every connection's copy of the pool.
  assert.ok(r.durationSeconds < 1.5, `${r.durationSeconds} s`)
  assert.deepEqual(shareOf([0, 1, 2, 3, 4, 5, 6], 1, 3), [1, 4])
  assert.deepEqual(shareOf([0, 1, 2], 4, 5), [1])
})
