// What separates a session library's two presets, as facts of the run: the settings the tuned preset changes (from
// each cell's record) and the store writes per request each preset was measured to make.
import type { CellResult, ResultsFile } from '../contracts/results.ts'
import { workloadKind } from '../contracts/scenario.ts'
import { num } from '../format.ts'
import { FACT, type Finding, scopeOf } from './verdict.ts'

const writesOf = (c: CellResult) => c.summary?.storeOpsPerRequest.writes ?? null

/** One fact per library and store measured in both presets (on the same Node): the settings apart, the writes apart. */
export function presetFacts(results: ResultsFile): Finding[] {
  const ok = results.cells.filter((c) => c.status === 'ok' && c.library)
  return ok.flatMap((tuned) => {
    if (tuned.preset !== 'tuned') return []
    const defaults = ok.find(
      (c) =>
        c.preset === 'defaults' &&
        c.sessionLibrary === tuned.sessionLibrary &&
        c.store === tuned.store &&
        (c.runtime ?? null) === (tuned.runtime ?? null) &&
        c.instances === tuned.instances,
    )
    if (!defaults) return []
    const settings = tuned.library!.settings.filter((s) => s.kind === 'tuned').map((s) => `${s.setting}: ${s.value}`)
    const [w0, w1] = [writesOf(defaults), writesOf(tuned)]
    const writes = w0 === null || w1 === null ? '' : ` Store writes per request: ${num(w0, 2)} as shipped, ${num(w1, 2)} tuned.`
    return [
      {
        id: `library-preset-${tuned.id}`,
        kind: 'library-preset',
        sentence:
          `${tuned.library!.library} on ${tuned.library!.adapter}: what separates its defaults (${defaults.id}) from its tuned ` +
          `preset (${tuned.id}) is ${settings.join(', ')}.${writes}`,
        cells: [defaults.id, tuned.id],
        figures: { writesDefaults: w0, writesTuned: w1 },
        detail: `the settings from each cell's results (library.settings); the writes counted by the servers and checked against the store's own`,
        ...FACT,
        scope: scopeOf(tuned, workloadKind(results.scenario)),
      },
    ]
  })
}
