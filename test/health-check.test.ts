import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProcessGroup, startServer } from '../bench/processes.ts'

for (const framework of ['fastify', 'express'] as const)
  test(`${framework}: a balancer's health check (GET /healthz) is answered 204 before the app, and no request is counted`, async (t) => {
    const group = new ProcessGroup()
    const dir = group.tempDir('authbench-health-')
    t.after(async () => {
      await group.stopAll()
      group.removeDir(dir)
    })
    const server = await startServer(group, [
      '--strategy',
      'none',
      '--framework',
      framework,
      '--port',
      '0',
      '--db',
      `${dir}/authbench.sqlite`,
      '--users',
      '1',
    ])
    const before = await server.stats(false)
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${server.url}/healthz`)
      await res.arrayBuffer()
      assert.equal(res.status, 204)
    }
    const checked = await server.stats(false)
    assert.deepEqual([checked.requests - before.requests, checked.failed, checked.inFlight], [0, 0, 0])
    const me = await fetch(`${server.url}/me`)
    await me.arrayBuffer()
    assert.equal(me.status, 200)
    assert.equal((await server.stats(false)).requests - before.requests, 1)
    // What a check costs the server's CPU, for the record: HAProxy sends two a second to each instance.
    t.diagnostic(`${((checked.cpuUs - before.cpuUs) / 200).toFixed(0)} µs of server CPU per check`)
  })
