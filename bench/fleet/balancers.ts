// Balancers as descriptors, like strategies and stores: each owns whether it stands in front of a
// cell's instances, what it adds to the cell's id, what it does to the counts and how the report
// and the model name it. Pure: how one is started is the run's side (balancer-processes.ts).
import type { Balance, Balancer } from '../contracts/scenario.ts'

/** A cell that names no balancer: the client's connections spread over the instances. */
export const DEFAULT_BALANCER: Balancer = 'none'
/** A fronting balancer's choice of instance when the cell names none. */
export const DEFAULT_BALANCE: Balance = 'roundrobin'

export interface BalancerDescriptor {
  kind: Balancer
  /** Whether it stands in front of the instances: the load goes to it, and a cell takes a `balance`. */
  fronts: boolean
  /** What it adds to a cell's id (`haproxy-sticky`); nothing for none. */
  idParts(balance: Balance | undefined): string[]
  /** Whether each client always reaches the instance that issued its credential (a store each process keeps then answers no 401s). */
  keepsClientOnIssuer(balance: Balance | undefined): boolean
  /** Its name in the report's and the model's words, with its balance. */
  label(balance: Balance | undefined): string
}

const none: BalancerDescriptor = {
  kind: 'none',
  fronts: false,
  idParts: () => [],
  keepsClientOnIssuer: () => false,
  label: () => "the client's connections",
}

const haproxy: BalancerDescriptor = {
  kind: 'haproxy',
  fronts: true,
  idParts: (balance) => ['haproxy', balance ?? DEFAULT_BALANCE],
  // Sticky keys on the credential's cookie, or hashes its Authorization header (haproxy.ts).
  keepsClientOnIssuer: (balance) => balance === 'sticky',
  label: (balance) => `HAProxy (${balance ?? DEFAULT_BALANCE})`,
}

export const balancers = { none, haproxy } satisfies Record<Balancer, BalancerDescriptor>

/** The balancer a cell (its plan or its result) ran behind. */
export const balancerOf = (c: { balancer?: Balancer | undefined }): BalancerDescriptor => balancers[c.balancer ?? DEFAULT_BALANCER]
