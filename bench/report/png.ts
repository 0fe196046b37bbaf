import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChartSpec } from '../page/kit.ts'

export type PngOutcome = { status: 'ok'; files: string[] } | { status: 'unavailable'; reason: string }

const PNG_HELP =
  'PNG charts need the optional canvas package, built from source here: install the Cairo/Pango headers (Debian: apt-get install ' +
  'libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev), then npm install'

/** The one module that touches canvas: renders chart specs to PNG files, if canvas is available. */
export async function renderPngs(charts: ChartSpec[], dir: string): Promise<PngOutcome> {
  let ChartJSNodeCanvas: typeof import('chartjs-node-canvas').ChartJSNodeCanvas
  try {
    ;({ ChartJSNodeCanvas } = await import('chartjs-node-canvas'))
  } catch (err) {
    return { status: 'unavailable', reason: `${(err as Error).message.split('\n')[0]}. ${PNG_HELP}` }
  }
  const renderer = new ChartJSNodeCanvas({ width: 1000, height: 520, backgroundColour: 'white' })
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  for (const c of charts) {
    const config = structuredClone(c.config) as Record<string, unknown> & { options: Record<string, unknown> }
    config.options = {
      ...config.options,
      responsive: false,
      plugins: { ...(config.options.plugins as object), title: { display: true, text: c.title } },
    }
    const file = join(dir, `${c.id}.png`)
    writeFileSync(file, await renderer.renderToBuffer(config as never))
    files.push(file)
  }
  return { status: 'ok', files }
}
