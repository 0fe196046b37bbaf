import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { startRedis } from '../../bench/stores/redis-server.ts'
import { redisCpuUs } from '../../bench/stores/run/redis.ts'

/** The kernel's account of a process's CPU (utime + stime, in clock ticks of 10 ms here). */
function procCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

test("Redis's INFO cpu agrees with the kernel's account of the redis-server process", { timeout: 60_000 }, async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const client = new Redis(redis.url)
  t.after(() => client.disconnect())
  const pid = redis.process.pid!
  const info0 = await redisCpuUs(client)
  const proc0 = procCpuUs(pid)
  // Enough work (about a second of Redis CPU) that 10 ms ticks do not matter.
  for (let i = 0; i < 60; i++) await Promise.all(Array.from({ length: 2000 }, (_, j) => client.get(`k${j}`)))
  const info = (await redisCpuUs(client)) - info0
  const proc = procCpuUs(pid) - proc0
  assert.ok(proc > 200_000, `the load gave Redis only ${proc} µs of CPU`)
  assert.ok(Math.abs(info - proc) <= 0.1 * proc + 20_000, `INFO cpu ${info} µs against /proc ${proc} µs`)
})
