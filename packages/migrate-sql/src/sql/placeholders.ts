/** `${NAME}` substitution that remembers where each piece came from, so errors point into the file. */
export interface Substituted {
  text: string
  /** Maps a character offset in `text` back to the original text. */
  toOriginal(offset: number): number
  /** Placeholders used but not configured, with their offsets in the original text. */
  unknown: Array<{ name: string; offset: number }>
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export function substitutePlaceholders(text: string, values: Readonly<Record<string, string>>): Substituted {
  if (!text.includes('${')) return { text, toOriginal: (o) => o, unknown: [] }
  // Segments: [offset in output, offset in original] at each boundary.
  const segments: Array<[number, number]> = [[0, 0]]
  const unknown: Substituted['unknown'] = []
  let out = ''
  let last = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!
    const at = match.index!
    const value = values[name]
    if (value === undefined) {
      unknown.push({ name, offset: at })
      continue
    }
    out += text.slice(last, at)
    segments.push([out.length, at])
    out += value
    last = at + match[0].length
    segments.push([out.length, last])
  }
  out += text.slice(last)
  return {
    text: out,
    unknown,
    toOriginal(offset) {
      let base: [number, number] = [0, 0]
      for (const s of segments) if (s[0] <= offset) base = s
      return base[1] + (offset - base[0])
    },
  }
}
