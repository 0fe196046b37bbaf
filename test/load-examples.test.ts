// The load examples teams copy (examples/k6, examples/artillery): their login and credential code, run in Node
// against real servers of each strategy they name, must give a credential GET /me answers 200 to. k6 is not
// installed here: its script's own lines (k6/http, the executor) are checked by k6 alone; Artillery's whole run is
// in docs/measured.md.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ProcessGroup, startServer } from '../bench/processes.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

type Headers = Record<string, string>
const k6 = (await import(pathToFileURL(join(ROOT, 'examples/k6/credential.js')).href)) as {
  loginBody(user: number): string
  credentialOf(status: number, setCookie: string | null, body: string): Headers | null
}
type Done = (err?: Error) => void
const artillery = createRequire(import.meta.url)(join(ROOT, 'examples/artillery/login.cjs')) as {
  pickUser(context: { vars: Record<string, unknown> }, events: unknown, done: Done): void
  keepCredential(
    req: unknown,
    res: { statusCode: number; headers: Headers | Record<string, string[]>; body: string },
    context: { vars: Record<string, unknown> },
    events: unknown,
    done: Done,
  ): void
  sendCredential(
    req: { headers: Headers; cookieJar?: unknown },
    context: { vars: Record<string, unknown> },
    events: unknown,
    done: Done,
  ): void
}

describe('the load examples log in and send the credential each strategy gives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authbench-examples-'))
  const group = new ProcessGroup()
  test.after(async () => {
    await group.stopAll()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [strategy, carried] of [
    ['session', 'cookie'],
    ['jwt', 'authorization'],
  ] as const)
    test(`${strategy}: k6's credential.js and Artillery's login.cjs, each a 200 on GET /me with the header ${carried}`, async (t) => {
      const s = await startServer(group, ['--strategy', strategy, '--db', join(dir, `${strategy}.sqlite`), '--users', '20'])
      const login = (body: string) => fetch(`${s.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

      // k6: the same functions me.js calls, on fetch's answer.
      const res = await login(k6.loginBody(7))
      const headers = k6.credentialOf(res.status, res.headers.get('set-cookie'), await res.text())
      assert.deepEqual(Object.keys(headers ?? {}), [carried])
      assert.equal((await fetch(`${s.url}/me`, { headers: headers! })).status, 200)
      assert.equal(k6.credentialOf(401, null, '{"error":"invalid_credentials"}'), null)

      // Artillery: the processor's three hooks, around the requests Artillery would send.
      const context = { vars: {} as Record<string, unknown> }
      const step = (run: (done: Done) => void) => new Promise<void>((resolve, reject) => run((err) => (err ? reject(err) : resolve())))
      // The processor reads the server's user count from USERS, as Artillery's process gets it.
      process.env.USERS = '20'
      t.after(() => {
        delete process.env.USERS
      })
      await step((done) => artillery.pickUser(context, null, done))
      assert.match(String(context.vars.username), /^user([1-9]|1\d|20)$/)
      const answer = await login(JSON.stringify({ username: context.vars.username, password: context.vars.password }))
      const body = await answer.text()
      const setCookie = answer.headers.getSetCookie()
      await step((done) =>
        artillery.keepCredential(
          null,
          { statusCode: answer.status, headers: setCookie.length ? { 'set-cookie': setCookie } : {}, body },
          context,
          null,
          done,
        ),
      )
      const req = { headers: { accept: 'application/json' } as Headers, cookieJar: {} }
      await step((done) => artillery.sendCredential(req, context, null, done))
      assert.deepEqual(Object.keys(req.headers), ['accept', carried])
      assert.equal('cookieJar' in req, false)
      assert.equal((await fetch(`${s.url}/me`, { headers: req.headers })).status, 200)
      await assert.rejects(
        step((done) => artillery.keepCredential(null, { statusCode: 401, headers: {}, body: '' }, context, null, done)),
        /status 401/,
      )
    })
})
