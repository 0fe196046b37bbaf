/**
 * The errors the servers throw and the base every authbench error extends (the servers do not
 * import the harness, so these live here; the harness's own are in bench/contracts/errors.ts).
 * Each has a stable `code` that tests assert and a `name` that stack traces show; messages are for
 * people and may change.
 */
export abstract class AuthbenchError extends Error {
  abstract readonly code: string
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A store could not answer (down, paused, busy, refusing writes): the request fails closed with 503. */
export class StoreUnavailableError extends AuthbenchError {
  readonly code = 'ERR_STORE_UNAVAILABLE'
}

/** Bad command-line flags or configuration: the server refuses to start. */
export class ConfigError extends AuthbenchError {
  readonly code = 'ERR_SERVER_CONFIG'
}

/** A server process did not start, or did not answer over IPC. */
export class ServerStartError extends AuthbenchError {
  readonly code = 'ERR_SERVER_START'
}

/**
 * What a request's body is refused for, in Fastify's words, which the Express app answers with too (so a client
 * cannot tell the frameworks apart): each with its status.
 */
export const BODY_ERRORS = {
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 415,
  FST_ERR_CTP_INVALID_JSON_BODY: 400,
  FST_ERR_CTP_EMPTY_JSON_BODY: 400,
  FST_ERR_VALIDATION: 400,
} as const

/** A request body the Express app refuses (too large, not JSON or text, not the login's shape): a 4xx. */
export class RequestBodyError extends AuthbenchError {
  readonly code: keyof typeof BODY_ERRORS
  readonly statusCode: number
  constructor(code: keyof typeof BODY_ERRORS) {
    super(code)
    this.code = code
    this.statusCode = BODY_ERRORS[code]
  }
}
