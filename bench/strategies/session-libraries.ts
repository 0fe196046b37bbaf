// What each session library costs in store operations per request, read from its code (node_modules), per preset and
// store; the harness verifies every library cell against these before it reports, as it does the reference session's.
import type { Preset, SessionLibrary, StoreKind } from '../../common/kinds.ts'

type Library = Exclude<SessionLibrary, 'authbench'>

/** Store operations of one request on the session store. */
interface SessionOps {
  reads: number
  writes: number
  deletes: number
}

/** A logged-in GET (/me or /profile) and a login without a session: what the library does to its store for each. */
export interface LibraryOps {
  identify: SessionOps
  login: SessionOps
}

/**
 * Whether the adapter sends a command when express-session touches a session (resave: false): connect-redis an EXPIRE
 * and connect-pg-simple an UPDATE unless disableTouch (the tuned preset sets it); better-sqlite3-session-store always
 * an UPDATE (it has no option); express-session's MemoryStore always rewrites the entry.
 */
const touchWrites = (store: StoreKind, preset: Preset): number =>
  (store === 'redis' || store === 'postgres') && preset === 'tuned' ? 0 : 1

/**
 * express-session: the session read on every request with a cookie (store.get); with resave left true (defaults) an
 * unmodified session is saved back (store.set) at the answer's end, with resave: false it is touched instead
 * (store.touch); a login regenerates (store.destroy of the old id, even one never saved) and the modified session is
 * saved once at the end.
 * @fastify/session: the session read in onRequest; with rolling true (defaults) it is saved in onSend on every answer,
 * with rolling: false only when modified, and it has no touch; a login's regenerate() destroys the old id and sets the
 * new, empty session, and onSend saves it again with the user in it.
 */
export function libraryOps(library: Library, preset: Preset, store: StoreKind): LibraryOps {
  if (library === 'express-session')
    return {
      identify: { reads: 1, writes: preset === 'defaults' ? 1 : touchWrites(store, preset), deletes: 0 },
      login: { reads: 0, writes: 1, deletes: 1 },
    }
  return {
    identify: { reads: 1, writes: preset === 'defaults' ? 1 : 0, deletes: 0 },
    login: { reads: 0, writes: 2, deletes: 1 },
  }
}
