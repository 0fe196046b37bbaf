// The layering, as rules `npm run lint` checks (dependency-cruiser). Each rule says why; an
// exception is named in the rule itself, never left to a convention.
export const RUNTIME_PACKAGES =
  '^node_modules/(fastify|express|@fastify/[^/]+|better-sqlite3|ioredis|pg|postgres|jose|fast-jwt|autocannon|prom-client|' +
  'express-session|redis|@redis/[^/]+|connect-redis|connect-pg-simple|better-sqlite3-session-store)/'

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A registry takes its entry type from a file of its own, so no module imports back into one that imports it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'servers-not-to-bench',
      severity: 'error',
      comment: 'The servers under test never import the harness: they run alone (npm run server) and in a fleet authbench did not start.',
      from: { path: '^servers/' },
      to: { path: '^(bench|scenarios|test)/' },
    },
    {
      name: 'contracts-not-to-harness',
      severity: 'error',
      comment: 'The contracts sit at the bottom: the types and schemas every stage shares import nothing from the stages.',
      from: { path: '^bench/contracts/' },
      to: { path: '^bench/', pathNot: '^bench/contracts/' },
    },
    {
      name: 'page-not-to-servers',
      severity: 'error',
      comment:
        'The report, the model and the planner are pure functions of results.json: they load no server code and no store client ' +
        'or JWT library (type-only imports are erased and allowed).',
      from: { path: '^bench/(report|sim|page|capacity)/|^bench/(report|simulate|compare|capacity)-cli\\.ts$' },
      to: { path: `^servers/|${RUNTIME_PACKAGES}`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Production code never imports the tests.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    moduleSystems: ['es6', 'cjs'],
  },
}
