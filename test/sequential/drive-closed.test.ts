// The closed-loop driver against servers that count what it sends. Sequential: every check here
// is a count of what a 1 s window holds (its length, requests, cookies issued), and a machine
// shared with other test files can starve a window of its requests.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { drive, shareOf } from '../../bench/drive/closed.ts'
import { login, manualClock, testServer } from '../helpers.ts'

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
  assert.deepEqual(
    [...first.values()].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  )
  assert.equal(seen.size, 100)
  // A 1 s window lasts about a second: no time goes into building every connection's copy of the pool.
  assert.ok(r.durationSeconds < 1.5, `${r.durationSeconds} s`)
  assert.deepEqual(shareOf([0, 1, 2, 3, 4, 5, 6], 1, 3), [1, 4])
  assert.deepEqual(shareOf([0, 1, 2], 4, 5), [1])
})

test("a Set-Cookie replaces that virtual client's cookie for its next request and the next window", async (t) => {
  // A server that issues a new cookie value to a client every 5th request and counts the
  // requests that came with a value older than the last two it issued (what a client that
  // ignores Set-Cookie sends). One answer per connection may be in flight when a window ends,
  // and is dropped with it: the value it carried is the only one a client may miss.
  const latest = new Map<string, number>()
  let stale = 0
  let issued = 0
  const server = createServer((req, res) => {
    const [, user, version] = /c=(\d+)\.(\d+)/.exec(req.headers.cookie ?? '') ?? []
    const current = latest.get(user!) ?? 0
    if (Number(version) < current - 1) stale++
    const seen = (latest.get(`${user}:n`) ?? 0) + 1
    latest.set(`${user}:n`, seen)
    if (seen % 5 === 0) {
      latest.set(user!, current + 1)
      issued++
      res.setHeader('set-cookie', [`c=${user}.${current + 1}; Path=/; HttpOnly`, 'other=x; Path=/'])
    }
    res.end('ok')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const requests = Array.from({ length: 20 }, (_, i) => ({
    method: 'GET' as const,
    path: '/me',
    headers: { cookie: `theme=dark; c=${i}.0` },
  }))
  const first = await drive([url], requests, 4, 1)
  const second = await drive([url], requests, 4, 1)
  assert.ok(first.requests > 100 && second.requests > 100, `${first.requests}, ${second.requests} requests`)
  assert.ok(issued > 40, `${issued} cookies issued`)
  assert.equal(stale, 0)
  // The pool holds every client's newest cookie (or the one before, its successor lost in flight), with the cookies it did not touch and the one it added.
  for (let i = 0; i < 20; i++) {
    const [, cookieVersion] = /c=\d+\.(\d+)/.exec(requests[i]!.headers.cookie!)!
    assert.ok(
      latest.get(String(i))! - Number(cookieVersion) <= 1,
      `client ${i}: ${requests[i]!.headers.cookie}, latest ${latest.get(String(i))}`,
    )
    assert.match(requests[i]!.headers.cookie, new RegExp(`^theme=dark; c=${i}\\.\\d+; other=x$`))
  }
})

test('a sealed cookie re-sealed by the server is kept: one renewal per client, then no more, and flat response bytes', async (t) => {
  const clock = manualClock()
  const server = await testServer(t, { strategy: 'cookie', users: 20 }, { clock })
  const url = `http://127.0.0.1:${await server.app.listen({ port: 0, host: '127.0.0.1' })}`
  const requests = []
  for (let i = 1; i <= 20; i++) requests.push({ method: 'GET' as const, path: '/me', headers: (await login(server, `user${i}`)).headers })
  const before = await drive([url], requests, 5, 1)
  const sealed = requests.map((r) => r.headers.cookie)
  // Past the re-seal interval (a minute at the default idle timeout): each client's next request is answered with a new cookie.
  clock.advance(61_000)
  await drive([url], requests, 5, 1)
  const renewed = requests.map((r) => r.headers.cookie)
  assert.equal(renewed.filter((c, i) => c !== sealed[i]).length, 20)
  // The clock stood still: the renewed cookies need no renewal, so no answer carries a cookie.
  const after = await drive([url], requests, 5, 1)
  assert.deepEqual(
    requests.map((r) => r.headers.cookie),
    renewed,
  )
  assert.equal(after.non2xx, 0)
  const perResponse = (r: { responseBytes: number; requests: number }) => r.responseBytes / r.requests
  // Usernames differ by a character or two: the mix of users moves the mean by a byte at most.
  assert.ok(Math.abs(perResponse(after) - perResponse(before)) < 2, `${perResponse(before)} then ${perResponse(after)} bytes per response`)
})

test('a client that stands for a new visitor each time (the login workload) keeps no cookie', async (t) => {
  let presented = 0
  const server = createServer((req, res) => {
    if (req.headers.cookie) presented++
    res.setHeader('set-cookie', 'sid=fresh; Path=/; HttpOnly')
    res.end('ok')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const requests = Array.from({ length: 10 }, () => ({
    method: 'POST' as const,
    path: '/login',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    keepCookies: false,
  }))
  const r = await drive([url], requests, 2, 1)
  assert.ok(r.requests > 50, `${r.requests} requests`)
  assert.equal(presented, 0)
  assert.equal(
    requests.every((q) => !('cookie' in q.headers)),
    true,
  )
})

test('a window of a fraction of a second lasts that fraction, not the whole second autocannon samples by', async (t) => {
  // A server that answers after 5 ms: 4 connections for 0.3 s send about 4 x 300 / 5 = 240 requests, a whole second 800.
  const server = createServer((_req, res) => setTimeout(() => res.end('ok'), 5))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const r = await drive([url], [{ method: 'GET', path: '/', headers: {} }], 4, 0.3)
  assert.ok(r.durationSeconds >= 0.3 && r.durationSeconds < 0.5, `${r.durationSeconds} s`)
  assert.ok(r.requests >= 120 && r.requests <= 300, `${r.requests} requests`)
})
