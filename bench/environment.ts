import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem, type } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Environment } from './contracts/results.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Manifest {
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

const manifest = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest

function packageVersion(name: string): string | null {
  try {
    return manifest(`${ROOT}node_modules/${name}/package.json`).version ?? null
  } catch {
    return null // not installed: reported as null, never guessed
  }
}

/**
 * The installed version of every package the run can load: each of package.json's dependencies
 * (null when missing, never guessed) and each optional dependency that is installed here.
 */
export function packageVersions(): Record<string, string | null> {
  const own = manifest(`${ROOT}package.json`)
  const optional = Object.keys(own.optionalDependencies ?? {}).flatMap((name) => {
    const version = packageVersion(name)
    return version === null ? [] : [[name, version] as const]
  })
  return Object.fromEntries([...Object.keys(own.dependencies ?? {}).map((name) => [name, packageVersion(name)] as const), ...optional])
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null // not a git checkout
  }
}

function redisVersion(): string | null {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? null
  } catch {
    return null // redis-server not installed
  }
}

export function describeEnvironment(): Environment {
  const cpuList = cpus()
  const status = git(['status', '--porcelain'])
  return {
    node: process.version,
    os: `${type()} ${release()}`,
    cpus: { model: cpuList[0]?.model.trim() ?? 'unknown', count: cpuList.length },
    memoryBytes: totalmem(),
    packages: packageVersions(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    redisServer: redisVersion(),
  }
}
