// A window holds each request together with exactly the store operations it did, however slow the
// store: a delay proxy makes Redis answer 400 ms late, so GET /profile's users-table read (made
// after the session read comes back) falls 400 ms after the request was counted.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { checkRound } from '../bench/check.ts'
import { countWindow, type Counted } from '../bench/collect.ts'
import { ProcessGroup, startServer, type ServerHandle } from '../bench/processes.ts'
import { startDelayProxy } from '../bench/stores/delay-proxy.ts'
import { startRedis, type PrivateRedis } from '../bench/stores/redis-server.ts'
import { waitFor } from './helpers.ts'

const STORE_RTT_MS = 400
const group = new ProcessGroup()
let redis: PrivateRedis | null = null
let server: ServerHandle
let cookie: string
let rt: Counted

before(async () => {
  redis = await startRedis()
  const proxy = await startDelayProxy(redis.url, STORE_RTT_MS, group)
  server = await startServer(group, ['--strategy', 'session', '--store', 'redis', '--redis-url', proxy.url, '--users', '10'])
  const res = await fetch(`${server.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'user1', password: 'pw-user1' }),
  })
  assert.equal(res.status, 204)
  cookie = /^sid=[^;]+/.exec(res.headers.get('set-cookie')!)![0]
  rt = { servers: [server], counts: async () => null, storeCpuUs: async () => null }
})
after(async () => {
  await group.stopAll()
  await redis?.stop()
})

/** Sends GET /profile on a connection of its own and returns the socket, without reading the answer. */
function sendProfile(): Socket {
  const socket = connect(server.port, '127.0.0.1')
  socket.on('error', () => socket.destroy())
  socket.write(`GET /profile HTTP/1.1\r\nhost: 127.0.0.1\r\ncookie: ${cookie}\r\n\r\n`)
  return socket
}

/** Until the server has counted `n` more requests than `from`. */
async function counted(from: number, n: number): Promise<void> {
  while ((await server.stats(false)).requests < from + n) await new Promise((r) => setTimeout(r, 5))
}

describe('a window holds each request with every store operation it did', () => {
  test('requests whose clients gave up while their handlers waited on the store: 5 requests, 10 reads', async () => {
    const { counts } = await countWindow(rt, async () => {
      const from = (await server.stats(false)).requests
      const sockets = Array.from({ length: 5 }, sendProfile)
      await counted(from, 5)
      for (const s of sockets) s.destroy()
    })
    assert.equal(counts.served, 5)
    assert.deepEqual(counts.ops, { reads: 10, writes: 0, deletes: 0 })
    assert.equal(counts.unsettled, 0)
  })

  test('requests still in their handlers when the window opens stay out of it: 1 request, 2 reads', async () => {
    const from = (await server.stats(false)).requests
    const early = Array.from({ length: 3 }, sendProfile)
    await counted(from, 3)
    const { counts } = await countWindow(rt, async () => {
      const res = await fetch(`${server.url}/profile`, { headers: { cookie } })
      assert.equal(res.status, 200)
    })
    for (const s of early) s.destroy()
    assert.equal(counts.served, 1)
    assert.deepEqual(counts.ops, { reads: 2, writes: 0, deletes: 0 })
    assert.equal(counts.unsettled, 0)
  })

  test('a request unanswered after the wait: the window is read, marked and invalid; it settles when its client goes', async () => {
    const socket = connect(server.port, '127.0.0.1')
    socket.on('error', () => socket.destroy())
    const from = (await server.stats(false)).requests
    // A login whose body never arrives: counted when it starts, answered never.
    const { counts } = await countWindow(
      rt,
      async () => {
        socket.write('POST /login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' + 'content-length: 100\r\n\r\n{"user')
        await counted(from, 1)
      },
      1000,
    )
    assert.equal(counts.served, 1)
    assert.equal(counts.unsettled, 1)
    const round = { round: 1, requests: 1, errors: 0, timeouts: 0, statusCounts: {}, redisCommandsPerRequest: null }
    const expected = { stateReads: 0, userReads: 0, writes: 0, deletes: 0, renewals: false }
    assert.equal(
      checkRound({ ...round, storeOpsPerRequest: { reads: 0, writes: 0, deletes: 0 }, unsettledRequests: counts.unsettled }, expected, 0),
      "round 1: 1 requests still in their handlers at the window's edges",
    )
    socket.destroy()
    await waitFor('the abandoned login settled', async () => (await server.stats(false)).inFlight === 0)
  })
})
