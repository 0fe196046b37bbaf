export interface Missing {
  name: string
  why: string
  apt: string[]
}
export function onPath(name: string, env?: NodeJS.ProcessEnv): string | null
export function findChromium(env?: NodeJS.ProcessEnv): string | null
export function canvasLoads(root: string): boolean
export function missingForTests(root: string, env?: NodeJS.ProcessEnv): Missing[]
export const CAIRO_PACKAGES: string[]
export const BUILD_TOOLS: Record<string, string>
