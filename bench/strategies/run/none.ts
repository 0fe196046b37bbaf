import type { StrategyRunner } from './runner.ts'

/** No credential: the caller names its user in `x-user-id`. */
export const noneRunner: StrategyRunner = {
  kind: 'none',
  serverArgs: () => [],
  sharedKeyArgs: () => [],
  cookieName: null,
  login: async (_url, user) => ({ headers: { 'x-user-id': String(user) }, raw: null }),
}
