import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import { Redis } from 'ioredis'
import { jwtVerify } from 'jose'
import { newCounters } from '../../servers/counters.ts'
import { newSessionId, readBearer, readCookie, SESSION_COOKIE } from '../../servers/credentials.ts'
import { openDatabase } from '../../servers/db.ts'
import { AUDIENCE, ISSUER, REQUIRED_CLAIMS } from '../../servers/engines/engine.ts'
import { engines } from '../../servers/engines/index.ts'
import { loadKeys } from '../../servers/keys.ts'
import { createMemoryStore } from '../../servers/stores/memory.ts'
import { createRedisStore } from '../../servers/stores/redis.ts'
import { createSqliteStore } from '../../servers/stores/sqlite.ts'
import { ALGS, ENGINES, type Alg } from '../../servers/types.ts'
import { seedUsers, Users } from '../../servers/users.ts'

/**
 * One primitive to time. `fn` performs `batch` operations per call (tiny operations are repeated
 * so the timer's own cost does not dominate); setup happens before, outside the timed region.
 */
export interface MicroTask {
  /** Stable key the cost breakdown looks up, e.g. `verify:HS256:jose`, `store-read:sqlite`. */
  id: string
  name: string
  group: 'jwt-verify' | 'jwt-sign' | 'floor' | 'jose-key' | 'session' | 'store' | 'parsing'
  batch: number
  fn: () => unknown
}

export interface MicroContext {
  tasks: MicroTask[]
  /** Tasks that could not be set up, with the reason (e.g. no redis-server). */
  skipped: { id: string; name: string; group: MicroTask['group']; reason: string }[]
  close(): Promise<void>
}

/** How many sessions the store holds while being read, so lookups hit a realistically sized index. */
export const STORED_SESSIONS = 100_000

