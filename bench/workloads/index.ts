// Workloads as descriptors, like strategies and stores: each owns how a scenario of its kind is
// shrunk for --smoke, how one round runs, how its cells' windows reduce into results, and how its
// progress reads. The runner and the reducer call these and never ask which workload they hold.
import { workloadKind, type Scenario, type WorkloadKind } from '../contracts/scenario.ts'
import { closedWorkload } from './closed.ts'
import type { WorkloadDescriptor } from './descriptor.ts'
import { lifecycleWorkloadDescriptor } from './lifecycle.ts'
import { observedWorkload } from './observed.ts'
import { openWorkload } from './open.ts'

const workloads = {
  closed: closedWorkload,
  open: openWorkload,
  lifecycle: lifecycleWorkloadDescriptor,
  observed: observedWorkload,
} satisfies Record<WorkloadKind, WorkloadDescriptor>

export const workloadOf = (s: Pick<Scenario, 'workload' | 'load'>): WorkloadDescriptor => workloads[workloadKind(s)]
