import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as hdr from 'hdr-histogram-js'
import { Redis } from 'ioredis'
import { generatePrivateKeyPem } from '../servers/keys.ts'
import type { StatsSnapshot } from '../servers/metrics.ts'
import { expected401Share, expectedOps, renewalWriteBound, type ExpectedOps } from './expected.ts'
import { drive, requestBytes, type LoadRequest } from './load.ts'
import type { CellPlan } from './plan.ts'
import { startServer, type ProcessGroup, type ServerHandle } from './processes.ts'
import type { CredentialInfo, RevocationProbe, RoundResult } from './results.ts'
import type { Scenario } from './scenario.ts'

/** A cell whose servers are up, verified, and holding a pool of logged-in credentials. */
export interface CellRuntime {
  plan: CellPlan
  servers: ServerHandle[]
  requests: LoadRequest[]
  redis: Redis | null
  expected: ExpectedOps
  expected401Share: number
  /** Session renewal writes a measured window may hold. */
  renewalBound: number
  credential: CredentialInfo | null
  revocationProbe: RevocationProbe | null
  close(): Promise<void>
}

export class VerificationError extends Error {
  readonly code = 'ERR_CELL_VERIFICATION'
}

interface Credential {
  headers: Record<string, string>
  raw: string | null
}

const loginBody = (i: number) => JSON.stringify({ username: `user${i}`, password: `pw-user${i}` })

async function login(plan: CellPlan, url: string, user: number): Promise<Credential> {
  if (plan.strategy === 'none') return { headers: { 'x-user-id': String(user) }, raw: null }
  const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: loginBody(user) })
  if (plan.strategy === 'session') {
    const sid = /^sid=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    if (res.status !== 204 || !sid) throw new VerificationError(`login of user${user} at ${url}: status ${res.status}, no session cookie`)
    return { headers: { cookie: `sid=${sid}` }, raw: sid }
  }
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new VerificationError(`login of user${user} at ${url}: status ${res.status}`)
  return { headers: { authorization: `Bearer ${body.access_token}` }, raw: body.access_token }
}

function describeCredential(plan: CellPlan, c: Credential): CredentialInfo {
  if (plan.strategy === 'none') return { kind: 'none', header: null, bytes: 0, clientReadable: false, decoded: null }
  const [header, value] = Object.entries(c.headers)[0]!
  if (plan.strategy === 'session') return { kind: 'cookie', header, bytes: Buffer.byteLength(value), clientReadable: false, decoded: null }
  const [h, p] = c.raw!.split('.')
  const decode = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>
  return { kind: 'bearer', header, bytes: Buffer.byteLength(value), clientReadable: true, decoded: { header: decode(h!), claims: decode(p!) } }
}

async function status(url: string, path: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url + path, { headers })
  await res.arrayBuffer()
  return res.status
}

function serverArgs(plan: CellPlan, shared: { db: string; redisUrl: string | null; secret: string | null; keyFile: string | null; users: number }): string[] {
  const args = ['--strategy', plan.strategy, '--port', '0', '--db', shared.db, '--users', String(shared.users)]
  if (plan.store) args.push('--store', plan.store)
  if (plan.store === 'redis') args.push('--redis-url', shared.redisUrl!)
  if (plan.strategy === 'jwt') {
    args.push('--alg', plan.alg!, '--engine', plan.engine!, '--revocation', plan.revocation!)
    if (shared.secret) args.push('--jwt-secret', shared.secret)
    if (shared.keyFile) args.push('--key-file', shared.keyFile)
  }
  return args
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      out[i] = await task(i)
    }
  }))
  return out
}

/**
 * Starts the cell's instances (sharing one SQLite file, one store and one key), verifies them
 * (no credential: 401; a fresh one: 200; what logout does), and logs in the credential pool.
 */
export interface PrepareOptions {
  group: ProcessGroup
  redisUrl: string | null
  /** CPUs the servers are pinned to, or null. */
  serverCpus: string | null
  /** A SQLite file with the users already seeded, copied for each cell so no server spends its start hashing passwords. */
  usersTemplate: string | null
}

