import type { CellSpec } from '../contracts/plan.ts'
import type { Scenario, ScenarioIssue } from '../contracts/scenario.ts'

/** Axes only the lifecycle takes: a closed or open run that is given one says so. */
export function lifecycleOnlyAxes(_s: Scenario, spec: CellSpec, index: number): ScenarioIssue[] {
  return spec.refreshJitterSeconds
    ? [{ path: `cells[${index}].refreshJitterSeconds`, message: 'applies to workload route "lifecycle" only' }]
    : []
}
