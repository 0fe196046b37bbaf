import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { ProcessGroup } from '../../bench/processes.ts'
import { pingRoundTripUs, startDelayProxy } from '../../bench/stores/delay-proxy.ts'
import { startRedis, type PrivateRedis } from '../../bench/stores/redis-server.ts'

const group = new ProcessGroup()
let redis: PrivateRedis
after(async () => {
  await group.stopAll()
  await redis?.stop()
})

async function clients(url: string): Promise<number> {
  const c = new Redis(url)
  try {
    return ((await c.client('LIST')) as string).trim().split('\n').length - 1
  } finally {
    c.disconnect()
  }
}

describe('the delay proxy (the store at a distance)', () => {
  test('adds at least the asked round trip and not a millisecond more, for PINGs in turn (2 ms and 0.5 ms)', async () => {
    redis = await startRedis()
    const direct = await pingRoundTripUs(redis.url)
    for (const rttMs of [2, 0.5]) {
      const proxy = await startDelayProxy(redis.url, rttMs, group)
      try {
        const added = (await pingRoundTripUs(proxy.url)) - direct
        // A chunk is never delivered before its time, so the added round trip cannot be under the asked one.
        assert.ok(added >= rttMs * 1000 - 50, `asked ${rttMs} ms, added ${added.toFixed(0)} µs`)
        assert.ok(added <= rttMs * 1000 + 1000, `asked ${rttMs} ms, added ${added.toFixed(0)} µs`)
        const s = await proxy.stats()
        assert.ok(s.forwarded >= 2 * 200, `${s.forwarded} chunks forwarded`)
      } finally {
        await proxy.stop()
      }
    }
  })

  test('in order and whole under backpressure: 8 MiB values through a 1 ms proxy, pipelined', async () => {
    redis ??= await startRedis()
    const proxy = await startDelayProxy(redis.url, 1, group)
    const c = new Redis(proxy.url)
    try {
      const values = Array.from({ length: 4 }, () => randomBytes(2 << 20).toString('base64'))
      await Promise.all(values.map((v, i) => c.set(`big:${i}`, v)))
      const back = await Promise.all(values.map((_, i) => c.get(`big:${i}`)))
      assert.deepEqual(
        back.map((v, i) => v === values[i]),
        [true, true, true, true],
      )
      const order = await Promise.all(Array.from({ length: 500 }, (_, i) => c.incr('order').then((n) => [i, n])))
      assert.ok(
        order.every(([i, n]) => n === i! + 1),
        'replies came back in the order sent',
      )
    } finally {
      c.disconnect()
      await proxy.stop()
    }
  })

  test('closes the upstream connection when its client goes, and leaves nothing behind when stopped', async () => {
    redis ??= await startRedis()
    const proxy = await startDelayProxy(redis.url, 1, group)
    const base = await clients(redis.url)
    const c = new Redis(proxy.url)
    await c.ping()
    assert.equal(await clients(redis.url), base + 1)
    c.disconnect()
    const deadline = Date.now() + 3000
    while ((await clients(redis.url)) !== base && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.equal(await clients(redis.url), base)
    await proxy.stop()
    assert.equal(group.size, 0)
  })
})

describe('storeRttMs in a scenario', () => {
  test('refused with the field: negative, or on a store that is not Redis; on Redis a cell of its own', async () => {
    const { validateScenario } = await import('../../bench/contracts/scenario.ts')
    const { expandPlan } = await import('../../bench/plan.ts')
    const plan = (cells: unknown[]) => () =>
      expandPlan(validateScenario({ name: 'd', description: 'd', cells, workload: { route: 'GET /me' } }, 'd.json'), 'd.json')
    assert.throws(plan([{ strategy: 'session', store: 'redis', storeRttMs: -1 }]), (e: { issues: { path: string }[] }) =>
      e.issues.some((i) => i.path === 'cells[0].storeRttMs'),
    )
    assert.throws(plan([{ strategy: 'session', store: 'sqlite', storeRttMs: 1 }]), (e: { issues: { path: string; message: string }[] }) =>
      e.issues.some(
        (i) =>
          i.path === 'cells[0].storeRttMs' &&
          /between the servers and a store reached over a socket \(redis\); found store "sqlite"/.test(i.message),
      ),
    )
    assert.deepEqual(
      plan([{ strategy: 'session', store: 'redis', storeRttMs: [0, 0.5] }])().cells.map((c) => c.id),
      ['session-redis', 'session-redis-rtt0.5ms'],
    )
  })
})
