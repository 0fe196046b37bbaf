// What loads at run time, as rules `npm run lint` checks: the same cruise with type-only imports
// left out (TypeScript erases them), so "reachable" means "loaded".
import structure, { RUNTIME_PACKAGES } from './.dependency-cruiser.mjs'

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'page-loads-no-servers',
      severity: 'error',
      comment:
        'npm run report, simulate, compare and plan are pure functions of results.json: they load no file under servers/, no ' +
        'store client, no JWT library and no HTTP framework.',
      from: { path: '^bench/(report|simulate|compare|capacity)-cli\\.ts$' },
      to: { path: `^servers/|${RUNTIME_PACKAGES}`, reachable: true },
    },
  ],
  options: { ...structure.options, tsPreCompilationDeps: false },
}
