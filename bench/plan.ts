import type { Alg, EngineKind, Revocation, StoreKind, StrategyKind } from '../servers/types.ts'
import { ScenarioError, type CellSelector, type Scenario, type ScenarioIssue, type WorkloadRoute } from './scenario.ts'

/** One fully specified cell: fields that do not apply to its strategy are null. */
export interface CellPlan {
  id: string
  strategy: StrategyKind
  store: StoreKind | null
  alg: Alg | null
  engine: EngineKind | null
  revocation: Revocation | null
  instances: number
  workload: WorkloadRoute
}

const list = <T>(v: T | T[] | undefined, fallback: T): T[] => (v === undefined ? [fallback] : Array.isArray(v) ? v : [v])

export function cellId(c: Omit<CellPlan, 'id' | 'workload'>): string {
  const parts: string[] = [c.strategy]
  if (c.strategy === 'jwt') parts.push(c.alg!, c.engine!)
  if (c.store) parts.push(c.store)
  if (c.revocation === 'denylist') parts.push('denylist')
  if (c.instances > 1) parts.push(`x${c.instances}`)
  return parts.join('-')
}

/** Expands array-valued cell fields into every combination, in the order written. */
export function expandPlan(scenario: Scenario, file: string): { cells: CellPlan[]; baseline: CellPlan } {
  const issues: ScenarioIssue[] = []
  const cells: CellPlan[] = []
  scenario.cells.forEach((cell, index) => {
    for (const key of ['alg', 'engine', 'revocation'] as const) {
      const strategies = list<StrategyKind>(cell.strategy, 'none')
      if (cell[key] !== undefined && !strategies.includes('jwt')) {
        issues.push({ path: `cells[${index}].${key}`, message: `applies to strategy jwt only; found strategy ${JSON.stringify(cell.strategy)}` })
      }
    }
    for (const strategy of list<StrategyKind>(cell.strategy, 'none')) {
      for (const store of strategy === 'none' ? [null] : list(cell.store, 'sqlite' as StoreKind)) {
        for (const alg of strategy === 'jwt' ? list(cell.alg, 'HS256' as Alg) : [null]) {
          for (const engine of strategy === 'jwt' ? list(cell.engine, 'jose' as EngineKind) : [null]) {
            for (const revocation of strategy === 'jwt' ? list(cell.revocation, 'none' as Revocation) : [null]) {
              for (const instances of list(cell.instances, 1)) {
                const spec = { strategy, store, alg, engine, revocation, instances }
                const id = cellId(spec)
                if (cells.some((c) => c.id === id)) {
                  issues.push({ path: `cells[${index}]`, message: `expands to cell "${id}", which an earlier entry already measures` })
                } else {
                  cells.push({ id, ...spec, workload: scenario.workload.route })
                }
              }
            }
          }
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

export function matchesSelector(cell: CellPlan, s: CellSelector): boolean {
  return cell.strategy === s.strategy
    && (s.store === undefined || cell.store === s.store)
    && (s.alg === undefined || cell.alg === s.alg)
    && (s.engine === undefined || cell.engine === s.engine)
    && (s.revocation === undefined || cell.revocation === s.revocation)
    && (s.instances === undefined || cell.instances === s.instances)
}
