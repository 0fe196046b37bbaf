import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { packageVersions } from '../../bench/environment.ts'

const root = new URL('../../', import.meta.url)
const read = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8')) as Record<string, unknown>
const own = read('package.json') as { dependencies: Record<string, string>; optionalDependencies: Record<string, string> }

test('every runtime dependency has its installed version recorded', () => {
  const recorded = packageVersions()
  const names = Object.keys(own.dependencies)
  assert.ok(names.includes('pg') && names.includes('postgres') && names.includes('@fastify/secure-session'))
  for (const name of names) {
    assert.equal(recorded[name], read(`node_modules/${name}/package.json`).version, name)
  }
})

test('an optional dependency is recorded when installed and left out when not', () => {
  const recorded = packageVersions()
  for (const name of Object.keys(own.optionalDependencies)) {
    const path = `node_modules/${name}/package.json`
    if (existsSync(new URL(path, root))) assert.equal(recorded[name], read(path).version, name)
    else assert.equal(name in recorded, false, name)
  }
  const extra = Object.keys(recorded).filter((n) => !(n in own.dependencies) && !(n in own.optionalDependencies))
  assert.deepEqual(extra, [])
})
