import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type NextFunction, type Request, type Response } from 'express'
import { ConfigError, RequestBodyError, StoreUnavailableError } from '../common/errors.ts'
import type { AppOptions } from './app.ts'
import {
  ANSWER_FIELDS,
  BODY_LIMIT_BYTES,
  burn,
  type HttpApp,
  healthChecked,
  type InjectRequest,
  type InjectResponse,
  LOGIN_FIELDS,
} from './http.ts'
import type { HttpReply, HttpRequest } from './types.ts'

/** Fastify's defaults, which the Express app's server takes so the two hold connections alike. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000

const START = Symbol('start')
const STARTED = Symbol('started')
const SETTLED = Symbol('settled')
type Tracked = Response & { [START]: number; [STARTED]?: true; [SETTLED]?: true }

/** The answer a strategy decides through `reply` (a refresh's 400), kept until the route writes it. */
class ExpressReply implements HttpReply {
  sent = false
  body: unknown
  readonly #res: Response
  constructor(res: Response) {
    this.#res = res
  }
  code(status: number): this {
    this.#res.statusCode = status
    return this
  }
  header(name: string, value: string): this {
    this.#res.setHeader(name, value)
    return this
  }
  send(body?: unknown): this {
    this.sent = true
    this.body = body
    return this
  }
}

/** Only the declared fields, in order, as Fastify's response schemas serialize an answer. */
function pick(body: unknown, fields: readonly string[]): Record<string, unknown> {
  const from = body as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const f of fields) if (from[f] !== undefined) out[f] = from[f]
  return out
}

/** Length in code points, as Fastify's validator (ajv) counts `minLength` and `maxLength`. */
function codePoints(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/** The login body, checked as Fastify's schema checks it: an object of exactly two strings, no coercion. */
function loginBody(body: unknown): { username: string; password: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestBodyError('FST_ERR_VALIDATION')
  for (const key of Object.keys(body)) if (!(key in LOGIN_FIELDS)) throw new RequestBodyError('FST_ERR_VALIDATION')
  for (const [key, rule] of Object.entries(LOGIN_FIELDS)) {
    const value = (body as Record<string, unknown>)[key]
    if (typeof value !== 'string') throw new RequestBodyError('FST_ERR_VALIDATION')
    const n = codePoints(value)
    if (n < rule.minLength || n > rule.maxLength) throw new RequestBodyError('FST_ERR_VALIDATION')
  }
  return body as { username: string; password: string }
}

/** A key JSON.parse keeps that could reach a prototype (Fastify's parser refuses these too). */
function hasPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Object.hasOwn(value, '__proto__')) return true
  const ctor = (value as Record<string, unknown>).constructor
  if (Object.hasOwn(value, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) return true
  return Object.values(value).some(hasPrototypeKey)
}

/**
 * Reads a POST body as Fastify's content-type parsers do: `application/json` parsed, `text/plain` kept as text, no
 * body without a content type, anything else 415; over 16 KiB 413, by its declared length or as it arrives.
 */
function readBody(req: Request, _res: Response, next: NextFunction) {
  const type = req.headers['content-type']
  const length = req.headers['content-length']
  if (type === undefined) {
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return next()
    return next(new RequestBodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE'))
  }
  const essence = type.split(';', 1)[0]!.trim().toLowerCase()
  const json = essence === 'application/json'
  if (!json && essence !== 'text/plain') return next(new RequestBodyError('FST_ERR_CTP_INVALID_MEDIA_TYPE'))
  if (length !== undefined && Number(length) > BODY_LIMIT_BYTES) return next(new RequestBodyError('FST_ERR_CTP_BODY_TOO_LARGE'))
  const chunks: Buffer[] = []
  let received = 0
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received > BODY_LIMIT_BYTES) {
      req.off('data', onData)
      req.off('end', onEnd)
      next(new RequestBodyError('FST_ERR_CTP_BODY_TOO_LARGE'))
    } else chunks.push(chunk)
  }
  const onEnd = () => {
    const text = Buffer.concat(chunks).toString('utf8')
    if (!json) {
      req.body = text
      return next()
    }
    if (text === '') return next(new RequestBodyError('FST_ERR_CTP_EMPTY_JSON_BODY'))
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      // Any syntax error is the same 400, as Fastify answers it.
      return next(new RequestBodyError('FST_ERR_CTP_INVALID_JSON_BODY'))
    }
    if (hasPrototypeKey(parsed)) return next(new RequestBodyError('FST_ERR_CTP_INVALID_JSON_BODY'))
    req.body = parsed
    next()
  }
  req.on('data', onData)
  req.on('end', onEnd)
}