export async function prepareCell(plan: CellPlan, scenario: Scenario, { group, redisUrl, serverCpus, usersTemplate }: PrepareOptions): Promise<CellRuntime> {
  const dir = mkdtempSync(join(tmpdir(), `authbench-${plan.id}-`))
  const servers: ServerHandle[] = []
  let redis: Redis | null = null
  const close = async () => {
    await Promise.all(servers.map((s) => s.stop()))
    redis?.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    let keyFile: string | null = null
    if (plan.strategy === 'jwt' && plan.alg !== 'HS256') {
      keyFile = join(dir, 'key.pem')
      writeFileSync(keyFile, generatePrivateKeyPem(plan.alg!), { mode: 0o600 })
    }
    const users = scenario.workload.users
    const shared = {
      db: join(dir, 'authbench.sqlite'), redisUrl, users, keyFile,
      secret: plan.strategy === 'jwt' && plan.alg === 'HS256' ? randomBytes(32).toString('hex') : null,
    }
    if (usersTemplate) copyFileSync(usersTemplate, shared.db)
    const args = serverArgs(plan, shared)
    // The first instance seeds the users; the others then find them in the shared file.
    servers.push(await startServer(group, args, serverCpus))
    servers.push(...await Promise.all(Array.from({ length: plan.instances - 1 }, () => startServer(group, args, serverCpus))))
    const urls = servers.map((s) => s.url)
    if (plan.store === 'redis') redis = new Redis(redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 })
    if (redis) await redis.connect()

    const expected = expectedOps(plan)
    const getRoute = plan.workload === 'GET /profile' ? '/profile' : '/me'
    for (const url of urls) {
      const anonymous = await status(url, getRoute, {})
      const want = plan.strategy === 'none' ? 200 : 401
      if (anonymous !== want) throw new VerificationError(`${url}${getRoute} without a credential answered ${anonymous}, expected ${want}`)
      const fresh = await login(plan, url, 1)
      const ok = await status(url, getRoute, fresh.headers)
      if (ok !== 200) throw new VerificationError(`${url}${getRoute} with a fresh credential answered ${ok}, expected 200`)
    }

    const sample = await login(plan, urls[0]!, 1)
    const credential = describeCredential(plan, sample)
    let revocationProbe: RevocationProbe | null = null
    if (plan.strategy !== 'none') {
      const res = await fetch(`${urls[0]}/logout`, { method: 'POST', headers: sample.headers })
      if (res.status !== 204) throw new VerificationError(`${urls[0]}/logout answered ${res.status}, expected 204`)
      const statusAfterLogout = await Promise.all(urls.map((u) => status(u, '/me', sample.headers)))
      const exp = credential.decoded?.claims.exp
      revocationProbe = {
        statusAfterLogout,
        keepsWorkingSeconds: statusAfterLogout.every((s) => s === 401)
          ? 0
          : typeof exp === 'number' ? Math.max(0, exp - Math.floor(Date.now() / 1000)) : null,
      }
    }

    let requests: LoadRequest[]
    if (plan.workload === 'POST /login') {
      requests = Array.from({ length: users }, (_, i) => ({
        method: 'POST' as const, path: '/login', headers: { 'content-type': 'application/json' }, body: loginBody(i + 1),
      }))
    } else {
      // Credential i comes from instance i mod n, so with several instances every instance sees foreign credentials.
      const creds = await pool(users, 8, (i) => login(plan, urls[i % urls.length]!, i + 1))
      requests = creds.map((c) => ({ method: 'GET' as const, path: getRoute, headers: c.headers }))
    }
    return {
      plan, servers, requests, redis, expected, credential, revocationProbe, close,
      expected401Share: expected401Share(plan),
      renewalBound: expected.renewals ? renewalWriteBound(users + 1, plan.instances, scenario.load.durationSeconds) : 0,
    }
  } catch (err) {
    await close()
    throw err
  }
}

async function commandStats(redis: Redis): Promise<{ reads: number; total: number }> {
  const info = await redis.info('commandstats')
  let reads = 0
  let total = 0
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    const calls = Number(m[2])
    if (m[1] === 'info') continue
    total += calls
    if (m[1] === 'get' || m[1] === 'exists') reads += calls
  }
  return { reads, total }
}

const settle = () => new Promise((r) => setTimeout(r, 100))

async function snapshot(rt: CellRuntime): Promise<{ stats: StatsSnapshot[]; redis: { reads: number; total: number } | null }> {
  const stats = await Promise.all(rt.servers.map((s) => s.stats(true)))
  return { stats, redis: rt.redis ? await commandStats(rt.redis) : null }
}

