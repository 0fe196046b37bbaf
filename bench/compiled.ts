// The processes the harness starts from its own TypeScript (the servers, the delay proxy, the
// load-driver processes, the known-behaviour servers) start from a copy compiled once, as a team
// ships a TypeScript server: one ES module per entry, the project's code bundled and its packages
// loaded from node_modules as they are. tsx would compile the same code at each start, on a loader
// thread of its own: about 0.5 CPU-s a start (1.2 against 0.7 for a server), hundreds of starts a
// run, and fifty times that under callgrind. `npx tsx servers/main.ts` stays the way to start one by hand.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

/** Where the compiled copies live: in the project, so their packages resolve from its node_modules. */
const DIR = fileURLToPath(new URL('../.cache/build/', import.meta.url))

const built = new Map<string, string>()

/**
 * The arguments that make `node` run the TypeScript entry `script`: the path of its compiled copy,
 * compiled now if this process has not yet (about 0.1 s). The copy is named by its content, so a
 * changed source never runs from a stale copy and two harnesses compiling at once write the same file.
 */
export function runnable(script: string): string[] {
  const known = built.get(script)
  if (known && existsSync(known)) return [known]
  const out = buildSync({
    entryPoints: [script],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Every runtime a cell can run on (Node 20, 22 and 24) runs the same JavaScript.
    target: 'node20',
    packages: 'external',
    // Class and function names as written: error names are part of what a server reports.
    keepNames: true,
    write: false,
    logLevel: 'silent',
  }).outputFiles[0]!
  const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 16)
  const path = join(DIR, `${basename(script).replace(/\.ts$/, '')}-${hash}.mjs`)
  if (!existsSync(path)) {
    mkdirSync(DIR, { recursive: true })
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, out.contents)
    renameSync(temporary, path)
  }
  built.set(script, path)
  return [path]
}
