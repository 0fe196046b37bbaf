import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_CONFIG } from '../../servers/server.ts'
import * as session from '../../servers/strategies/session.ts'
import { REDIS_COMMAND_TIMEOUT_MS } from '../../servers/stores/redis.ts'
import { POSTGRES_TIMEOUT_MS } from '../../servers/stores/postgres.ts'
import { parseServerArgs } from '../../servers/cli-config.ts'
import { ConfigError } from '../../common/errors.ts'
import * as bench from '../../bench/server-defaults.ts'

// The page states these without loading the servers; they must be the servers' own.
test("the harness's copy of the servers' defaults equals the servers' values", () => {
  assert.deepEqual(bench.SERVER_DEFAULTS, {
    accessTtlSeconds: DEFAULT_CONFIG.accessTtlSeconds,
    sessionIdleTtlSeconds: DEFAULT_CONFIG.sessionIdleTtlSeconds,
    sessionAbsoluteTtlSeconds: DEFAULT_CONFIG.sessionAbsoluteTtlSeconds,
  })
  assert.equal(bench.TOUCH_INTERVAL_MS, session.TOUCH_INTERVAL_MS)
  assert.equal(bench.REDIS_COMMAND_TIMEOUT_MS, REDIS_COMMAND_TIMEOUT_MS)
  assert.equal(bench.REDIS_COMMAND_TIMEOUT_MS, POSTGRES_TIMEOUT_MS)
})

test("a server keeps its stores' timeout and its purge interval unless --store-timeout-ms or --purge-interval-ms is given", () => {
  const redis = ['--strategy', 'session', '--store', 'redis', '--redis-url', 'redis://127.0.0.1:1']
  assert.equal(parseServerArgs(redis, {}).storeTimeoutMs, undefined)
  assert.equal(parseServerArgs([...redis, '--store-timeout-ms', '30000'], {}).storeTimeoutMs, 30_000)
  assert.equal(parseServerArgs(redis, {}).purgeIntervalMs, undefined)
  assert.equal(parseServerArgs([...redis, '--purge-interval-ms', '86400000'], {}).purgeIntervalMs, 86_400_000)
  assert.throws(
    () => parseServerArgs([...redis, '--store-timeout-ms', '0'], {}),
    (err: Error) => err instanceof ConfigError && err.code === 'ERR_SERVER_CONFIG' && /--store-timeout-ms/.test(err.message),
  )
})

test("the harness's renewal interval is the session strategy's at short and long idle timeouts", () => {
  for (const idleMs of [1000, 4000, 59_000, 240_000, 1_800_000])
    assert.equal(bench.renewalIntervalMs(idleMs), session.renewalIntervalMs(idleMs))
  assert.equal(bench.renewalIntervalMs(8000), 2000)
  assert.equal(bench.renewalIntervalMs(1_800_000), 60_000)
})
