// Preloaded by `npm run test:unit`: the unit tier starts no process, opens no socket and launches
// no browser. Anything that tries fails at once with the name of what it tried, so a test that
// needs a server cannot slip into the fast tier unnoticed.
import childProcess from 'node:child_process'
import net from 'node:net'
import { syncBuiltinESMExports } from 'node:module'

const refuse = (what: string) => () => {
  throw new Error(`the unit tier starts no process and opens no socket: ${what} was called (move this test out of test/unit/)`)
}
for (const name of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const) {
  ;(childProcess as unknown as Record<string, unknown>)[name] = refuse(`child_process.${name}`)
}
net.Server.prototype.listen = refuse('net.Server.listen') as typeof net.Server.prototype.listen
net.Socket.prototype.connect = refuse('net.Socket.connect') as typeof net.Socket.prototype.connect
syncBuiltinESMExports()
