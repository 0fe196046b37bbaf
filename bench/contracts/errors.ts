// The harness's own errors (a scenario, a results file, a fleet file, a store this machine cannot
// have): each a stable `code` that tests assert, on the one base class in common/errors.ts.
import { AuthbenchError } from '../../common/errors.ts'

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

/** A results folder lacks what the fleet model needs, or a simulation parameter is out of range. */
export class SimulationInputError extends AuthbenchError {
  readonly code = 'ERR_SIMULATION_INPUT'
}

/** A fleet file that cannot be used, or targets that do not answer or do not match the scenario's cells. */
export class TargetError extends AuthbenchError {
  readonly code = 'ERR_TARGETS'
}

/** The instruction counter could not take a count (valgrind's monitor refused, a dump without totals, a request not answered 2xx). */
export class InstrumentError extends AuthbenchError {
  readonly code = 'ERR_INSTRUMENT'
}
