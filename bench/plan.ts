import { ScenarioError } from './contracts/errors.ts'
import type { StrategyKind } from '../servers/types.ts'
import { strategyDescriptors } from './strategies/index.ts'
import type { CellSelector, Scenario, ScenarioIssue } from './contracts/scenario.ts'
import { storeDescriptors } from './stores/index.ts'
import { workloadOf } from './workloads/index.ts'
import { AXES, type Axis, type CellPlan, type CellSpec, type SessionCacheSpec } from './contracts/plan.ts'
import type { Balance, Balancer } from './contracts/scenario.ts'
import { balancerOf, balancers, DEFAULT_BALANCE, DEFAULT_BALANCER } from './fleet/balancers.ts'
import {
  DEFAULT_FRAMEWORK,
  DEFAULT_PRESET,
  DEFAULT_SESSION_LIBRARY,
  ENGINE_SUPPORT,
  ENGINES,
  type Framework,
  isLibrary,
  type Preset,
  type SessionLibrary,
} from '../common/kinds.ts'

const list = <T>(v: T | T[] | undefined, fallback: T): T[] => (v === undefined ? [fallback] : Array.isArray(v) ? v : [v])

function cellId(c: CellSpec): string {
  const balancer = balancerOf(c).idParts(c.balance)
  // A library session runs on one framework, which its name already says.
  const framework = c.framework && c.framework !== DEFAULT_FRAMEWORK && !c.sessionLibrary ? [c.framework] : []
  const instances = c.instances > 1 ? [`x${c.instances}`] : []
  const runtime = c.runtime ? [c.runtime] : []
  return [c.strategy, ...strategyDescriptors[c.strategy].idParts(c), ...framework, ...instances, ...balancer, ...runtime].join('-')
}

/**
 * Whether a cell whose earlier axes are set takes `axis`: the key form only with an engine whose key form is
 * an axis, the verify cache only with an engine that has one.
 */
const takes = (axis: Axis, s: Partial<CellSpec>): boolean =>
  axis === 'keyForm'
    ? !!s.engine && ENGINE_SUPPORT[s.engine].keyForms !== null
    : axis !== 'verifyCache' || (!!s.engine && ENGINE_SUPPORT[s.engine].verifyCache)

/** Every combination of the axes a strategy takes, in the order written (AXES order, then instances). */
function combinations(strategy: StrategyKind, cell: Scenario['cells'][number]): CellSpec[] {
  const axes = strategyDescriptors[strategy].axes
  let specs: Partial<CellSpec>[] = [{ strategy }]
  for (const axis of AXES) {
    const fallback = axes[axis]
    specs = specs.flatMap((s) => {
      const values: unknown[] = fallback === undefined || !takes(axis, s) ? [null] : list(cell[axis] as unknown, fallback)
      return values.map((v) => ({ ...s, [axis]: v }))
    })
  }
  // A session on the reference code carries no library, as a cell on the default framework carries none.
  const libraried =
    strategy !== 'session'
      ? specs
      : specs.flatMap((s) =>
          list<SessionLibrary>(cell.sessionLibrary, DEFAULT_SESSION_LIBRARY).flatMap((sessionLibrary) =>
            isLibrary(sessionLibrary) ? list<Preset>(cell.preset, DEFAULT_PRESET).map((preset) => ({ ...s, sessionLibrary, preset })) : [s],
          ),
        )
  const withInstances = libraried.flatMap((s) => list(cell.instances, 1).map((instances) => ({ ...s, instances }) as CellSpec))
  const balanced = withInstances.flatMap((s) =>
    list<Balancer>(cell.balancer, DEFAULT_BALANCER).flatMap((balancer) =>
      balancers[balancer].fronts ? list<Balance>(cell.balance, DEFAULT_BALANCE).map((balance) => ({ ...s, balancer, balance })) : [s],
    ),
  )
  // A cell on the default framework carries none, as one with no balancer carries none.
  const framed = balanced.flatMap((s) =>
    list<Framework>(cell.framework, DEFAULT_FRAMEWORK).map((framework) => (framework === DEFAULT_FRAMEWORK ? s : { ...s, framework })),
  )
  // A session cache only where the strategy takes one, on the reference session (not a library's); off (null, or absent)
  // leaves no field, as the default framework.
  const cached = !strategyDescriptors[strategy].cachesSessions
    ? framed
    : framed.flatMap((s) =>
        s.sessionLibrary
          ? [s]
          : list<SessionCacheSpec | null>(cell.sessionCache, null).map((sessionCache) => (sessionCache ? { ...s, sessionCache } : s)),
      )
  // The runtime last: a cell that sets none runs on the harness's own Node and its plan has no such field.
  return cell.runtime === undefined ? cached : cached.flatMap((s) => list(cell.runtime, undefined).map((runtime) => ({ ...s, runtime })))
}