/**
 * One measured window, with counters and CPU read before and after it. A cell's servers live
 * through every round, so only its first round needs the warm-up (JIT, connection pools).
 */
export async function measureRound(rt: CellRuntime, round: number, load: Scenario['load'], signal?: AbortSignal): Promise<RoundResult> {
  const urls = rt.servers.map((s) => s.url)
  if (round === 1 && load.warmupSeconds > 0) await drive(urls, rt.requests, load.connections, load.warmupSeconds, signal)
  await settle()
  const before = await snapshot(rt)
  const result = await drive(urls, rt.requests, load.connections, load.durationSeconds, signal)
  await settle()
  const after = await snapshot(rt)

  const sum = (pick: (s: StatsSnapshot) => number) =>
    after.stats.reduce((n, s, i) => n + pick(s) - pick(before.stats[i]!), 0)
  const served = sum((s) => s.requests)
  const per = (n: number) => (served === 0 ? 0 : n / served)
  const merged = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  for (const s of after.stats) merged.add(hdr.decodeFromCompressedBase64(s.requestTimeHistogram))
  const serverTimeUs = {
    p50: merged.getValueAtPercentile(50), p90: merged.getValueAtPercentile(90),
    p99: merged.getValueAtPercentile(99), max: merged.maxValue, mean: merged.totalCount ? merged.mean : 0,
  }
  return {
    round,
    requests: served,
    durationSeconds: result.durationSeconds,
    rps: result.rps,
    latencyMs: result.latencyMs,
    serverTimeUs,
    cpuUsPerRequest: per(sum((s) => s.cpuUs)),
    storeOpsPerRequest: { reads: per(sum((s) => s.reads)), writes: per(sum((s) => s.writes)), deletes: per(sum((s) => s.deletes)) },
    redisCommandsPerRequest: before.redis && after.redis
      ? { reads: per(after.redis.reads - before.redis.reads), total: per(after.redis.total - before.redis.total) }
      : null,
    bytesPerRequest: { request: requestBytes(urls[0]!, rt.requests), response: result.requests ? result.responseBytes / result.requests : 0 },
    statusCounts: result.statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    status401Share: result.requests ? (result.statusCounts['401'] ?? 0) / result.requests : 0,
    rssBytes: Math.max(...after.stats.map((s) => s.rssBytes)),
    ratioToBaseline: null,
  }
}

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9

/**
 * Why a round is not a valid measurement, or null when it is. `renewalBound` is the most session
 * renewal writes the window may hold (see renewalWriteBound); 0 where there are none.
 */
export function checkRound(r: RoundResult, expected: ExpectedOps, expected401Share: number, renewalBound = 0): string | null {
  const problems: string[] = []
  if (r.requests === 0) problems.push('no request was served')
  if (r.errors > 0 || r.timeouts > 0) problems.push(`${r.errors} connection errors, ${r.timeouts} timeouts`)
  const unexpected = Object.entries(r.statusCounts)
    .filter(([code]) => !code.startsWith('2') && !(expected401Share > 0 && code === '401'))
    .map(([code, n]) => `${n} x ${code}`)
  if (unexpected.length > 0) problems.push(`non-2xx answers: ${unexpected.join(', ')}`)
  const want = { reads: expected.stateReads + expected.userReads, writes: expected.writes, deletes: expected.deletes }
  for (const k of ['reads', 'writes', 'deletes'] as const) {
    if (k === 'writes' && expected.renewals) {
      const writes = Math.round(r.storeOpsPerRequest.writes * r.requests)
      if (writes > renewalBound) problems.push(`store writes: counted ${writes}, more than the ${renewalBound} session renewals the window allows`)
      continue
    }
    if (!near(r.storeOpsPerRequest[k], want[k])) {
      problems.push(`store ${k} per request: counted ${r.storeOpsPerRequest[k].toFixed(4)}, expected ${want[k]}`)
    }
  }
  if (r.redisCommandsPerRequest && !near(r.redisCommandsPerRequest.reads, expected.stateReads)) {
    problems.push(`Redis read commands per request (INFO commandstats): ${r.redisCommandsPerRequest.reads.toFixed(4)}, expected ${expected.stateReads}`)
  }
  return problems.length > 0 ? `round ${r.round}: ${problems.join('; ')}` : null
}
