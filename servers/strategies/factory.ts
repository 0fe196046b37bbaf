import type { ServerConfig } from '../config.ts'
import type { Strategy, StrategyContext } from '../types.ts'

/** Builds a strategy from the server's whole configuration; each takes the flags it needs (keys included). */
export type StrategyFactory = (ctx: StrategyContext, config: ServerConfig & { systemClock: boolean }) => Promise<Strategy>
