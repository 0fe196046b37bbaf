// The processes the harness starts from its own TypeScript (the servers, the delay proxy, the
// load-driver processes, the known-behaviour servers) start from a copy compiled once, as a team
// ships a TypeScript server: one ES module per entry, the project's code bundled and its packages
// loaded from node_modules as they are. tsx would compile the same code at each start, on a loader
// thread of its own: about 0.5 CPU-s a start (1.2 against 0.7 for a server), hundreds of starts a
// run, and fifty times that under callgrind. `npx tsx servers/main.ts` stays the way to start one by hand.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, buildSync, type OutputFile, type Plugin } from 'esbuild'

/** Where the compiled copies live: in the project, so their packages resolve from its node_modules. */
const DIR = fileURLToPath(new URL('../.cache/build/', import.meta.url))

const built = new Map<string, string>()

// Spelled in parts: this file is itself compiled with the plugin (into a compiled test), which would rewrite the literal.
const IMPORT_META_URL = ['import', 'meta', 'url'].join('.')

/**
 * Each module's `import.meta.url` kept as its source file's, so a path it builds relative to itself
 * (a CLI's `../servers/main.ts`, a scenario's) means what it means when run through tsx.
 */
const ownUrls: Plugin = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (a) => ({
      contents: readFileSync(a.path, 'utf8').replaceAll(IMPORT_META_URL, JSON.stringify(pathToFileURL(a.path).href)),
      loader: 'ts',
    }))
  },
}

const OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Every runtime a cell can run on (Node 20, 22 and 24) runs the same JavaScript.
  target: 'node20',
  packages: 'external',
  // Class and function names as written: error names are part of what a process reports.
  keepNames: true,
  logLevel: 'silent',
} as const

/** esbuild's message opens with a count ("Build failed with 1 error:"); the first error is what to fix. */
function firstError(err: unknown): Error {
  const first = (err as { errors?: { text: string; location: { file: string; line: number; column: number } | null }[] }).errors?.[0]
  if (!first) return err as Error
  const at = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : ''
  return new Error(`${at}${first.text}`, { cause: err })
}

/**
 * Writes `script`'s compiled copy (0.1-0.2 s to compile) unless it is there, and remembers it under `key` for this
 * process. The copy is named by its content, so a changed source never runs from a stale copy and two processes
 * compiling at once write the same file.
 */
function placed(key: string, script: string, out: OutputFile): string {
  const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 16)
  const path = join(DIR, `${basename(script).replace(/\.ts$/, '')}-${hash}.mjs`)
  if (!existsSync(path)) {
    mkdirSync(DIR, { recursive: true })
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, out.contents)
    renameSync(temporary, path)
  }
  built.set(key, path)
  return path
}

const known = (key: string): string | null => {
  const path = built.get(key)
  return path && existsSync(path) ? path : null
}

/**
 * `script`'s compiled copy, its modules' `import.meta.url` the bundle's (known-servers.ts starts itself
 * by it). Synchronous (esbuild takes no plugin so), for the harness's process starts.
 */
function compiledEntry(script: string): string {
  const cached = known(script)
  if (cached) return cached
  try {
    return placed(script, script, buildSync({ ...OPTIONS, write: false, entryPoints: [script] }).outputFiles[0]!)
  } catch (err) {
    throw firstError(err)
  }
}

/**
 * The same for a module whose code builds paths relative to itself (a CLI's `../servers/main.ts`, a
 * scenario's imports): every module keeps its own source file's `import.meta.url`, so the compiled copy
 * means what the module run through tsx means.
 */
export async function compiledModule(script: string): Promise<string> {
  const key = `own:${script}`
  const cached = known(key)
  if (cached) return cached
  try {
    return placed(key, script, (await build({ ...OPTIONS, write: false, entryPoints: [script], plugins: [ownUrls] })).outputFiles[0]!)
  } catch (err) {
    throw firstError(err)
  }
}

/**
 * Many entries in one pass, as `compiledModule` compiles one, written under `outdir` at their paths
 * relative to `base` with source maps inline (npm test's test files); returns each one's compiled path.
 */
export async function compiledFiles(entries: string[], base: string, outdir: string): Promise<string[]> {
  try {
    await build({
      ...OPTIONS,
      entryPoints: entries,
      outdir,
      outbase: base,
      outExtension: { '.js': '.mjs' },
      sourcemap: 'inline',
      plugins: [ownUrls],
    })
  } catch (err) {
    throw firstError(err)
  }
  return entries.map((e) => join(outdir, relative(base, e)).replace(/\.ts$/, '.mjs'))
}

/** The arguments that make `node` run the TypeScript entry `script`: its compiled copy. */
export const runnable = (script: string): string[] => [compiledEntry(script)]
