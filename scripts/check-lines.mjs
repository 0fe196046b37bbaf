// npm run lint: no line of code over 160 characters (the formatter wraps code at 140; a longer
// line is a string it cannot break). Data files (JSON, YAML, lock files) and docs are not code.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const LIMIT = 160
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => CODE.test(f))
const long = []
for (const file of files) {
  let text
  try {
    text = readFileSync(new URL(file, `file://${ROOT}`), 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') continue // listed by git, deleted in the work tree
    throw err
  }
  text.split('\n').forEach((line, i) => {
    if (line.length > LIMIT) long.push(`${file}:${i + 1}: ${line.length} characters`)
  })
}
if (long.length > 0) {
  process.stderr.write(`${long.join('\n')}\n${long.length} line(s) over ${LIMIT} characters: break the string (the formatter cannot).\n`)
  process.exit(1)
}
