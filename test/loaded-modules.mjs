// Preloaded with `node --import`: appends to the file named by LOADED_MODULES_FILE every module
// the process loads, one URL a line (ES modules as they resolve, CommonJS ones as they sit in
// require's cache at exit), so a test can say what a command pulled in.
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { isMainThread } from 'node:worker_threads'

let out = process.env.LOADED_MODULES_FILE

if (isMainThread && out) {
  register(import.meta.url, { data: { out } })
  const require = createRequire(import.meta.url)
  process.on('exit', () => {
    appendFileSync(
      out,
      Object.keys(require.cache)
        .map((k) => `${pathToFileURL(k).href}\n`)
        .join(''),
    )
  })
}

/** Runs in the loader's thread: where this hook writes. */
export function initialize(data) {
  out = data.out
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(out, `${resolved.url}\n`)
  return resolved
}
