/**
 * Every error authbench throws on purpose, servers and harness alike (the servers do not import
 * the harness, so the one vocabulary lives here). Each has a stable `code` that tests assert and
 * a `name` that stack traces show; messages are for people and may change.
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

/** A scenario file that cannot be run; `issues` names every field at fault. */
export class ScenarioError extends AuthbenchError {
  readonly code = 'ERR_SCENARIO_INVALID'
  readonly file: string
  readonly issues: { path: string; message: string }[]
  constructor(file: string, issues: { path: string; message: string }[], options?: { cause?: unknown }) {
    super(`${file}: invalid scenario\n${issues.map((i) => `  ${file}: ${i.path || '(root)'}: ${i.message}`).join('\n')}`, options)
    this.file = file
    this.issues = issues
  }
}

/** A results.json that cannot be read or is of another schema version. */
export class ResultsError extends AuthbenchError {
  readonly code = 'ERR_RESULTS_INVALID'
}

/** A cell's servers did not behave as the contract says before or while being measured. */
export class VerificationError extends AuthbenchError {
  readonly code = 'ERR_CELL_VERIFICATION'
}

/** A server process did not start, or did not answer over IPC. */
export class ServerStartError extends AuthbenchError {
  readonly code = 'ERR_SERVER_START'
}

/** A store a cell needs cannot be had on this machine (e.g. no redis-server); the reason names the fix. */
export class StoreUnavailableHereError extends AuthbenchError {
  readonly code = 'ERR_STORE_NOT_INSTALLED'
}

/** CPU pinning was asked for and failed. */
export class AffinityError extends AuthbenchError {
  readonly code = 'ERR_AFFINITY'
}

/** Bad command-line arguments to a harness command (exit 2). */
export class UsageError extends AuthbenchError {
  readonly code = 'ERR_USAGE'
}

/** A system dependency of the tests or the benchmark is missing. */
export class SetupError extends AuthbenchError {
  readonly code = 'ERR_SETUP_MISSING'
}

/** A results folder lacks what the fleet model needs, or a simulation parameter is out of range. */
export class SimulationInputError extends AuthbenchError {
  readonly code = 'ERR_SIMULATION_INPUT'
}

/** A fleet file that cannot be used, or targets that do not answer or do not match the scenario's cells. */
export class TargetError extends AuthbenchError {
  readonly code = 'ERR_TARGETS'
}
