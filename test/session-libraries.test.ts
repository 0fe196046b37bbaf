import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { type Framework, PRESETS, SESSION_LIBRARY_SUPPORT, type SessionLibrary, type StoreKind } from '../common/kinds.ts'
import { REDIS_COMMAND_TIMEOUT_MS } from '../servers/stores/redis.ts'
import { POSTGRES_TIMEOUT_MS } from '../servers/stores/postgres.ts'
import type { Server } from '../servers/server.ts'
import { ProcessGroup } from '../bench/processes.ts'
import type { ProvisionedStore } from '../bench/stores/run/index.ts'
import { postgresProvisioner } from '../bench/stores/run/postgres.ts'
import { commandCounts, redisProvisioner } from '../bench/stores/run/redis.ts'
import { libraryOps } from '../bench/strategies/session-libraries.ts'
import { opsOf, sharedStoreUrl, testServer, timedAgainstLoop, waitFor } from './helpers.ts'

type Library = Exclude<SessionLibrary, 'authbench'>

/** The header every client of a library cell sends: the servers stand behind a TLS-terminating proxy. */
const PROXIED = { 'x-forwarded-proto': 'https' }
const FRAMEWORK: Record<Library, Framework> = { 'express-session': 'express', 'fastify-session': 'fastify' }
const LIBRARIES: Library[] = ['express-session', 'fastify-session']
const STORES: StoreKind[] = ['memory', 'redis', 'postgres', 'sqlite']

/** Logs in; the library's cookie (name=value) and the whole Set-Cookie line. */
async function libraryLogin(server: Server, name: string, user = 'user3', headers: Record<string, string> = {}) {
  const res = await server.app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: user, password: `pw-${user}` },
    headers: { ...PROXIED, ...headers },
  })
  assert.equal(res.statusCode, 204, res.body)
  const line = String(res.headers['set-cookie'])
  const value = new RegExp(`^${name.replaceAll('.', '\\.')}=([^;]+)`).exec(line)?.[1]
  assert.ok(value, `no ${name} cookie in ${line}`)
  return { line, headers: { ...PROXIED, cookie: `${name}=${value}` } }
}

let redisClient: Redis | null = null
let postgres: ProvisionedStore | null = null
const group = new ProcessGroup()
after(async () => {
  redisClient?.disconnect()
  await postgres?.stop()
})

/**
 * The store's own counts of what it ran, read as a run reads them: Redis's INFO commandstats, PostgreSQL's
 * pg_stat_statements (through its provisioner, on this file's shared instance), SQLite's statement trace; null in memory.
 */
async function storeCounts(store: StoreKind, server: Server): Promise<{ reads: number; writes: number; deletes: number } | null> {
  if (store === 'redis') {
    redisClient ??= new Redis((await sharedStoreUrl('redis'))!)
    return commandCounts(redisClient)
  }
  if (store === 'postgres') {
    postgres ??= await postgresProvisioner.provision({ cpus: null, group, urls: { postgres: (await sharedStoreUrl('postgres'))! } })
    return (await postgres.counts())!
  }
  // The users' reads are SQLite's too: the trace counts every statement the server's connections ran.
  if (store === 'sqlite') return server.metrics!.snapshot(false).sqlTrace!
  return null
}