/**
 * Builds the Express 5 app for one strategy: the Fastify app's routes, answers, body rules, error handler, metrics
 * and calibrate hook (app.ts), so a client and the harness see the same server. A strategy that needs a Fastify
 * plugin (its `register`) is refused.
 */
export function buildExpressApp({ strategy, users, metrics, calibrate }: AppOptions): HttpApp {
  if (strategy.register) throw new ConfigError(`--strategy ${strategy.kind} runs on --framework fastify only (it is a Fastify plugin)`)
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.set('case sensitive routing', true)
  app.set('strict routing', true)
  let closing = false
  // A library session saves or touches its session as the answer ends (express-session wraps res.end): such a request
  // is settled when its answer is finished, so every store operation falls inside its request.
  const settleAtFinish = strategy.useExpress !== undefined

  const settle = (res: Tracked) => {
    if (!res[STARTED] || res[SETTLED]) return
    res[SETTLED] = true
    metrics!.settled()
  }
  /** Writes the decided answer: settles the request first, as Fastify's onSend does. */
  const answer = (res: Response, status: number, body?: unknown) => {
    if (metrics && !settleAtFinish) settle(res as Tracked)
    // An answer decided while the server closes ends its connection, so closing waits for no idle keep-alive.
    if (closing) res.setHeader('connection', 'close')
    res.status(status)
    if (body === undefined) res.end()
    else res.json(body)
  }
  const unauthorized = (req: HttpRequest, res: Response, error: string, presented = strategy.presented(req)) => {
    const challenge = strategy.challenge?.(presented)
    if (challenge) res.setHeader('www-authenticate', challenge)
    answer(res, 401, { error })
  }

  app.use((_req, res, next) => {
    if (!closing) return next()
    res.setHeader('connection', 'close')
    res.status(503).json({ error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 })
  })

  if (metrics) {
    // Timed from here to the answer's last byte (Fastify's onResponse), route and status read only where exported.
    const exported = metrics.exported !== null
    function finished(this: Tracked) {
      settle(this)
      if (this.hasHeader('set-cookie')) metrics!.setCookies++
      const ms = performance.now() - this[START]
      if (exported) metrics!.recordExported(ms, this.req.route?.path as string | undefined, this.statusCode)
      else metrics!.record(ms)
    }
    // An answer whose client went before it finished never finishes: settled when its connection closes.
    function closed(this: Tracked) {
      settle(this)
    }
    app.use((_req, res, next) => {
      ;(res as Tracked)[START] = performance.now()
      res.once('finish', finished)
      if (settleAtFinish) res.once('close', closed)
      next()
    })
  }

  if (calibrate && (calibrate.burnUs > 0 || calibrate.waitMs > 0)) {
    const { burnUs, waitMs } = calibrate
    app.use((_req, _res, next) => {
      if (burnUs > 0) burn(burnUs)
      if (waitMs > 0) setTimeout(next, waitMs)
      else next()
    })
  }

  if (metrics)
    app.use((_req, res, next) => {
      ;(res as Tracked)[STARTED] = true
      metrics.started()
      next()
    })

  if (strategy.trustProxy) app.set('trust proxy', 1)
  strategy.useExpress?.(app)

  /** What a strategy returned or decided through its reply, written with the fields its status declares. */
  const decided = (res: Response, reply: ExpressReply, result: unknown, fields: Partial<Record<number, readonly string[]>>) => {
    const body = reply.sent ? reply.body : result
    const status = res.statusCode
    const declared = fields[status]
    answer(res, status, declared && body !== undefined ? pick(body, declared) : body)
  }

  app.post('/login', readBody, async (req, res) => {
    const { username, password } = loginBody(req.body)
    const user = await users.authenticate(username, password)
    if (user === null) return unauthorized(req, res, 'invalid_credentials', false)
    const reply = new ExpressReply(res)
    const body = await strategy.login({ id: user.id, username: user.username }, req, reply)
    if (body === undefined && !reply.sent) return answer(res, 204)
    decided(res, reply, body, { 200: ANSWER_FIELDS.tokenPair, 401: ANSWER_FIELDS.error })
  })

  app.get('/me', async (req, res) => {
    const who = await strategy.identify(req)
    if (who === null) return unauthorized(req, res, 'unauthorized')
    answer(res, 200, pick(who, ANSWER_FIELDS.identity))
  })

  app.get('/profile', async (req, res) => {
    const who = await strategy.identify(req)
    const record = who === null ? null : users.getProfile(who.id)
    if (record === null) return unauthorized(req, res, 'unauthorized')
    answer(res, 200, pick(record, ANSWER_FIELDS.profile))
  })

  app.post('/refresh', readBody, async (req, res) => {
    if (!strategy.refresh) return answer(res, 404, { error: 'not_found' })
    const reply = new ExpressReply(res)
    const result = await strategy.refresh(req, reply)
    decided(res, reply, result, { 200: ANSWER_FIELDS.tokenPair, 400: ANSWER_FIELDS.error, 404: ANSWER_FIELDS.error })
  })

  app.post('/logout', readBody, async (req, res) => {
    if (!(await strategy.logout(req, new ExpressReply(res)))) return unauthorized(req, res, 'unauthorized')
    answer(res, 204)
  })

  app.get('/.well-known/jwks.json', (_req, res) => {
    if (!strategy.jwks) return answer(res, 404, { error: 'not_found' })
    answer(res, 200, strategy.jwks())
  })

  // Fastify's answer to a route it does not have (this also keeps Express from answering OPTIONS itself).
  app.use((req, res) => {
    answer(res, 404, { message: `Route ${req.method}:${req.url} not found`, error: 'Not Found', statusCode: 404 })
  })

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // A library's save that fails after the answer's head went (express-session writes it before saving): the client
    // cannot be told otherwise, so its connection is cut rather than its answer completed as if saved.
    if (res.headersSent) {
      if (metrics) metrics.failed++
      res.destroy()
      return
    }
    if (err instanceof StoreUnavailableError) {
      if (metrics) metrics.failed++
      res.setHeader('retry-after', '1')
      return answer(res, 503, { error: 'store_unavailable' })
    }
    const status = (err as { statusCode?: unknown; status?: unknown }).statusCode ?? (err as { status?: unknown }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return answer(res, status, { error: (err as { code?: string }).code ?? 'bad_request' })
    }
    if (metrics) metrics.failed++
    process.stderr.write(`internal error: ${(err as Error).stack ?? String(err)}\n`)
    answer(res, 500, { error: 'internal' })
  })

  return expressHttpApp(app, () => {
    closing = true
  })
}

