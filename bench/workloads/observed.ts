// Load another engine drove (k6, Artillery, Locust, a second authbench), read from the servers'
// own metrics by `npm run observe`: its windows reduce as any closed-loop cell's do, with no bracket.
// A bench run cannot drive it: the plan refuses a scenario that asks for it.
import type { WorkloadDescriptor } from './descriptor.ts'
import { closedFigures } from './closed-figures.ts'

export const observedWorkload: WorkloadDescriptor = {
  kind: 'observed',
  smoke: (s) => s,
  checkCell: (_s, _spec, index) =>
    index === 0
      ? [
          {
            path: 'workload.route',
            message: '"observed" is what npm run observe writes of load from outside; npm run bench drives its own',
          },
        ]
      : [],
  runRound: () => Promise.reject(new Error('the observed workload has no rounds to run: npm run observe reads windows instead')),
  reduce: (cell) => ({ ...closedFigures(cell), openLoop: null, lifecycle: null, timeline: null, recovery: null }),
  bracketed: false,
  progress: {
    windowsPerRound: (active) => active.length,
    windowSeconds: (s) => s.load.durationSeconds,
    prepareSeconds: () => 0,
    describe: (s, cells) => `${s.load.rounds} windows of ${s.load.durationSeconds}s over ${cells.length} cells, load from outside`,
  },
}
