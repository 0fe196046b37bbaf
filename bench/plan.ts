import { ScenarioError } from '../servers/errors.ts'
import type { StrategyKind } from '../servers/types.ts'
import { strategyDescriptors } from './strategies/index.ts'
import { type CellSelector, LIFECYCLE_DEFAULTS, type Scenario, type ScenarioIssue } from './contracts/scenario.ts'
import { AXES, type Axis, type CellPlan, type CellSpec } from './contracts/plan.ts'

const list = <T>(v: T | T[] | undefined, fallback: T): T[] => (v === undefined ? [fallback] : Array.isArray(v) ? v : [v])

export function cellId(c: CellSpec): string {
  return [c.strategy, ...strategyDescriptors[c.strategy].idParts(c), ...(c.instances > 1 ? [`x${c.instances}`] : [])].join('-')
}

/** Every combination of the axes a strategy takes, in the order written (AXES order, then instances). */
function combinations(strategy: StrategyKind, cell: Scenario['cells'][number]): CellSpec[] {
  const axes = strategyDescriptors[strategy].axes
  let specs: Partial<CellSpec>[] = [{ strategy }]
  for (const axis of AXES) {
    const fallback = axes[axis]
    const values: unknown[] = fallback === undefined ? [null] : list(cell[axis] as unknown, fallback)
    specs = specs.flatMap((s) => values.map((v) => ({ ...s, [axis]: v })))
  }
  return specs.flatMap((s) => list(cell.instances, 1).map((instances) => ({ ...s, instances }) as CellSpec))
}

/** Expands array-valued cell fields into every combination, in the order written. */
export function expandPlan(scenario: Scenario, file: string): { cells: CellPlan[]; baseline: CellPlan } {
  const issues: ScenarioIssue[] = []
  const cells: CellPlan[] = []
  scenario.cells.forEach((cell, index) => {
    const strategies = list<StrategyKind>(cell.strategy, 'none')
    for (const axis of AXES) {
      const takers = Object.values(strategyDescriptors).filter((d) => d.axes[axis] !== undefined).map((d) => d.kind)
      if (cell[axis] !== undefined && !strategies.some((s) => takers.includes(s))) {
        issues.push({ path: `cells[${index}].${axis}`, message: `applies to strategy ${takers.join(', ')} only; found strategy ${JSON.stringify(cell.strategy)}` })
      }
    }
    for (const strategy of strategies) {
      for (const spec of combinations(strategy, cell)) {
        issues.push(...lifecycleIssues(scenario, spec, index))
        if (spec.storeRttMs && spec.store !== 'redis') {
          issues.push({ path: `cells[${index}].storeRttMs`, message: `a delay proxy goes between the servers and Redis; found store ${JSON.stringify(spec.store)}` })
        }
        const id = cellId(spec)
        if (cells.some((c) => c.id === id)) {
          issues.push({ path: `cells[${index}]`, message: `expands to cell "${id}", which an earlier entry already measures` })
        } else {
          cells.push({ id, ...spec, workload: scenario.workload.route })
        }
      }
    }
  })
  let baseline = cells[0]
  if (scenario.baseline) {
    const matches = cells.filter((c) => matchesSelector(c, scenario.baseline!))
    if (matches.length !== 1) {
      issues.push({
        path: 'baseline',
        message: matches.length === 0
          ? `matches no cell; cells are ${cells.map((c) => c.id).join(', ')}`
          : `matches ${matches.length} cells (${matches.map((c) => c.id).join(', ')}); add fields until it matches one`,
      })
    }
    baseline = matches[0]
  }
  if (issues.length > 0 || !baseline) throw new ScenarioError(file, issues)
  return { cells, baseline }
}

/** Lifecycle cells the workload cannot run as asked, with the reason; other workloads that were given lifecycle-only axes. */
function lifecycleIssues(scenario: Scenario, spec: CellSpec, index: number): ScenarioIssue[] {
  const w = scenario.workload
  const at = (field: string) => `cells[${index}].${field}`
  if (w.route !== 'lifecycle') {
    return spec.refreshJitterSeconds ? [{ path: at('refreshJitterSeconds'), message: 'applies to workload route "lifecycle" only' }] : []
  }
  const issues: ScenarioIssue[] = []
  if (!strategyDescriptors[spec.strategy].lifecycle) {
    issues.push({ path: at('strategy'), message: `"${spec.strategy}" has no credential to live with; the lifecycle workload needs session, jwt or cookie` })
  }
  const ttl = spec.accessTtlSeconds
  const requestInterval = 1 / (w.requestsPerUserPerSecond ?? 1)
  if (ttl !== null && ttl < requestInterval) {
    issues.push({ path: at('accessTtlSeconds'), message: `${ttl} s is shorter than one user's request interval (${requestInterval} s): every credential would expire between two requests` })
  }
  const early = (w.refreshMarginSeconds ?? LIFECYCLE_DEFAULTS.refreshMarginSeconds) + (spec.refreshJitterSeconds ?? 0)
  if (spec.strategy === 'jwt' && ttl !== null && ttl <= early + 1) {
    issues.push({ path: at('accessTtlSeconds'), message: `${ttl} s leaves no time between refreshes: a refresh is due ${early} s before exp, and exp is whole seconds (needs more than ${early + 1} s)` })
  }
  return issues
}

export function matchesSelector(cell: CellPlan, s: CellSelector): boolean {
  const keys: (Axis | 'instances')[] = [...AXES, 'instances']
  return cell.strategy === s.strategy && keys.every((k) => s[k] === undefined || cell[k] === s[k])
}
