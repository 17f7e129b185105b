/**
 * Pictures for a terminal: a sparkline of a series (`▁▃▅█`) and a bar of one value against a
 * maximum (`████▌`). Commands draw them on a TTY only; pipes and --json get plain columns.
 */

const TICKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

/** One character per value, scaled from the smallest to the largest; a gap for a missing one. */
export function sparkline(values: readonly (number | null | undefined)[]): string {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (present.length === 0) return ' '.repeat(values.length)
  const min = Math.min(...present)
  const span = Math.max(...present) - min
  return values
    .map((v) =>
      typeof v !== 'number' || !Number.isFinite(v)
        ? ' '
        : TICKS[span === 0 ? 3 : Math.round(((v - min) / span) * (TICKS.length - 1))],
    )
    .join('')
}

/** `value` as a bar of up to `width` cells, in eighths, padded to `width`. */
export function bar(value: number, max: number, width = 10): string {
  if (!(max > 0) || !(value > 0)) return ' '.repeat(width)
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8))
  return ('█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]).padEnd(width)
}

/** Whether to draw: stdout is a terminal and the output is not JSON. */
export function drawsPictures(json: boolean): boolean {
  return !json && process.stdout.isTTY === true && !process.env.NO_SPARKLINES
}
