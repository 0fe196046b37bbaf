import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Counts the statements SQLite itself reports executing (its statement trace), by kind: an
 * observer independent of the stores' own counters, for verification servers only (--trace-sql).
 * Housekeeping (statements marked `purge` or `size` in a comment) is not request work and is left out.
 */
export function sqlTracer(): { counts: { reads: number; writes: number; deletes: number }; trace(sql: string): void } {
  const counts = { reads: 0, writes: 0, deletes: 0 }
  return {
    counts,
    trace(sql) {
      if (sql.includes('/* purge */') || sql.includes('/* size */')) return
      const verb = sql.trimStart().slice(0, 6).toUpperCase()
      if (verb === 'SELECT') counts.reads++
      else if (verb === 'INSERT' || verb === 'UPDATE') counts.writes++
      else if (verb === 'DELETE') counts.deletes++
    },
  }
}

/** Synchronous waits block the event loop, so a locked database must answer fast (then 503). */
export const BUSY_TIMEOUT_MS = 100
/**
 * While a server starts, nothing is served yet: instances sharing one file, started together, take turns at its schema and
 * its users (a seed is one write transaction) instead of failing at the first lock.
 */
const STARTUP_BUSY_TIMEOUT_MS = 10_000

export interface OpenDatabase {
  db: Database.Database
  path: string
  /** Closes the handle and removes the file when it was a temporary one. */
  close(): void
  /** The start is over: from now on a locked database answers within BUSY_TIMEOUT_MS. */
  serving(): void
}

/**
 * Opens (or creates) the primary SQLite database: WAL, a busy timeout long while the server starts and
 * short once it serves (`serving`), the users table (each store creates its own tables). A new file
 * starts as a copy of `template` when one is given (users already seeded).
 */
export function openDatabase(path?: string, template?: string, options: { trace?: (sql: string) => void } = {}): OpenDatabase {
  const tempDir = path ? null : mkdtempSync(join(tmpdir(), 'authbench-db-'))
  const file = path ?? join(tempDir!, 'authbench.sqlite')
  if (template && !existsSync(file)) copyFileSync(template, file)
  // A server on another Node major than the one better-sqlite3 was installed for is given a build for its ABI.
  const addon = process.env.AUTHBENCH_SQLITE_ADDON
  const db = new Database(file, {
    ...(options.trace ? { verbose: options.trace as (message?: unknown) => void } : {}),
    ...(addon ? { nativeBinding: addon } : {}),
    timeout: STARTUP_BUSY_TIMEOUT_MS,
  })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      display_name TEXT NOT NULL,
      email TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
  `)
  let closed = false
  return {
    db,
    path: file,
    serving() {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    },
    close() {
      if (closed) return
      closed = true
      db.close()
      if (tempDir) rmSync(tempDir, { recursive: true, force: true })
    },
  }
}
