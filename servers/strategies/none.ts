import type { StrategyFactory } from './factory.ts'

/**
 * The baseline: the same routes with no authentication at all. The caller names its user in an
 * `x-user-id` header (default 1), as behind a trusted gateway, so `/profile` reads spread over
 * the users table as they do for the other strategies.
 */
export const createNoneStrategy: StrategyFactory = async () => ({
  kind: 'none',
  async login() {
    return undefined
  },
  async identify(req) {
    const raw = req.headers['x-user-id']
    const id = typeof raw === 'string' && /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : 1
    return { id, username: `user${id}` }
  },
  async logout() {
    return true
  },
  presented: () => false,
})
