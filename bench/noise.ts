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
 * Why a bracketed window should be measured again, or null. The rule looks only at the two
 * baseline windows around it, never at the cell's own reading: it cannot prefer one value of the
 * cell over another, only a bracket in which the host held still. (An earlier rule also re-measured
 * a window whose ratio strayed from the cell's earlier rounds; that one looked at the reading, so
 * it pulled late rounds toward early ones and narrowed intervals. It is gone.)
 */
export function repeatReason(spread: number): string | null {
  return spread > BRACKET_TOLERANCE ? `its two baseline windows differ by ${(spread * 100).toFixed(0)}%` : null
}
/** |a - b| relative to their mean. */
export const bracketSpread = (a: number, b: number) => Math.abs(a - b) / ((a + b) / 2)

/** Windows in one round with `others` cells besides the baseline: B X B Y ... B. */
export const windowsPerRound = (others: number, withBaseline: boolean) => (withBaseline ? 2 * others + 1 : others)
