import type { StrategyKind } from '../../../common/kinds.ts'
import type { CellPlan } from '../../contracts/plan.ts'
import { cookieRunner } from './cookie.ts'
import { jwtRunner } from './jwt.ts'
import { noneRunner } from './none.ts'
import type { StrategyRunner } from './runner.ts'
import { librarySessionRunner, sessionRunner } from './session.ts'

export type { StrategyRunner } from './runner.ts'

export const strategyRunners = {
  none: noneRunner,
  session: sessionRunner,
  jwt: jwtRunner,
  cookie: cookieRunner,
} satisfies Record<StrategyKind, StrategyRunner>

const libraryRunners = {
  'fastify-session': librarySessionRunner('fastify-session'),
  'express-session': librarySessionRunner('express-session'),
}

/** The runner of a cell: its strategy's, or a library session's (its own cookie, flags and headers). */
export const runnerOf = (c: Pick<CellPlan, 'strategy' | 'sessionLibrary'>): StrategyRunner =>
  c.sessionLibrary ? libraryRunners[c.sessionLibrary] : strategyRunners[c.strategy]
