import type { KeyMaterial } from '../keys.ts'
import type { EngineKind, Revocation, Strategy, StrategyContext, StrategyKind } from '../types.ts'
import { createJwtStrategy } from './jwt.ts'
import { createNoneStrategy } from './none.ts'
import { createSessionStrategy } from './session.ts'

export interface StrategyConfig {
  engine: EngineKind
  revocation: Revocation
  keys: KeyMaterial | null
  systemClock: boolean
}

export type StrategyFactory = (ctx: StrategyContext, config: StrategyConfig) => Promise<Strategy>

export const strategies = {
  none: createNoneStrategy,
  session: createSessionStrategy,
  jwt: createJwtStrategy,
} satisfies Record<StrategyKind, StrategyFactory>
