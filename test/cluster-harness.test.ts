import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { startRedis } from '../bench/stores/redis-server.ts'
import { runBench } from './helpers.ts'
import type { ResultsFile } from '../bench/contracts/results.ts'

describe('redis-cluster cells in the harness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-cluster-'))
  test.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'cluster.json')
  writeFileSync(
    file,
    JSON.stringify({
      name: 'cluster',
      description: 'sessions and a denylist on a Redis Cluster',
      cells: [
        { strategy: 'none' },
        { strategy: 'session', store: 'redis-cluster' },
        { strategy: 'jwt', engine: 'fast-jwt', revocation: 'denylist', store: 'redis-cluster' },
      ],
      workload: { route: 'GET /me', users: 50 },
      load: { rounds: 1, durationSeconds: 1, warmupSeconds: 0 },
    }),
  )

  test("a private cluster of three masters: the same counts as one Redis, checked against every node's INFO commandstats", async () => {
    const res = await runBench([file, '--smoke', '--out', join(dir, 'out')])
    assert.equal(res.code, 0, res.stderr + res.stdout)
    assert.match(res.stderr, /started a private Redis Cluster \(three masters\) on 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/)
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as ResultsFile
    for (const id of ['session-redis-cluster', 'jwt-HS256-fast-jwt-redis-cluster-denylist']) {
      const c = results.cells.find((x) => x.id === id)!
      assert.equal(c.status, 'ok', `${id}: ${c.reason}`)
      assert.deepEqual(
        c.rounds[0]!.redisCommandsPerRequest && {
          reads: c.rounds[0]!.redisCommandsPerRequest.reads,
          writes: c.rounds[0]!.redisCommandsPerRequest.writes,
        },
        { reads: 1, writes: 0 },
      )
      assert.equal(c.summary!.storeOpsPerRequest.reads, 1)
    }
  })

  test('--redis-cluster-url naming a standalone Redis: its cells skipped with the reason, the others run', async (t) => {
    const redis = await startRedis()
    t.after(() => redis.stop())
    const res = await runBench([file, '--smoke', '--out', join(dir, 'given'), '--redis-cluster-url', `127.0.0.1:${redis.port}`])
    assert.equal(res.code, 0, res.stderr)
    const results = JSON.parse(readFileSync(join(dir, 'given', 'results.json'), 'utf8')) as ResultsFile
    const cell = results.cells.find((x) => x.id === 'session-redis-cluster')!
    assert.equal(cell.status, 'skipped')
    assert.match(cell.reason!, /answers as a standalone Redis, not a cluster/)
    assert.equal(results.cells.find((x) => x.id === 'none')!.status, 'ok')
  })

  test('a malformed --redis-cluster-url is refused before anything starts (exit 2)', async () => {
    const res = await runBench([file, '--smoke', '--redis-cluster-url', 'redis://127.0.0.1:7000'])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /--redis-cluster-url must look like host:port,host:port/)
  })
})
