/**
 * Noise control: every cell's window sits between two baseline windows, and its ratio is taken
 * against their mean, so drift slower than a couple of windows cancels; the cell order is
 * shuffled every round (seeded), so no cell always follows the same neighbour. When the two
 * baseline windows disagree by more than BRACKET_TOLERANCE the host moved during the bracket:
 * the cell's window and the next baseline window are measured again, at most MAX_REPEATS times.
 */
export const BRACKET_TOLERANCE = 0.15
export const MAX_REPEATS = 2

/** |a - b| relative to their mean. */
export const bracketSpread = (a: number, b: number) => Math.abs(a - b) / ((a + b) / 2)

/** Windows in one round with `others` cells besides the baseline: B X B Y ... B. */
export const windowsPerRound = (others: number, withBaseline: boolean) => (withBaseline ? 2 * others + 1 : others)
