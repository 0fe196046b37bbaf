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
