/**
 * The token stream of a SQL script for checksums, in plain JavaScript (no WebAssembly call
 * per file): comments and whitespace dropped, string literals ('…', E'…', U&'…', $tag$…$tag$),
 * quoted identifiers and every other token kept verbatim. Words (identifiers, keywords,
 * numbers) and runs of operator characters are single tokens, so `a->>b` and `a - >> b`
 * differ while `t(id int)` and `t ( id  int )` do not.
 *
 * Applied files' checksums in existing ledgers are this stream's: its output must never
 * change, only how fast it is produced.
 */
export function sqlTokens(text: string): string[] {
  const tokens: string[] = []
  scanTokens(text, 0, text.length, (t) => tokens.push(t))
  return tokens
}

/**
 * Emits the tokens that start at or after `from` and before `until`, and returns where the
 * scan stopped (the end of the last token it read). Tokens are independent of each other,
 * so a long script can be scanned in slices with the same result as in one go.
 */
export function scanTokens(
  text: string,
  from: number,
  until: number,
  emit: (token: string) => void,
): number {
  const n = text.length
  let i = from
  while (i < until && i < n) {
    const c = text.charCodeAt(i)
    const next = i + 1 < n ? text.charCodeAt(i + 1) : -1
    if (c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT) {
      i++
    } else if (c === MINUS && next === MINUS) {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? n : nl + 1
    } else if (c === SLASH && next === STAR) {
      let depth = 0
      while (i < n) {
        const a = text.charCodeAt(i)
        const b = i + 1 < n ? text.charCodeAt(i + 1) : -1
        if (a === SLASH && b === STAR) {
          depth++
          i += 2
        } else if (a === STAR && b === SLASH) {
          i += 2
          if (--depth === 0) break
        } else i++
      }
    } else if (c === QUOTE || ((c === UPPER_E || c === LOWER_E) && next === QUOTE)) {
      const start = i
      const backslashes = c !== QUOTE
      i += backslashes ? 2 : 1
      while (i < n) {
        const a = text.charCodeAt(i)
        if (backslashes && a === BACKSLASH) i += 2
        else if (a === QUOTE) {
          if (i + 1 < n && text.charCodeAt(i + 1) === QUOTE) i += 2
          else {
            i++
            break
          }
        } else i++
      }
      emit(text.slice(start, i))
    } else if (c === DOUBLE_QUOTE) {
      const start = i++
      while (i < n) {
        if (text.charCodeAt(i) === DOUBLE_QUOTE) {
          if (i + 1 < n && text.charCodeAt(i + 1) === DOUBLE_QUOTE) i += 2
          else {
            i++
            break
          }
        } else i++
      }
      emit(text.slice(start, i))
    } else if (c === DOLLAR && dollarTagEnd(text, i) !== -1) {
      const tagEnd = dollarTagEnd(text, i)
      const tag = text.slice(i, tagEnd)
      const end = text.indexOf(tag, tagEnd)
      const stop = end === -1 ? n : end + tag.length
      emit(text.slice(i, stop))
      i = stop
    } else if (isWord(c)) {
      const start = i
      while (i < n && isWord(text.charCodeAt(i))) i++
      // U&'…' and U&"…": the prefix belongs to the literal
      emit(text.slice(start, i))
    } else if (c === COLON && (next === COLON || next === EQUALS)) {
      emit(text.slice(i, i + 2))
      i += 2
    } else if (isOperator(c)) {
      const start = i
      while (i < n) {
        const a = text.charCodeAt(i)
        const b = i + 1 < n ? text.charCodeAt(i + 1) : -1
        if (!isOperator(a) || (a === MINUS && b === MINUS) || (a === SLASH && b === STAR)) break
        i++
      }
      emit(text.slice(start, i))
    } else {
      emit(text[i]!)
      i++
    }
  }
  return i
}

/**
 * End of a `$tag$` (or `$$`) opening at `i`, or -1. The tag is ASCII letters, digits and `_`,
 * not starting with a digit, and the whole delimiter is at most 64 characters long.
 */
function dollarTagEnd(text: string, i: number): number {
  let j = i + 1
  const limit = Math.min(text.length, i + 64)
  if (j < limit && isTagStart(text.charCodeAt(j))) {
    j++
    while (j < limit && isTagPart(text.charCodeAt(j))) j++
  }
  return j < limit && text.charCodeAt(j) === DOLLAR ? j + 1 : -1
}

const SPACE = 32,
  TAB = 9,
  LF = 10,
  CR = 13,
  FF = 12,
  VT = 11
const MINUS = 45,
  SLASH = 47,
  STAR = 42,
  QUOTE = 39,
  DOUBLE_QUOTE = 34,
  BACKSLASH = 92,
  DOLLAR = 36,
  COLON = 58,
  EQUALS = 61
const UPPER_E = 69,
  LOWER_E = 101,
  UNDERSCORE = 95

/** `+-*\/<>=~!@#%^&|\`?` */
const OPERATORS = new Set([...'+-*/<>=~!@#%^&|`?'].map((c) => c.charCodeAt(0)))
const isOperator = (code: number) => OPERATORS.has(code)

function isWord(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === UNDERSCORE ||
    code === DOLLAR ||
    code > 127
  )
}
const isTagStart = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === UNDERSCORE
const isTagPart = (code: number) => isTagStart(code) || (code >= 48 && code <= 57)