let sink = 0
/** Runs a synchronous operation `n` times per call, keeping its results alive so none is optimized away. */
function repeat(n: number, op: () => unknown): () => number {
  return () => {
    for (let i = 0; i < n; i++) if (op()) sink++
    return sink
  }
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

function floorVerifier(alg: Alg, token: string, secret: Buffer | null, publicKey: KeyObject | null): () => boolean {
  const dot = token.lastIndexOf('.')
  const input = Buffer.from(token.slice(0, dot))
  const sig = Buffer.from(token.slice(dot + 1), 'base64url')
  switch (alg) {
    case 'HS256': return () => timingSafeEqual(createHmac('sha256', secret!).update(input).digest(), sig)
    case 'RS256': return () => verify('sha256', input, publicKey!, sig)
    case 'ES256': return () => verify('sha256', input, { key: publicKey!, dsaEncoding: 'ieee-p1363' }, sig)
    case 'EdDSA': return () => verify(null, input, publicKey!, sig)
  }
}

/** Builds every task of the micro-benchmarks; Redis tasks need `redisUrl`. */
export async function buildTasks(options: { redisUrl: string | null; sessions?: number }): Promise<MicroContext> {
  const tasks: MicroTask[] = []
  const skipped: MicroContext['skipped'] = []
  const closers: (() => unknown)[] = []
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: '42', name: 'user42', jti: 'AAAAAAAAAAAAAAAAAAAAAA', iat: now, exp: now + 900 }
  let sampleToken = ''

  for (const alg of ALGS) {
    const keys = loadKeys(alg)
    for (const engineName of ENGINES) {
      const engine = await engines[engineName]({ keys, clock: Date.now, systemClock: true })
      const token = await engine.sign(claims, 'at+jwt')
      if (alg === 'HS256') sampleToken = token
      tasks.push({ id: `verify:${alg}:${engineName}`, name: `verify ${alg} ${engineName}`, group: 'jwt-verify', batch: 1, fn: () => engine.verify(token, 'at+jwt') })
      tasks.push({ id: `sign:${alg}:${engineName}`, name: `sign ${alg} ${engineName}`, group: 'jwt-sign', batch: 1, fn: () => engine.sign(claims, 'at+jwt') })
    }
    const token = `${b64({ alg, typ: 'at+jwt' })}.${b64(claims)}`
    const signature = alg === 'HS256'
      ? createHmac('sha256', keys.secret!).update(token).digest()
      : sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(token), { key: createPrivateKey(keys.privateKeyPem!), dsaEncoding: 'ieee-p1363' })
    const publicKey = keys.publicKeyPem ? createPublicKey(keys.publicKeyPem) : null
    tasks.push({
      id: `floor:${alg}`, name: `verify ${alg} node:crypto (signature only)`, group: 'floor', batch: alg === 'HS256' ? 10 : 1,
      fn: repeat(alg === 'HS256' ? 10 : 1, floorVerifier(alg, `${token}.${signature.toString('base64url')}`, keys.secret, publicKey)),
    })
    if (alg === 'HS256') {
      const engine = await engines.jose({ keys, clock: Date.now, systemClock: true })
      const hsToken = await engine.sign(claims, 'at+jwt')
      const raw = new Uint8Array(keys.secret!)
      const opts = { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', requiredClaims: [...REQUIRED_CLAIMS] }
      // The mistake users make: raw bytes make jose import the key on every call.
      tasks.push({ id: 'jose-raw:HS256', name: 'verify HS256 jose, raw secret bytes per call', group: 'jose-key', batch: 1, fn: () => jwtVerify(hsToken, raw, opts) })
    }
  }

  tasks.push({ id: 'session-id', name: 'session id generation (32 random bytes, base64url)', group: 'session', batch: 10, fn: repeat(10, newSessionId) })
  const cookieHeader = `theme=dark; _ga=GA1.2.1234567890.1700000000; ${SESSION_COOKIE}=${newSessionId()}; lang=en`
  tasks.push({ id: 'parse:cookie', name: 'cookie parsing (sid among 4 cookies)', group: 'parsing', batch: 100, fn: repeat(100, () => readCookie(cookieHeader, SESSION_COOKIE)) })
  const bearer = `Bearer ${sampleToken}`
  tasks.push({ id: 'parse:bearer', name: 'bearer header extraction', group: 'parsing', batch: 100, fn: repeat(100, () => readBearer(bearer)) })

  // Stores, each holding STORED_SESSIONS sessions; reads pick ids at random.
  const count = options.sessions ?? STORED_SESSIONS
  const ids = Array.from({ length: count }, newSessionId)
  const pick = () => ids[(Math.random() * count) | 0]!
  const t0 = Date.now()
  const record = (i: number) => ({ id: ids[i]!, userId: i + 1, username: `user${i + 1}`, createdAt: t0, lastSeenAt: t0 })

  const database = openDatabase()
  closers.push(() => database.close())
  const sqlite = createSqliteStore(database.db)
  database.db.transaction(() => {
    for (let i = 0; i < count; i++) sqlite.createSession(record(i), 3_600_000)
  })()
  tasks.push({ id: 'store-read:sqlite', name: `session read, SQLite (${count.toLocaleString('en-US')} sessions)`, group: 'store', batch: 1, fn: () => sqlite.getSession(pick()) })
  await seedUsers(database.db, 1000, 4)
  const users = new Users(database.db, newCounters(), 4)
  tasks.push({ id: 'user-read:sqlite', name: 'user record read, SQLite (1,000 users)', group: 'store', batch: 1, fn: () => users.getProfile(1 + ((Math.random() * 1000) | 0)) })

  const memory = createMemoryStore()
  for (let i = 0; i < count; i++) memory.createSession(record(i), 3_600_000)
  tasks.push({ id: 'store-read:memory', name: `session read, memory (${count.toLocaleString('en-US')} sessions)`, group: 'store', batch: 10, fn: repeat(10, () => memory.getSession(pick())) })

  if (options.redisUrl) {
    const redis = await createRedisStore({ url: options.redisUrl, keyPrefix: `micro:${process.pid}:` })
    closers.push(() => redis.close())
    // Written through the store itself, 1000 in flight at a time (one connection pipelines them).
    for (let i = 0; i < count; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, count - i) }, (_, k) => redis.createSession(record(i + k), 3_600_000)))
    }
    closers.push(() => { const c = new Redis(options.redisUrl!); return c.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `micro:${process.pid}:*`).finally(() => c.disconnect()) })
    tasks.push({ id: 'store-read:redis-single', name: 'session read, Redis over loopback, one in flight (wall time)', group: 'store', batch: 1, fn: () => redis.getSession(pick()) })
    const PIPE = 16
    tasks.push({
      id: 'store-read:redis', name: `session read, Redis over loopback, ${PIPE} pipelined (per read)`, group: 'store', batch: PIPE,
      fn: () => Promise.all(Array.from({ length: PIPE }, () => redis.getSession(pick()))),
    })
  } else {
    for (const [id, name] of [['store-read:redis-single', 'session read, Redis, one in flight'], ['store-read:redis', 'session read, Redis, pipelined']] as const) {
      skipped.push({ id, name, group: 'store', reason: 'no Redis: install redis-server or pass --redis-url' })
    }
  }

  return {
    tasks,
    skipped,
    async close() {
      for (const c of closers.reverse()) await c()
    },
  }
}

