import type { StrategyKind } from '../../../common/kinds.ts'
import type { CellPlan } from '../../contracts/plan.ts'
import { cookieRunner } from './cookie.ts'
import { jwtRunner } from './jwt.ts'
import { noneRunner } from './none.ts'
import type { StrategyRunner } from './runner.ts'
import { sessionRunner } from './session.ts'

export type { StrategyRunner } from './runner.ts'

export const strategyRunners = {
  none: noneRunner,
  session: sessionRunner,
  jwt: jwtRunner,
  cookie: cookieRunner,
} satisfies Record<StrategyKind, StrategyRunner>

export const runnerOf = (c: Pick<CellPlan, 'strategy'>): StrategyRunner => strategyRunners[c.strategy]
