import { createServer, type RequestListener } from 'node:http'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  type InjectOptions,
} from 'fastify'
import { ConfigError, StoreUnavailableError } from '../common/errors.ts'
import { BODY_LIMIT_BYTES, burn, type Calibrate, type HttpApp, healthChecked, type InjectRequest, LOGIN_FIELDS } from './http.ts'
import type { ServerMetrics } from './metrics.ts'
import type { Strategy } from './types.ts'
import type { Users } from './users.ts'

export interface AppOptions {
  strategy: Strategy
  users: Users
  /** When set, every request is counted (onRequest), in flight until its answer is decided (onSend), and timed (onResponse). */
  metrics?: ServerMetrics
  /**
   * A known cost added to every request before it is handled, to check the harness's measuring against a known answer
   * (never set in a measured run): `burnUs` of this process's CPU spent in a loop, then `waitMs` of waiting that spends none.
   */
  calibrate?: Calibrate
}

const identity = {
  type: 'object',
  properties: { id: { type: 'integer' }, username: { type: 'string' } },
} as const
const profile = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    displayName: { type: 'string' },
    email: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const
const error = { type: 'object', properties: { error: { type: 'string' } } } as const
const tokenPair = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    refresh_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
  },
} as const
const loginBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string', ...LOGIN_FIELDS.username }, password: { type: 'string', ...LOGIN_FIELDS.password } },
} as const

const SETTLED = Symbol('settled')
const STARTED = Symbol('started')

/** The HTTP server Fastify listens with, set as Fastify sets its own, its health checks answered before the app. */
function serverFactory(handler: RequestListener, o: FastifyServerOptions) {
  const server = createServer(healthChecked(handler))
  server.keepAliveTimeout = o.keepAliveTimeout!
  server.requestTimeout = o.requestTimeout!
  server.setTimeout(o.connectionTimeout!)
  return server
}

/** Builds the Fastify app for one strategy without listening, so tests can use `inject()`. */
export function buildApp({ strategy, users, metrics, calibrate }: AppOptions): FastifyInstance {
  if (strategy.useExpress)
    throw new ConfigError(`this ${strategy.kind} strategy runs on --framework express only (it is Express middleware)`)
  const app = Fastify({
    trustProxy: strategy.trustProxy === true,
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    serverFactory,
    // Fastify's defaults coerce ["user1"] to "user1" and silently drop unknown keys: refuse both.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })

  const unauthorized = (presented: boolean) => {
    const challenge = strategy.challenge?.(presented)
    return challenge ? { 'www-authenticate': challenge } : {}
  }

  if (calibrate && (calibrate.burnUs > 0 || calibrate.waitMs > 0)) {
    const { burnUs, waitMs } = calibrate
    app.addHook('onRequest', (_req, _reply, done) => {
      if (burnUs > 0) burn(burnUs)
      if (waitMs > 0) setTimeout(done, waitMs)
      else done()
    })
  }

  if (metrics) {
    // A request is in flight from its start until its answer is decided (onSend: every store
    // operation its handler does comes before, and it runs whether or not the client is still
    // there); onResponse settles one whose answer Fastify wrote without onSend. Once per request,
    // and only one this hook started (a plugin's earlier onRequest hook can answer before it runs).
    app.decorateRequest(SETTLED, false)
    app.decorateRequest(STARTED, false)
    app.addHook('onRequest', (req, _reply, done) => {
      ;(req as unknown as Record<typeof STARTED, boolean>)[STARTED] = true
      metrics.started()
      done()
    })
  }

  // Between the metrics' hooks: a plugin's onRequest (a library reading its session) runs in flight, and its onSend
  // (a library saving it) before the answer is settled, so every store operation falls inside its request.
  strategy.register?.(app)

  if (metrics) {
    const settle = (req: FastifyRequest) => {
      const r = req as unknown as Record<typeof SETTLED | typeof STARTED, boolean>
      if (!r[STARTED] || r[SETTLED]) return
      r[SETTLED] = true
      metrics.settled()
    }
    app.addHook('onSend', (req, _reply, payload, done) => {
      settle(req)
      done(null, payload)
    })
    // Route and status are read only where they are exported: the measured path does no more than the harness reads.
    if (metrics.exported)
      app.addHook('onResponse', (req, reply, done) => {
        settle(req)
        if (reply.hasHeader('set-cookie')) metrics.setCookies++
        metrics.recordExported(reply.elapsedTime, req.routeOptions.url, reply.statusCode)
        done()
      })
    else
      app.addHook('onResponse', (req, reply, done) => {
        settle(req)
        if (reply.hasHeader('set-cookie')) metrics.setCookies++
        metrics.record(reply.elapsedTime)
        done()
      })
  }

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof StoreUnavailableError) {
      if (metrics) metrics.failed++
      return reply.code(503).header('retry-after', '1').send({ error: 'store_unavailable' })
    }
    const status = err.statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: err.code ?? 'bad_request' })
    }
    if (metrics) metrics.failed++
    process.stderr.write(`internal error: ${err.stack ?? err.message}\n`)
    return reply.code(500).send({ error: 'internal' })
  })

  app.post(
    '/login',
    { schema: { body: loginBody, response: { 200: tokenPair, 204: { type: 'null' }, 401: error } } },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string }
      const user = await users.authenticate(username, password)
      if (user === null) return reply.code(401).headers(unauthorized(false)).send({ error: 'invalid_credentials' })
      const body = await strategy.login({ id: user.id, username: user.username }, req, reply)
      return body === undefined ? reply.code(204).send() : body
    },
  )

  app.get('/me', { schema: { response: { 200: identity, 401: error } } }, async (req, reply) => {
    const who = await strategy.identify(req)
    if (who === null)
      return reply
        .code(401)
        .headers(unauthorized(strategy.presented(req)))
        .send({ error: 'unauthorized' })
    return who
  })

  app.get('/profile', { schema: { response: { 200: profile, 401: error } } }, async (req, reply) => {
    const who = await strategy.identify(req)
    const record = who === null ? null : users.getProfile(who.id)
    if (record === null)
      return reply
        .code(401)
        .headers(unauthorized(strategy.presented(req)))
        .send({ error: 'unauthorized' })
    return record
  })

  app.post('/refresh', { schema: { response: { 200: tokenPair, 400: error, 404: error } } }, async (req, reply) => {
    if (!strategy.refresh) return reply.code(404).send({ error: 'not_found' })
    return strategy.refresh(req, reply)
  })

  app.post('/logout', async (req, reply) => {
    if (!(await strategy.logout(req, reply))) {
      return reply
        .code(401)
        .headers(unauthorized(strategy.presented(req)))
        .send({ error: 'unauthorized' })
    }
    return reply.code(204).send()
  })

  app.get('/.well-known/jwks.json', async (_req, reply) => {
    if (!strategy.jwks) return reply.code(404).send({ error: 'not_found' })
    return strategy.jwks()
  })

  return app
}

/** The Fastify app as the server holds either framework's; `fastify` is the app itself (its plugins' decorations). */
export function fastifyHttpApp(app: FastifyInstance): HttpApp & { fastify: FastifyInstance } {
  return {
    framework: 'fastify',
    fastify: app,
    async listen(at) {
      await app.listen(at)
      const address = app.server.address()
      return typeof address === 'object' && address !== null ? address.port : at.port
    },
    inject: (request: InjectRequest) => app.inject(request as InjectOptions),
    close: () => app.close(),
  }
}
