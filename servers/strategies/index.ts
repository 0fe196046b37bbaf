import type { StrategyKind } from '../types.ts'
import type { StrategyFactory } from './factory.ts'
import { createCookieStrategy } from './cookie.ts'
import { createJwtStrategy } from './jwt.ts'
import { createNoneStrategy } from './none.ts'
import { createSessionStrategy } from './session.ts'

export const strategies = {
  none: createNoneStrategy,
  session: createSessionStrategy,
  jwt: createJwtStrategy,
  cookie: createCookieStrategy,
} satisfies Record<StrategyKind, StrategyFactory>
