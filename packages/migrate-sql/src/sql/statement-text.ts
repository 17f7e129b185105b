// Where a statement's text starts and ends in the script the parser saw.

/**
 * Byte offset (UTF-8, as libpg_query reports them) → character offset in `text`, for offsets
 * asked in increasing order: one walk over the text in all.
 */
export function byteToChar(text: string): (byteOffset: number) => number {
  let char = 0
  let byte = 0
  return (target) => {
    while (byte < target && char < text.length) {
      const c = text.charCodeAt(char)
      if (c < 0x80) byte += 1
      else if (c < 0x800) byte += 2
      else if (c >= 0xd800 && c <= 0xdbff && char + 1 < text.length) {
        byte += 4
        char++
      } else byte += 3
      char++
    }
    return char
  }
}

/** Without the trailing whitespace and semicolons. */
export function trimEnd(sql: string): string {
  let end = sql.length
  while (end > 0 && (sql[end - 1] === ';' || /\s/.test(sql[end - 1]!))) end--
  return end === sql.length ? sql : sql.slice(0, end)
}

/** Length of the whitespace and comments (`--`, nested block comments) at the start of `text`. */
export function leadingTrivia(text: string): number {
  let i = 0
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? text.length : nl + 1
    } else if (text.startsWith('/*', i)) {
      let depth = 0
      while (i < text.length) {
        if (text.startsWith('/*', i)) {
          depth++
          i += 2
        } else if (text.startsWith('*/', i)) {
          depth--
          i += 2
          if (depth === 0) break
        } else i++
      }
    } else return i
  }
}
