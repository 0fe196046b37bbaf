import type Database from 'better-sqlite3'
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Counters } from './counters.ts'
import { wrapSqlite } from './stores/sqlite.ts'

/**
 * Password hashing: scrypt, N = 2^cost, r = 8, p = 1, 16-byte random salt, 32-byte key.
 * The default cost 2^10 (about 2 ms per hash here) keeps 1000 users seeding in about a second
 * and leaves the strategies' own costs visible in login runs; raise it with `--hash-cost`.
 */
export const DEFAULT_HASH_COST = 10

export interface UserRow {
  id: number
  username: string
  passwordHash: string
}

export interface Profile {
  id: number
  username: string
  displayName: string
  email: string
  createdAt: string
}

function scryptAsync(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, { N: 2 ** cost, r: 8, p: 1, maxmem: 256 * 2 ** cost * 8 + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, cost)
  return `scrypt$${cost}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, costText, saltText, keyText] = stored.split('$')
  if (scheme !== 'scrypt' || !costText || !saltText || !keyText) return false
  const expected = Buffer.from(keyText, 'base64')
  const key = await scryptAsync(password, Buffer.from(saltText, 'base64'), Number(costText))
  return key.length === expected.length && timingSafeEqual(key, expected)
}

export class Users {
  readonly #byName: Database.Statement<[string], { id: number; username: string; password_hash: string }>
  readonly #byId: Database.Statement<[number], { id: number; username: string; display_name: string; email: string; created_at: string }>
  readonly #counters: Counters
  readonly #dummyHash: Promise<string>

  constructor(db: Database.Database, counters: Counters, hashCost: number) {
    this.#byName = db.prepare('SELECT id, username, password_hash FROM users WHERE username = ?')
    this.#byId = db.prepare('SELECT id, username, display_name, email, created_at FROM users WHERE id = ?')
    this.#counters = counters
    // Unknown usernames still pay for one hash, so response time does not reveal which names exist.
    this.#dummyHash = hashPassword('authbench-dummy', hashCost)
  }

  findByUsername(username: string): UserRow | null {
    this.#counters.users.reads++
    const row = wrapSqlite(() => this.#byName.get(username))
    return row ? { id: row.id, username: row.username, passwordHash: row.password_hash } : null
  }

  getProfile(id: number): Profile | null {
    this.#counters.users.reads++
    const row = wrapSqlite(() => this.#byId.get(id))
    return row ? { id: row.id, username: row.username, displayName: row.display_name, email: row.email, createdAt: row.created_at } : null
  }

  /** Checks a username and password; null when either is wrong. */
  async authenticate(username: string, password: string): Promise<UserRow | null> {
    const user = this.findByUsername(username)
    if (!user) {
      await verifyPassword(password, await this.#dummyHash)
      return null
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : null
  }
}

/** Seeds `user1` … `userN` (password `pw-userK`) where missing; idempotent, so instances can share a file. */
export async function seedUsers(db: Database.Database, count: number, hashCost: number): Promise<number> {
  const existing = new Set((db.prepare('SELECT username FROM users').all() as { username: string }[]).map((r) => r.username))
  const missing: number[] = []
  for (let i = 1; i <= count; i++) if (!existing.has(`user${i}`)) missing.push(i)
  if (missing.length === 0) return 0
  const hashes = await Promise.all(missing.map((i) => hashPassword(`pw-user${i}`, hashCost)))
  const insert = db.prepare(
    'INSERT OR IGNORE INTO users (id, username, password_hash, display_name, email, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const createdAt = new Date(Date.UTC(2026, 0, 1)).toISOString()
  db.transaction(() => {
    missing.forEach((i, k) => {
      insert.run(i, `user${i}`, hashes[k]!, `User ${i}`, `user${i}@example.test`, createdAt)
    })
  })()
  return missing.length
}

/**
 * Where a seeded copy of the users table is kept between starts: hashing 1000 passwords takes
 * about a second, copying the file a few milliseconds. The passwords are the public demo ones.
 */
export function usersCachePath(count: number, hashCost: number): string {
  return join(tmpdir(), `authbench-users-v1-${count}-${hashCost}.sqlite`)
}

/** Saves a freshly seeded database as the cache for later starts (written aside, then renamed). */
export function saveUsersCache(db: Database.Database, path: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    db.exec(`VACUUM INTO '${tmp.replace(/'/g, "''")}'`)
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    process.stderr.write(`authbench server: users cache not written (${(err as Error).message}); the next start seeds again\n`)
  }
}
