/** A store could not answer (down, paused, busy): the request fails closed with 503. */
export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/** Bad command-line flags or configuration: the server refuses to start. */
export class ConfigError extends Error {
  readonly code = 'ERR_SERVER_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}
