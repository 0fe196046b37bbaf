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
import { REDIS_COMMAND_TIMEOUT_MS } from '../servers/stores/redis.ts'
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
function sendProfile(to: ServerHandle = server): Socket {
  const socket = connect(to.port, '127.0.0.1')
  socket.on('error', () => socket.destroy())
  socket.write(`GET /profile HTTP/1.1\r\nhost: 127.0.0.1\r\ncookie: ${cookie}\r\n\r\n`)
  return socket
}

/** Until the server has counted `n` more requests than `from`. */
async function counted(from: number, n: number, on: ServerHandle = server): Promise<void> {
  while ((await on.stats(false)).requests < from + n) await new Promise((r) => setTimeout(r, 5))
}

const expectedProfile = { stateReads: 1, userReads: 1, writes: 0, deletes: 0, renewals: false }
const noAnswers = { round: 1, errors: 0, timeouts: 0, statusCounts: {}, redisCommandsPerRequest: null }

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
    const expected = { stateReads: 0, userReads: 0, writes: 0, deletes: 0, renewals: false }
    assert.equal(
      checkRound({ ...noAnswers, requests: 1, storeOpsPerRequest: { reads: 0, writes: 0, deletes: 0 }, unsettledRequests: 1 }, expected, 0),
      "round 1: 1 requests still in their handlers at the window's edges",
    )
    socket.destroy()
    await waitFor('the abandoned login settled', async () => (await server.stats(false)).inFlight === 0)
  })

  test('a 503 decided after its client had gone (Redis frozen): the servers count it, the window is invalid for it', async () => {
    const { counts } = await countWindow(rt, async () => {
      const before = await server.stats(false)
      // Redis frozen: the session read gets no answer within the command timeout and the request fails closed, 503.
      redis!.process.kill('SIGSTOP')
      try {
        const socket = sendProfile()
        await counted(before.requests, 1)
        socket.destroy()
        await waitFor('the 503', async () => (await server.stats(false)).failed === before.failed + 1, REDIS_COMMAND_TIMEOUT_MS + 5000)
      } finally {
        redis!.process.kill('SIGCONT')
      }
    })
    assert.equal(counts.served, 1)
    assert.equal(counts.failed, 1)
    assert.equal(counts.unsettled, 0)
    // The session read was sent (counted as sent); the users-table read never came.
    assert.deepEqual(counts.ops, { reads: 1, writes: 0, deletes: 0 })
    assert.equal(
      checkRound(
        { ...noAnswers, requests: 1, storeOpsPerRequest: { reads: 1, writes: 0, deletes: 0 }, failedAnswers: 1 },
        expectedProfile,
        0,
      ),
      'round 1: 1 x 5xx answered by the servers to clients that had gone; store reads per request: counted 1.0000, expected 2',
    )
    // A 503 the client saw is already its own problem (non-2xx), not counted twice.
    assert.equal(
      checkRound(
        {
          ...noAnswers,
          statusCounts: { '503': 1 },
          requests: 1,
          storeOpsPerRequest: { reads: 1, writes: 0, deletes: 0 },
          failedAnswers: 1,
        },
        expectedProfile,
        0,
      ),
      'round 1: non-2xx answers: 1 x 503; store reads per request: counted 1.0000, expected 2',
    )
  })
})