/** Expands array-valued cell fields into every combination, in the order written. */
export function expandPlan(scenario: Scenario, file: string): { cells: CellPlan[]; baseline: CellPlan } {
  const issues: ScenarioIssue[] = []
  const cells: CellPlan[] = []
  scenario.cells.forEach((cell, index) => {
    const strategies = list<StrategyKind>(cell.strategy, 'none')
    for (const axis of AXES) {
      const takers = Object.values(strategyDescriptors)
        .filter((d) => d.axes[axis] !== undefined)
        .map((d) => d.kind)
      if (cell[axis] !== undefined && !strategies.some((s) => takers.includes(s))) {
        issues.push({
          path: `cells[${index}].${axis}`,
          message: `applies to strategy ${takers.join(', ')} only; found strategy ${JSON.stringify(cell.strategy)}`,
        })
      }
    }
    if (cell.sessionCache !== undefined && !strategies.some((s) => strategyDescriptors[s].cachesSessions)) {
      const takers = Object.values(strategyDescriptors).filter((d) => d.cachesSessions)
      issues.push({
        path: `cells[${index}].sessionCache`,
        message: `applies to strategy ${takers.map((d) => d.kind).join(', ')} only; found strategy ${JSON.stringify(cell.strategy)}`,
      })
    }
    if (cell.balance !== undefined && !list(cell.balancer, DEFAULT_BALANCER).some((b) => balancers[b].fronts)) {
      const fronting = Object.values(balancers).filter((b) => b.fronts)
      issues.push({
        path: `cells[${index}].balance`,
        message: `applies with balancer ${fronting.map((b) => JSON.stringify(b.kind)).join(', ')} only`,
      })
    }
    const specs = strategies.flatMap((strategy) => combinations(strategy, cell))
    const cachers = specs.filter((s) => strategyDescriptors[s.strategy].cachesSessions)
    if (cell.sessionCache !== undefined && cachers.length > 0 && cachers.every((s) => s.sessionLibrary)) {
      issues.push({
        path: `cells[${index}].sessionCache`,
        message:
          `applies to the reference session only (sessionLibrary absent or "${DEFAULT_SESSION_LIBRARY}"); ` +
          `found sessionLibrary ${JSON.stringify(cell.sessionLibrary)}`,
      })
    }
    if (cell.keyForm !== undefined && specs.some((s) => s.engine) && !specs.some((s) => s.keyForm)) {
      issues.push({
        path: `cells[${index}].keyForm`,
        message:
          `applies to engine ${ENGINES.filter((e) => ENGINE_SUPPORT[e].keyForms).join(', ')} only; ` +
          `found engine ${JSON.stringify(cell.engine ?? specs.find((s) => s.engine)!.engine)}`,
      })
    }
    if (cell.verifyCache !== undefined && specs.some((s) => s.engine) && specs.every((s) => s.verifyCache === null)) {
      issues.push({
        path: `cells[${index}].verifyCache`,
        message:
          `applies to engine ${ENGINES.filter((e) => ENGINE_SUPPORT[e].verifyCache).join(', ')} only; ` +
          `found engine ${JSON.stringify(cell.engine ?? specs.find((s) => s.engine)!.engine)}`,
      })
    }
    for (const spec of specs) {
      if (spec.engine && spec.alg && !(ENGINE_SUPPORT[spec.engine].algs as readonly string[]).includes(spec.alg)) {
        issues.push({
          path: `cells[${index}].alg`,
          message:
            `engine ${JSON.stringify(spec.engine)} signs ${ENGINE_SUPPORT[spec.engine].algs.join(', ')} only; ` +
            `found ${JSON.stringify(spec.alg)}`,
        })
        continue
      }
      issues.push(...workloadOf(scenario).checkCell(scenario, spec, index))
      if (spec.storeRttMs && !(spec.store && storeDescriptors[spec.store].supports.delayProxy)) {
        const proxied = Object.values(storeDescriptors)
          .filter((x) => x.supports.delayProxy)
          .map((x) => x.kind)
        issues.push({
          path: `cells[${index}].storeRttMs`,
          message:
            `a delay proxy goes between the servers and a store reached over a socket (${proxied.join(', ')}); found ` +
            `store ${JSON.stringify(spec.store)}`,
        })
      }
      const id = cellId(spec)
      if (cells.some((c) => c.id === id)) {
        issues.push({ path: `cells[${index}]`, message: `expands to cell "${id}", which an earlier entry already measures` })
      } else {
        cells.push({ id, ...spec, workload: scenario.workload.route })
      }
    }
  })
  let baseline = cells[0]
  if (scenario.baseline) {
    const matches = cells.filter((c) => matchesSelector(c, scenario.baseline!))
    if (matches.length !== 1) {
      issues.push({
        path: 'baseline',
        message:
          matches.length === 0
            ? `matches no cell; cells are ${cells.map((c) => c.id).join(', ')}`
            : `matches ${matches.length} cells (${matches.map((c) => c.id).join(', ')}); add fields until it matches one`,
      })
    }
    baseline = matches[0]
  }
  if (issues.length > 0 || !baseline) throw new ScenarioError(file, issues)
  return { cells, baseline }
}

function matchesSelector(cell: CellPlan, s: CellSelector): boolean {
  const keys: (Axis | 'instances' | 'runtime' | 'preset')[] = [...AXES, 'instances', 'runtime', 'preset']
  const framework = s.framework === undefined || (cell.framework ?? DEFAULT_FRAMEWORK) === s.framework
  const library = s.sessionLibrary === undefined || (cell.sessionLibrary ?? DEFAULT_SESSION_LIBRARY) === s.sessionLibrary
  const cache = (c: SessionCacheSpec | null | undefined) => (c ? `${c.entries}/${c.ttlSeconds}` : 'off')
  const sessionCache = s.sessionCache === undefined || cache(cell.sessionCache) === cache(s.sessionCache)
  return cell.strategy === s.strategy && framework && library && sessionCache && keys.every((k) => s[k] === undefined || cell[k] === s[k])
}
