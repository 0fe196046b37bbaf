import type { StrategyKind } from '../../common/kinds.ts'
import type { CellPlan } from '../contracts/plan.ts'
import { cookieStrategy } from './cookie.ts'
import type { StrategyDescriptor } from './descriptor.ts'
import { jwtStrategy } from './jwt.ts'
import { noneStrategy } from './none.ts'
import { sessionStrategy } from './session.ts'

export type { StrategyDescriptor } from './descriptor.ts'

export const strategyDescriptors = {
  none: noneStrategy,
  session: sessionStrategy,
  jwt: jwtStrategy,
  cookie: cookieStrategy,
} satisfies Record<StrategyKind, StrategyDescriptor>

export const descriptorOf = (c: Pick<CellPlan, 'strategy'>): StrategyDescriptor => strategyDescriptors[c.strategy]
