import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ResultsError } from './contracts/errors.ts'
import { SCHEMA_VERSION, type ResultsFile } from './contracts/results.ts'

/** Writes atomically: a reader never sees a half-written results.json. */
export function writeJsonAtomic(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = join(dirname(file), `.${process.pid}.${Date.now()}.tmp`)
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`)
  renameSync(tmp, file)
}

export function readResults(file: string): ResultsFile {
  let data: ResultsFile
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile
  } catch (err) {
    throw new ResultsError(`${file}: cannot read results (${(err as Error).message})`, { cause: err })
  }
  if (data.schemaVersion !== SCHEMA_VERSION) {
    throw new ResultsError(`${file}: schemaVersion ${String(data.schemaVersion)} is not ${SCHEMA_VERSION}`)
  }
  return data
}

/** `results.json` inside a result folder, or the path itself when it names the file. */
export function resultsFileOf(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path
}

/** The UTC stamp that starts an output folder's name, e.g. `20261127-151324Z`. */
export function outputStamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-')
}
