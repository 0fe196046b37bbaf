// The Prometheus files a team loads into its own Prometheus (docs/prometheus/): valid for promtool,
// the recording rules giving known answers on known series, and every metric they read exported by
// a real server.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ProcessGroup, startServer } from '../bench/processes.ts'
import { parsePrometheusText } from '../bench/remote/prometheus-text.ts'

const DIR = fileURLToPath(new URL('../docs/prometheus/', import.meta.url))

describe('docs/prometheus', () => {
  test('promtool accepts the scrape config and the rule file it names', () => {
    const res = spawnSync('promtool', ['check', 'config', join(DIR, 'prometheus.yml')], { encoding: 'utf8' })
    assert.equal(res.status, 0, res.stderr + res.stdout)
    assert.match(res.stdout + res.stderr, /SUCCESS: 1 rule files found/)
    assert.match(res.stdout + res.stderr, /SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/)
  })

  test('the recording rules give the known answers: 2,000 requests/s, 60 µs CPU and one session read per request', () => {
    const res = spawnSync('promtool', ['test', 'rules', join(DIR, 'authbench.rules.test.yml')], { encoding: 'utf8', cwd: DIR })
    assert.equal(res.status, 0, res.stderr + res.stdout)
    assert.match(res.stdout, /SUCCESS/)
  })

  test('every metric the rules read is one a real server exports', async (t) => {
    const group = new ProcessGroup()
    t.after(() => group.stopAll())
    const s = await startServer(group, ['--strategy', 'session', '--metrics-port', '0', '--users', '10'])
    await (await fetch(`${s.url}/me`)).arrayBuffer()
    const exported = new Set(parsePrometheusText(await (await fetch(s.metricsUrl!)).text()).map((x) => x.name))
    const rules = readFileSync(join(DIR, 'authbench.rules.yml'), 'utf8')
    const read = [...new Set([...rules.matchAll(/\b((?:authbench|process)_[a-z_]+)\{/g)].map((m) => m[1]!))].sort()
    assert.deepEqual(read, [
      'authbench_request_duration_seconds_bucket',
      'authbench_requests_total',
      'authbench_store_operations_total',
      'process_cpu_seconds_total',
    ])
    for (const name of read) assert.ok(exported.has(name), `${name} is not exported`)
  })
})
