// npm run setup's last step: makes a Node runtime ready for a cell's servers (its better-sqlite3
// built for that major, kept in .cache/runtimes/), as a run would the first time it needs it.
//   usage: node --import tsx scripts/prepare-runtime.ts node24
import { RUNTIMES, type RuntimeKind } from '../bench/contracts/scenario.ts'
import { ProcessGroup } from '../bench/processes.ts'
import { prepareRuntime } from '../bench/runtimes.ts'

const kind = process.argv[2] as RuntimeKind
if (!RUNTIMES.includes(kind)) {
  process.stderr.write(`usage: node --import tsx scripts/prepare-runtime.ts ${RUNTIMES.join('|')}\n`)
  process.exit(2)
}
const group = new ProcessGroup()
try {
  const runtime = await prepareRuntime(kind, group, (message) => process.stderr.write(`setup: ${message}\n`))
  process.stderr.write(`setup: ${kind} ready (Node ${runtime.version})\n`)
} finally {
  await group.stopAll()
}
