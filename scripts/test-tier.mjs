// One tier of npm test (scripts/run-tests.mjs starts it with the test files compiled, and source
// maps on, which every test file's process inherits): the files in the order given, `concurrency` at a time. node:test's run() keeps
// that order; `node --test` sorts its files by name, which would start the longest ones late and
// leave them running alone at the end. Prints with the `spec` reporter, writes the counts
// (scripts/test-counts.mjs) to `countsFile`, and exits 1 when any test or file failed.
//   usage: node --enable-source-maps scripts/test-tier.mjs CONCURRENCY COUNTS_FILE FILE...
import { createWriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { finished } from 'node:stream/promises'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'
import testCounts from './test-counts.mjs'

const [concurrency, countsFile, ...files] = process.argv.slice(2)
const events = run({ files: files.map((f) => resolve(f)), concurrency: Number(concurrency) })
// Both reporters read every event: one stream each, fed from the runner's.
const toSpec = new PassThrough({ objectMode: true })
const toCounts = new PassThrough({ objectMode: true })
let failed = false
events.on('data', (event) => {
  if (event.type === 'test:fail') failed = true
  toSpec.write(event)
  toCounts.write(event)
})
events.on('end', () => {
  toSpec.end()
  toCounts.end()
})
const counts = createWriteStream(countsFile)
toSpec.compose(spec).pipe(process.stdout)
toCounts.compose(testCounts).pipe(counts)
await finished(counts)
process.exitCode = failed ? 1 : 0
