import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem, type } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Environment } from './contracts/results.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

const PACKAGES = ['fastify', 'jose', 'fast-jwt', 'better-sqlite3', 'ioredis', 'autocannon', 'hdr-histogram-js', 'tinybench']

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version
  } catch {
    return null // not installed: reported as null, never guessed
  }
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
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    redisServer: redisVersion(),
  }
}
