// npm test, after the machine check and the type check: as Node core keeps test/parallel apart
// from test/sequential, every test file that can share the machine runs four at a time (the
// longest, every shipped scenario, first), then the files in test/sequential/ (timing bounds a
// busy machine would break: the delay proxy, the open-loop driver, the lifecycle driver, a store
// faulted under load, a store's CPU against the kernel's, several load drivers against a fixed delay) one at a time. Prints each runner's output as it comes and, last, one line for the whole: the count of
// tests passed and failed. Exit 1 when any failed.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FIRST = 'test/shipped-scenarios.test.ts'

function files(dir, deep) {
  const out = []
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory() && deep && e.name !== 'sequential') out.push(...files(path, deep))
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(relative(ROOT, join(ROOT, path)))
  }
  return out.sort()
}

function run(list, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...list], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let tail = ''
    child.stdout.on('data', (d) => {
      process.stdout.write(d)
      tail = (tail + d).slice(-4000)
    })
    child.on('close', (code) => {
      const count = (what) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(tail)?.[1] ?? 0)
      resolve({ code, pass: count('pass'), fail: count('fail'), cancelled: count('cancelled') })
    })
  })
}

const parallel = files('test', true).filter((f) => f !== FIRST)
const sequential = files('test/sequential', false)
const a = await run([FIRST, ...parallel], 4)
const b = await run(sequential, 1)
const passed = a.pass + b.pass
const failed = a.fail + b.fail + a.cancelled + b.cancelled
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(a.code === 0 && b.code === 0 && failed === 0 ? 0 : 1)
