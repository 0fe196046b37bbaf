import type { StrategyDescriptor } from './descriptor.ts'

/** The baseline: no authentication; the caller names its user in `x-user-id`, as behind a trusted gateway. */
export const noneStrategy: StrategyDescriptor = {
  kind: 'none',
  axes: {},
  idParts: () => [],
  state: 'none',
  identifyReads: () => 0,
  loginWrites: 0,
  renews: false,
  refreshes: false,
  anonymousStatus: 200,
  describeCredential: () => ({ kind: 'none', header: null, bytes: 0, clientReadable: false, decoded: null }),
  lifetimeSeconds: () => null,
  breakdown: () => [],
  label: {
    family: 'no authentication',
    cell: () => 'no authentication',
    column: () => 'none',
    stateLives: () => 'nowhere (no authentication)',
    clientReads: () => 'nothing to read',
    copyLives: () => 'nothing to revoke',
  },
  colorName: 'grey',
  colors: ['#7f8c8d', '#95a5a6', '#566573'],
}
