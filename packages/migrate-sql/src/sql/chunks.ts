/**
 * Where a long script can be cut into pieces for the parser: after a semicolon that ends a
 * statement, found the way psql finds it (psqlscan.l) — outside quotes, comments, dollar
 * quotes and parentheses, and outside the BEGIN … END body of a CREATE FUNCTION/PROCEDURE
 * … BEGIN ATOMIC. One linear pass.
 *
 * The parser stays the authority on statements: it parses each piece, and a cut that was
 * wrong (a heuristic miss) shows as a syntax error at the end of a piece, which the caller
 * answers by parsing a longer piece.
 */
export function chunkEnds(text: string, targetLength: number): number[] {
  const ends: number[] = []
  const n = text.length
  let lastCut = 0
  let parenDepth = 0
  let beginDepth = 0
  // psql's identifiers[]: the first letters of CREATE [OR REPLACE] FUNCTION|PROCEDURE, by position.
  let words = 0
  let first = ''
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    const next = i + 1 < n ? text.charCodeAt(i + 1) : -1
    if (c === MINUS && next === MINUS) {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? n : nl + 1
    } else if (c === SLASH && next === STAR) {
      i = blockCommentEnd(text, i)
    } else if (c === QUOTE) {
      i = quotedEnd(text, i + 1, QUOTE, false)
    } else if (c === DOUBLE_QUOTE) {
      i = quotedEnd(text, i + 1, DOUBLE_QUOTE, false) // psql counts only unquoted words
    } else if (c === DOLLAR) {
      const tagEnd = dollarTagEnd(text, i)
      if (tagEnd === -1) {
        i++ // a parameter ($1) or a stray $
        while (i < n && isDigit(text.charCodeAt(i))) i++
      } else {
        const close = text.indexOf(text.slice(i, tagEnd), tagEnd)
        i = close === -1 ? n : close + (tagEnd - i)
      }
    } else if (isIdentStart(c)) {
      const start = i
      while (i < n && isIdentPart(text.charCodeAt(i))) i++
      if (
        i - start === 1 &&
        (c === UPPER_E || c === LOWER_E) &&
        i < n &&
        text.charCodeAt(i) === QUOTE
      ) {
        i = quotedEnd(text, i + 1, QUOTE, true) // E'…': backslash escapes
        continue
      }
      const word = i - start <= 9 ? text.slice(start, i).toLowerCase() : ''
      if (
        words < 4 &&
        (word === 'create' ||
          word === 'or' ||
          word === 'replace' ||
          word === 'function' ||
          word === 'procedure')
      )
        first += word[0]
      else if (words < 4) first += '.'
      words++
      if (parenDepth === 0 && ROUTINE.test(first)) {
        if (word === 'begin') beginDepth++
        else if (word === 'case' && beginDepth > 0) beginDepth++
        else if (word === 'end' && beginDepth > 0) beginDepth--
      }
    } else if (isDigit(c)) {
      while (i < n && (isIdentPart(text.charCodeAt(i)) || text.charCodeAt(i) === DOT)) i++
    } else {
      if (c === OPEN) parenDepth++
      else if (c === CLOSE && parenDepth > 0) parenDepth--
      else if (c === SEMICOLON && parenDepth === 0 && beginDepth === 0) {
        words = 0
        first = ''
        if (i + 1 - lastCut >= targetLength) {
          lastCut = i + 1
          ends.push(lastCut)
        }
      }
      i++
    }
  }
  return ends
}

/** CREATE FUNCTION, CREATE PROCEDURE, CREATE OR REPLACE FUNCTION|PROCEDURE, as psql recognises them. */
const ROUTINE = /^c(f|p|orf|orp)/

function blockCommentEnd(text: string, i: number): number {
  let depth = 0
  const n = text.length
  while (i < n) {
    const a = text.charCodeAt(i)
    const b = i + 1 < n ? text.charCodeAt(i + 1) : -1
    if (a === SLASH && b === STAR) {
      depth++
      i += 2
    } else if (a === STAR && b === SLASH) {
      i += 2
      if (--depth === 0) return i
    } else i++
  }
  return n
}

/** End of a '…' or "…" body starting at `i` (after the opening quote); a doubled quote is part of it. */
function quotedEnd(text: string, i: number, quote: number, backslashes: boolean): number {
  const n = text.length
  while (i < n) {
    const a = text.charCodeAt(i)
    if (backslashes && a === BACKSLASH) i += 2
    else if (a === quote) {
      if (i + 1 < n && text.charCodeAt(i + 1) === quote) i += 2
      else return i + 1
    } else i++
  }
  return n
}

/** End of a `$tag$` opening at `i`, or -1 (psql: the tag is letters, digits, _ and non-ASCII, not starting with a digit). */
function dollarTagEnd(text: string, i: number): number {
  let j = i + 1
  const n = text.length
  if (j < n && isIdentStart(text.charCodeAt(j))) {
    j++
    while (j < n && isTagPart(text.charCodeAt(j))) j++
  }
  return j < n && text.charCodeAt(j) === DOLLAR ? j + 1 : -1
}

const MINUS = 45,
  SLASH = 47,
  STAR = 42,
  QUOTE = 39,
  DOUBLE_QUOTE = 34,
  BACKSLASH = 92,
  DOLLAR = 36
const OPEN = 40,
  CLOSE = 41,
  SEMICOLON = 59,
  DOT = 46,
  UPPER_E = 69,
  LOWER_E = 101,
  UNDERSCORE = 95

const isDigit = (code: number) => code >= 48 && code <= 57
const isIdentStart = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === UNDERSCORE || code > 127
const isTagPart = (code: number) => isIdentStart(code) || isDigit(code)
const isIdentPart = (code: number) => isTagPart(code) || code === DOLLAR
