import { spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import { AffinityError } from './contracts/errors.ts'
import type { CpuPlan } from './contracts/results.ts'

function tasksetAvailable(): boolean {
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0
}

/** The split for this machine, or null where it cannot be made (one CPU, or no taskset). */
export function planAffinity(count = cpus().length, available = tasksetAvailable()): CpuPlan | null {
  if (count < 2 || !available) return null
  const half = Math.floor(count / 2)
  const range = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`)
  return { client: range(0, half - 1), server: range(half, count - 1) }
}

/** How many CPUs a taskset list such as `1`, `2-3` or `0,2-3` names. */
export function cpuCount(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number)
    return n + (b === undefined ? 1 : b - a! + 1)
  }, 0)
}

/** Pins this process and all its threads (autocannon runs in it). */
export function pinSelf(cpuList: string): void {
  const res = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { encoding: 'utf8' })
  if (res.status !== 0) throw new AffinityError(`taskset could not pin the harness to CPUs ${cpuList}: ${res.stderr.trim()}`)
}

/** The command line that runs `command args` on `cpuList`, or unchanged when unpinned. */
export function pinned(cpuList: string | null, command: string, args: string[]): [string, string[]] {
  return cpuList === null ? [command, args] : ['taskset', ['-c', cpuList, command, ...args]]
}
