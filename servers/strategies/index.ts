import type { ServerConfig } from '../server.ts'
import type { Strategy, StrategyContext, StrategyKind } from '../types.ts'
import { createCookieStrategy } from './cookie.ts'
import { createJwtStrategy } from './jwt.ts'
import { createNoneStrategy } from './none.ts'
import { createSessionStrategy } from './session.ts'

/** Builds a strategy from the server's whole configuration; each takes the flags it needs (keys included). */
export type StrategyFactory = (ctx: StrategyContext, config: ServerConfig & { systemClock: boolean }) => Promise<Strategy>

export const strategies = {
  none: createNoneStrategy,
  session: createSessionStrategy,
  jwt: createJwtStrategy,
  cookie: createCookieStrategy,
} satisfies Record<StrategyKind, StrategyFactory>
