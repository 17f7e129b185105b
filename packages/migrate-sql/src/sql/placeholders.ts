/** `${NAME}` substitution that remembers where each piece came from, so errors point into the file. */
export interface Substituted {
  text: string
  /** Maps a character offset in `text` back to the original text. */
  toOriginal(offset: number): number
  /** Placeholders used but not configured, with their offsets in the original text. */
  unknown: Array<{ name: string; offset: number }>
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export function substitutePlaceholders(
  text: string,
  values: Readonly<Record<string, string>>,
): Substituted {
  if (!text.includes('${')) return { text, toOriginal: (o) => o, unknown: [] }
  // Segment boundaries, in increasing order: offsets in the output and the matching ones in the original.
  const outAt: number[] = [0]
  const originalAt: number[] = [0]
  const unknown: Substituted['unknown'] = []
  const parts: string[] = []
  let length = 0
  let last = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!
    const at = match.index!
    const value = values[name]
    if (value === undefined) {
      unknown.push({ name, offset: at })
      continue
    }
    parts.push(text.slice(last, at))
    length += at - last
    outAt.push(length)
    originalAt.push(at)
    parts.push(value)
    length += value.length
    last = at + match[0].length
    outAt.push(length)
    originalAt.push(last)
  }
  parts.push(text.slice(last))
  return {
    text: parts.join(''),
    unknown,
    toOriginal(offset) {
      // The last boundary at or before `offset` (a binary search: a data file may use thousands of placeholders).
      let lo = 0
      let hi = outAt.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (outAt[mid]! <= offset) lo = mid
        else hi = mid - 1
      }
      return originalAt[lo]! + (offset - outAt[lo]!)
    },
  }
}