for (const library of LIBRARIES)
  for (const store of STORES)
    for (const preset of PRESETS) {
      const framework = FRAMEWORK[library]
      const name = SESSION_LIBRARY_SUPPORT[library].cookieName
      const config = { strategy: 'session' as const, sessionLibrary: library, preset, store, framework }
      const declared = libraryOps(library, preset, store)

      describe(`${library} on ${store}, ${preset}`, () => {
        test("login: 204 and the library's own cookie, HttpOnly, Secure, SameSite=Lax; the declared operations", async (t) => {
          const server = await testServer(t, config)
          const login = await opsOf(server, () => libraryLogin(server, name))
          assert.match(
            login.result.line,
            new RegExp(`^${name.replace('.', '\\.')}=[^;]+; Path=/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$`),
          )
          // The users row read from SQLite, then the library's own work on its store.
          assert.deepEqual(
            [login.reads, login.writes, login.deletes],
            [1 + declared.login.reads, declared.login.writes, declared.login.deletes],
          )
        })

        test('/me and /profile: 200 with the declared store operations, counted as the store counts them', async (t) => {
          const server = await testServer(t, { ...config, traceSql: true }, { metrics: true })
          const { headers } = await libraryLogin(server, name)
          const before = await storeCounts(store, server)
          const cookiesBefore = server.metrics!.snapshot(false).setCookies!
          const N = 10
          for (const [url, users] of [
            ['/me', 0],
            ['/profile', 1],
          ] as const) {
            const ops = await opsOf(server, async () => {
              const answers = []
              for (let i = 0; i < N; i++) answers.push(await server.app.inject({ url, headers }))
              return answers
            })
            assert.deepEqual(
              ops.result.map((r) => r.statusCode),
              Array(N).fill(200),
            )
            assert.equal(ops.result[0]!.json().username, 'user3')
            assert.deepEqual(
              [ops.reads, ops.writes, ops.deletes],
              [N * (declared.identify.reads + users), N * declared.identify.writes, N * declared.identify.deletes],
              url,
            )
          }
          // Answers that carried a Set-Cookie, as the servers count them: @fastify/session's defaults roll the cookie on
          // every answer (rolling: true); express-session sets it on a GET only when the session changed, and neither tuned
          // preset does.
          assert.equal(
            server.metrics!.snapshot(false).setCookies! - cookiesBefore,
            library === 'fastify-session' && preset === 'defaults' ? 2 * N : 0,
          )
          if (before) {
            // Known answers: 20 session reads (GET; SELECT), and a save (SET; INSERT ... ON CONFLICT) or a touch (EXPIRE;
            // UPDATE) per request where the preset writes; SQLite's trace also holds the 10 users rows /profile read.
            const after = (await storeCounts(store, server))!
            assert.deepEqual(
              [after.reads - before.reads, after.writes - before.writes, after.deletes - before.deletes],
              [2 * N * declared.identify.reads + (store === 'sqlite' ? N : 0), 2 * N * declared.identify.writes, 0],
            )
          }
        })

        test('no or a forged cookie: 401 with WWW-Authenticate naming the cookie', async (t) => {
          const server = await testServer(t, config)
          await libraryLogin(server, name)
          for (const cookie of [undefined, `${name}=s%3Aforged.forged`, `${name}=forged.forged`]) {
            for (const url of ['/me', '/profile']) {
              const res = await server.app.inject({ url, headers: { ...PROXIED, ...(cookie ? { cookie } : {}) } })
              assert.equal(res.statusCode, 401, `${url} ${cookie}`)
              assert.equal(res.headers['www-authenticate'], `Cookie realm="authbench", cookie-name="${name}"`)
            }
          }
        })

        test('forged and injection-shaped cookies: 401, and none reaches the store (the signature is checked first)', async (t) => {
          const server = await testServer(t, config)
          await libraryLogin(server, name)
          const shapes = [
            "' OR '1'='1",
            's%3Ax%27%20UNION%20SELECT.sig',
            '*',
            '%00',
            '../../etc/passwd',
            'A'.repeat(10_000),
            'é'.repeat(43),
            '',
          ]
          for (const value of shapes) {
            const res = await opsOf(server, () => server.app.inject({ url: '/me', headers: { ...PROXIED, cookie: `${name}=${value}` } }))
            assert.deepEqual([res.result.statusCode, res.reads], [401, 0], value.slice(0, 20))
          }
        })

        test('session fixation: a presented session is dropped at login and a new one issued', async (t) => {
          const server = await testServer(t, config)
          const attacker = await libraryLogin(server, name, 'user1')
          const victim = await libraryLogin(server, name, 'user2', { cookie: attacker.headers.cookie })
          assert.notEqual(victim.headers.cookie, attacker.headers.cookie)
          assert.equal((await server.app.inject({ url: '/me', headers: attacker.headers })).statusCode, 401)
          assert.deepEqual((await server.app.inject({ url: '/me', headers: victim.headers })).json(), { id: 2, username: 'user2' })
        })

        test('logout: 204, the cookie cleared, the session destroyed in the store', async (t) => {
          const server = await testServer(t, config)
          const { headers } = await libraryLogin(server, name)
          const out = await opsOf(server, () => server.app.inject({ method: 'POST', url: '/logout', headers }))
          assert.equal(out.result.statusCode, 204)
          assert.equal(out.result.headers['set-cookie'], `${name}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`)
          assert.equal(out.deletes, 1)
          const after = await opsOf(server, () => server.app.inject({ url: '/me', headers }))
          // Read and not found: the store no longer holds it.
          assert.deepEqual([after.result.statusCode, after.reads], [401, 1])
          assert.equal((await server.app.inject({ method: 'POST', url: '/logout', headers })).statusCode, 401)
        })
      })
    }

/** Each store a library can be reached on, its harness provisioner (a private one, with its faults) and its client's timeout. */
const FAILING_STORES = [
  { store: 'redis', provisioner: redisProvisioner, timeoutMs: REDIS_COMMAND_TIMEOUT_MS, margin: 100 },
  // The pool's query timeout, and a margin for the event loop's own lateness.
  { store: 'postgres', provisioner: postgresProvisioner, timeoutMs: POSTGRES_TIMEOUT_MS, margin: 250 },
] as const

for (const { store: kind, provisioner, timeoutMs, margin } of FAILING_STORES)
  describe(`a library session on a dead or paused ${kind} answers 503, never 500 or a hang`, () => {
    for (const library of LIBRARIES)
      test(library, async (t) => {
        const storeGroup = new ProcessGroup()
        const store = await provisioner.provision({ cpus: null, group: storeGroup, urls: {} })
        t.after(async () => {
          await store.stop()
          await storeGroup.stopAll()
        })
        const server = await testServer(t, {
          strategy: 'session',
          sessionLibrary: library,
          framework: FRAMEWORK[library],
          store: kind,
          storeUrl: store.serverArgs[1]!,
        })
        const { headers } = await libraryLogin(server, SESSION_LIBRARY_SUPPORT[library].cookieName)
        const me = () => server.app.inject({ url: '/me', headers })
        assert.equal((await me()).statusCode, 200)

        await store.faults!.pause()
        const [paused, pausedMs, lateMs] = await timedAgainstLoop(me)
        assert.deepEqual([paused.statusCode, paused.headers['retry-after']], [503, '1'])
        const bound = timeoutMs + margin + lateMs
        assert.ok(pausedMs <= bound, `answered in ${pausedMs} ms, bound ${bound} ms`)
        await store.faults!.resume()
        await waitFor('recovery after SIGCONT', async () => (await me()).statusCode === 200)

        await store.faults!.kill()
        assert.equal((await me()).statusCode, 503)
        const login = await server.app.inject({
          method: 'POST',
          url: '/login',
          payload: { username: 'user1', password: 'pw-user1' },
          headers: PROXIED,
        })
        assert.equal(login.statusCode, 503)
      })
  })
