import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
import type { Server } from '../servers/server.ts'
import { FRAMEWORKS, type StrategyKind } from '../servers/types.ts'
import { testServer } from './helpers.ts'

interface Sent {
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
}

interface Answer {
  status: number
  headers: Record<string, unknown>
  body: string
}

const JSON_TYPE = { 'content-type': 'application/json' }
const login = (body: unknown): Sent => ({ method: 'POST', url: '/login', headers: JSON_TYPE, body: JSON.stringify(body) })

/** Odd and ordinary requests alike: every one must be answered the same, byte for byte, on both frameworks. */
const REQUESTS: Sent[] = [
  { method: 'POST', url: '/login', headers: JSON_TYPE, body: 'x'.repeat(20_000) },
  { method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=a' },
  { method: 'POST', url: '/login', headers: { 'content-type': 'text/plain' }, body: 'hello' },
  { method: 'POST', url: '/login', body: 'hello' },
  { method: 'POST', url: '/login', headers: JSON_TYPE, body: '{bad' },
  { method: 'POST', url: '/login', headers: JSON_TYPE, body: '' },
  { method: 'POST', url: '/login' },
  { method: 'POST', url: '/login', headers: JSON_TYPE, body: 'null' },
  { method: 'POST', url: '/login', headers: JSON_TYPE, body: '{"__proto__":{"a":1},"username":"user1","password":"pw-user1"}' },
  { method: 'POST', url: '/login', headers: { 'content-type': 'application/vnd.api+json' }, body: '{}' },
  login({ username: ['user1'], password: 'pw-user1' }),
  login({ username: 'user1', password: 'pw-user1', admin: true }),
  login({ username: '', password: 'pw-user1' }),
  login({ username: 'u'.repeat(65), password: 'pw-user1' }),
  login({ username: 'user1' }),
  login([1]),
  login({ username: 'user1', password: 'wrong' }),
  { method: 'GET', url: '/nope' },
  { method: 'PUT', url: '/me' },
  { method: 'OPTIONS', url: '/me' },
  { method: 'GET', url: '/ME' },
  { method: 'GET', url: '/me/' },
  { method: 'GET', url: '//me' },
  { method: 'GET', url: '/me' },
  { method: 'GET', url: '/me?x=1' },
  { method: 'HEAD', url: '/me' },
  { method: 'GET', url: '/profile', headers: { 'x-user-id': '3' } },
  { method: 'GET', url: '/me', headers: { authorization: 'Bearer x', cookie: 'sid=abc' } },
  { method: 'POST', url: '/logout' },
  { method: 'POST', url: '/logout', headers: { 'content-type': 'text/plain' }, body: 'x' },
  { method: 'POST', url: '/logout', headers: { 'content-type': 'application/xml' }, body: 'x' },
  { method: 'POST', url: '/refresh', headers: JSON_TYPE, body: '{"refresh_token":1}' },
  { method: 'POST', url: '/refresh', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(20_000) },
  { method: 'GET', url: '/.well-known/jwks.json' },
  login({ username: 'user1', password: 'pw-user1' }),
]

/** One request over its own connection; the headers that name the moment or the connection left out. */
function send(port: number, r: Sent): Promise<Answer> {
  const headers = { ...r.headers, ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }) }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const { date: _d, connection: _c, 'keep-alive': _k, ...rest } = res.headers
        resolve({ status: res.statusCode!, headers: rest, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.on('error', reject)
    req.end(r.body)
  })
}

/** A fresh credential's random part (a session id, a token's signature and id) replaced, its length kept. */
const RANDOM = /(sid=)[\w-]{43}|eyJ[\w-]+\.[\w-]+\.[\w-]+/g
const steady = (a: Answer) => JSON.stringify(a).replace(RANDOM, (m, sid: string | undefined) => (sid ? `${sid}SID` : `JWT${m.length}`))

async function started(t: Parameters<typeof testServer>[0], strategy: StrategyKind): Promise<[Server, number][]> {
  return Promise.all(
    FRAMEWORKS.map(async (framework) => {
      const server = await testServer(t, { strategy, framework }, { metrics: true, exportMetrics: true })
      return [server, await server.app.listen({ host: '127.0.0.1', port: 0 })] as [Server, number]
    }),
  )
}

for (const strategy of ['none', 'session', 'jwt'] as const) {
  describe(`${strategy}: Fastify and Express answer alike`, () => {
    test('every request gets the same status, headers and body on both', async (t) => {
      const [fastify, express] = (await started(t, strategy)).map(([, port]) => port) as [number, number]
      for (const r of REQUESTS) {
        const [a, b] = [await send(fastify, r), await send(express, r)]
        assert.equal(steady(b), steady(a), `${r.method} ${r.url} ${r.body?.slice(0, 40) ?? ''}`)
      }
      // Spot checks of what both answered: Fastify's statuses for bodies it refuses.
      assert.equal((await send(express, REQUESTS[0]!)).status, 413)
      assert.equal((await send(express, REQUESTS[1]!)).status, 415)
      assert.equal((await send(express, REQUESTS[4]!)).status, 400)
      assert.equal((await send(express, { method: 'GET', url: '/nope' })).status, 404)
    })

    test('the counters and exported metrics count the same requests by route and status', async (t) => {
      const servers = await started(t, strategy)
      for (const r of REQUESTS) for (const [, port] of servers) await send(port, r)
      const [fastify, express] = servers.map(([s]) => {
        const exported = [...s.metrics!.exported!.requests].map(([route, byStatus]) => [route, [...byStatus].sort()])
        return {
          requests: s.metrics!.requests,
          inFlight: s.metrics!.inFlight,
          failed: s.metrics!.failed,
          counted: s.metrics!.snapshot(false).requestTimeUs.count,
          exported: exported.sort(),
        }
      })
      assert.equal(express!.requests, REQUESTS.length)
      assert.equal(express!.inFlight, 0)
      assert.equal(express!.failed, 0)
      assert.equal(express!.counted, REQUESTS.length)
      assert.deepEqual(express, fastify)
    })
  })
}

for (const framework of FRAMEWORKS) {
  test(`${framework}: closing answers the request in flight, then refuses new connections`, async (t) => {
    // The calibrate hook's wait holds the request in the server while it closes.
    const server = await testServer(t, { strategy: 'none', framework, calibrate: { burnUs: 0, waitMs: 300 } })
    const port = await server.app.listen({ host: '127.0.0.1', port: 0 })
    const held = send(port, { method: 'GET', url: '/me' })
    await new Promise((r) => setTimeout(r, 100))
    const closing = Date.now()
    await server.app.close()
    assert.equal((await held).status, 200)
    assert.ok(Date.now() - closing < 2000, `closed in ${Date.now() - closing} ms`)
    await assert.rejects(send(port, { method: 'GET', url: '/me' }), { code: 'ECONNREFUSED' })
  })
}
