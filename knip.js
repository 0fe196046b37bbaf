// knip: unused files, exports and dependencies, part of npm run lint. Each exception says why.
import { SYSTEM_PROGRAMS } from './scripts/system.mjs'

export default {
  entry: [
    'bench/*-cli.ts',
    'bench/**/*-main.ts',
    'scenarios/*.ts',
    'scripts/*.mjs',
    'test/**/*.test.ts',
    // The contracts are the public API: users' scenario files import bench/scenario.ts, and outside
    // scripts read results.json and findings.json by these types, so every export stays.
    'bench/scenario.ts',
    'bench/contracts/*.ts',
  ],
  project: ['bench/**/*.ts', 'servers/**/*.ts', 'common/**/*.ts', 'scenarios/**/*.ts', 'scripts/**/*.mjs', 'test/**/*.{ts,mjs}'],
  // Programs the harness and the tests run that npm cannot install: `npm run setup` installs them
  // with apt-get (scripts/system.mjs lists them, and checks each with its Debian package).
  ignoreBinaries: SYSTEM_PROGRAMS,
}
