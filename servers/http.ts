// What the Fastify app (app.ts) and the Express app (express-app.ts) share: the limits, the login's body rules, the
// fields each answer carries, the calibrating burn, and the handle a server and the tests hold either app by.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { HEALTH_PATH } from '../common/health.ts'
import type { Framework } from '../common/kinds.ts'

/**
 * The request listener either app's HTTP server calls: a balancer's health check (`GET /healthz`) is answered 204 here,
 * before the app, so it passes no hook or middleware, and no metric counts or times it.
 */
export const healthChecked =
  (app: RequestListener): RequestListener =>
  (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === HEALTH_PATH) res.writeHead(204).end()
    else app(req, res)
  }

/** Bodies are tiny JSON objects; anything larger is refused with 413 before parsing. */
export const BODY_LIMIT_BYTES = 16 * 1024

/** The login body's fields and their lengths (in code points, as Fastify's validator counts them). */
export const LOGIN_FIELDS = {
  username: { minLength: 1, maxLength: 64 },
  password: { minLength: 1, maxLength: 256 },
} as const

/** The fields each answer carries, in order: Fastify's response schemas drop any other, and the Express app picks these. */
export const ANSWER_FIELDS = {
  identity: ['id', 'username'],
  profile: ['id', 'username', 'displayName', 'email', 'createdAt'],
  tokenPair: ['access_token', 'refresh_token', 'token_type', 'expires_in'],
  error: ['error'],
} as const

/** A known cost added to every request (`AppOptions.calibrate`): for checking the harness's measuring only. */
export interface Calibrate {
  burnUs: number
  waitMs: number
}

let sink = 0
/**
 * Spends `us` microseconds of this process's CPU time (user + system), counted by the clock the harness reads: arithmetic
 * that allocates nothing (a collection set off by garbage would go on spending after the loop), the clock read every
 * 200 steps (about 2 µs apart, so it overshoots by about that).
 */
export function burn(us: number): void {
  const cpu = () => {
    const c = process.cpuUsage()
    return c.user + c.system
  }
  const until = cpu() + us
  let x = sink
  while (cpu() < until) for (let i = 0; i < 200; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648
  sink = x
}

/** A request as a test sends it without a port of its own (Fastify's `inject()` options, the part used here). */
export interface InjectRequest {
  method?: string
  url: string
  headers?: Record<string, string>
  /** An object is sent as JSON (with `content-type: application/json` unless one is given); a string as it is. */
  payload?: string | object
}

/** An answer to an `InjectRequest`: its status, its headers (a single `set-cookie` as a string), its body. */
export interface InjectResponse {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
  // biome-ignore lint/suspicious/noExplicitAny: as Fastify's inject() answers it, so tests cast once at the call
  json(): any
}

/** Either framework's app as the server and the tests hold it. */
export interface HttpApp {
  readonly framework: Framework
  /** Listens; resolves to the port (useful with port 0). */
  listen(at: { host: string; port: number }): Promise<number>
  /** One request: Fastify's in-process `inject()`; Express over HTTP on loopback (listening on a free port on first use). */
  inject(request: InjectRequest): Promise<InjectResponse>
  /** Stops listening; a request arriving meanwhile gets 503 (Fastify's `return503OnClosing`). */
  close(): Promise<void>
}