function expressHttpApp(app: express.Express, startClosing: () => void): HttpApp {
  const server: HttpServer = createHttpServer({ requestTimeout: 0, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, healthChecked(app))
  let listening: Promise<number> | null = null
  const listen = (at: { host: string; port: number }) =>
    (listening ??= new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(at.port, at.host, () => {
        server.off('error', reject)
        resolve((server.address() as AddressInfo).port)
      })
    }))
  return {
    framework: 'express',
    listen,
    async inject(request) {
      const port = await listen({ host: '127.0.0.1', port: 0 })
      return injectOverHttp(port, request)
    },
    async close() {
      startClosing()
      if (listening === null) return
      await listening.catch(() => undefined)
      if (!server.listening) return
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeIdleConnections()
      })
    },
  }
}

/** One request over HTTP on loopback, answered as Fastify's `inject()` answers (a single `set-cookie` as a string). */
function injectOverHttp(port: number, { method = 'GET', url, headers = {}, payload }: InjectRequest): Promise<InjectResponse> {
  const sent = { ...headers }
  let body: string | undefined
  if (typeof payload === 'string') body = payload
  else if (payload !== undefined) {
    body = JSON.stringify(payload)
    if (!Object.keys(sent).some((h) => h.toLowerCase() === 'content-type')) sent['content-type'] = 'application/json'
  }
  if (body !== undefined) sent['content-length'] = String(Buffer.byteLength(body))
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: url, headers: sent, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ statusCode: res.statusCode!, headers: asInjected(res.headers), body: text, json: () => JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

function asInjected(headers: IncomingHttpHeaders): InjectResponse['headers'] {
  const cookies = headers['set-cookie']
  return cookies?.length === 1 ? { ...headers, 'set-cookie': cookies[0] } : { ...headers }
}
