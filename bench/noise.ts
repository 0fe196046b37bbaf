/**
 * Noise control: every cell's window sits between two baseline windows, and its ratio is taken
 * against their mean, so drift slower than a couple of windows cancels; the cell order is
 * shuffled every round (seeded), so no cell always follows the same neighbour. When the two
 * baseline windows disagree by more than BRACKET_TOLERANCE the host moved during the bracket:
 * the cell's window and the next baseline window are measured again, at most MAX_REPEATS times.
 */
export const BRACKET_TOLERANCE = 0.15
export const MAX_REPEATS = 2

/**
 * The host also has events shorter than a bracket (about a second at 2-3x), which hit one cell
 * window and neither baseline window around it. From OUTLIER_AFTER_ROUNDS earlier rounds on, a
 * window whose bracketed ratio is more than OUTLIER_TOLERANCE away from the median of the cell's
 * earlier rounds is measured again (within the same MAX_REPEATS). The rule is symmetric, and the
 * last measurement stands whatever it reads, so it cannot push a figure where it wants.
 */
export const OUTLIER_TOLERANCE = 0.25
export const OUTLIER_AFTER_ROUNDS = 2

/** Why a bracketed window should be measured again, or null. */
export function repeatReason(spread: number, ratio: number, earlier: number[]): string | null {
  if (spread > BRACKET_TOLERANCE) return `its two baseline windows differ by ${(spread * 100).toFixed(0)}%`
  if (earlier.length < OUTLIER_AFTER_ROUNDS) return null
  const sorted = [...earlier].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const typical = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  const off = ratio / typical - 1
  return Math.abs(off) > OUTLIER_TOLERANCE ? `its ratio ${ratio.toFixed(2)} is ${(off * 100).toFixed(0)}% off its earlier rounds' ${typical.toFixed(2)}` : null
}

/** |a - b| relative to their mean. */
export const bracketSpread = (a: number, b: number) => Math.abs(a - b) / ((a + b) / 2)

/** Windows in one round with `others` cells besides the baseline: B X B Y ... B. */
export const windowsPerRound = (others: number, withBaseline: boolean) => (withBaseline ? 2 * others + 1 : others)
