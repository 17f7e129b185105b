import { isUtf8 } from 'node:buffer'

/** A file whose bytes are not text in its encoding: where, in the file's own terms. */
export interface EncodingProblem {
  line: number
  column: number
  message: string
}

export interface DecodedText {
  text: string
  /** Set when the bytes could not be decoded; `text` is then a lossy reading, never to be run. */
  problem?: EncodingProblem
}

/**
 * `-- dbops:encoding <name>` on a line of its own declares a file's encoding. Matched on the
 * raw bytes, so only encodings that write ASCII as ASCII can declare themselves (Latin-1,
 * Windows-125x, ISO-8859-x, KOI8, Shift_JIS, EUC, GBK, Big5; not UTF-16).
 */
const ENCODING_DIRECTIVE = /^[ \t]*--[ \t]*dbops:encoding[ \t]+([A-Za-z0-9_.:-]+)[ \t]*\r?$/m

/**
 * Decodes a migration file. UTF-8 (a leading BOM dropped) unless the file declares another
 * encoding. Invalid bytes are not replaced: psql would refuse the file ("invalid byte
 * sequence"), and running a U+FFFD in place of a letter would store wrong data.
 */
export function decodeMigration(raw: Buffer): DecodedText {
  const declared = findDirective(raw)
  const name = declared?.[1]?.toLowerCase()
  if (!name || name === 'utf8' || name === 'utf-8') {
    if (isUtf8(raw)) return { text: stripBom(raw.toString('utf8')) }
    return { text: raw.toString('utf8'), problem: firstInvalidUtf8(raw) }
  }
  const at = directivePosition(raw, declared!.index)
  // ISO-8859-1 exactly, as PostgreSQL's LATIN1 (TextDecoder's "latin1" is Windows-1252).
  if (name === 'latin1' || name === 'iso-8859-1' || name === 'iso8859-1')
    return { text: raw.toString('latin1') }
  let decoder: InstanceType<typeof TextDecoder>
  try {
    decoder = new TextDecoder(name, { fatal: true })
  } catch {
    return {
      text: raw.toString('latin1'),
      problem: {
        ...at,
        message: `unknown encoding '${declared![1]}' in its -- dbops:encoding line (use utf8, latin1, windows-1252, iso-8859-15, koi8-r, shift_jis, euc-jp, gbk, big5, …)`,
      },
    }
  }
  try {
    return { text: decoder.decode(raw) }
  } catch {
    return { text: raw.toString('latin1'), problem: firstUndecodableLine(raw, name) }
  }
}

/** The directive's match, with `index` its line's offset: looked for in the bytes, without a second copy of a large file as text. */
function findDirective(raw: Buffer): RegExpExecArray | undefined {
  for (
    let at = raw.indexOf('dbops:encoding');
    at !== -1;
    at = raw.indexOf('dbops:encoding', at + 1)
  ) {
    const start = raw.lastIndexOf(10, at) + 1
    const nl = raw.indexOf(10, at)
    const line = raw.subarray(start, nl === -1 ? raw.length : nl).toString('latin1')
    const match = ENCODING_DIRECTIVE.exec(line)
    if (match) return Object.assign(match, { index: start })
  }
  return undefined
}

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

/** Line and column of the directive's `--` (`index`: where its line starts). */
function directivePosition(raw: Buffer, index: number): { line: number; column: number } {
  let line = 1
  for (let i = raw.indexOf(10); i !== -1 && i < index; i = raw.indexOf(10, i + 1)) line++
  let column = 1
  while (raw[index + column - 1] === 0x20 || raw[index + column - 1] === 0x09) column++
  return { line, column }
}

/** The first byte that does not start or continue a valid UTF-8 sequence, as line:column (columns count characters). */
function firstInvalidUtf8(raw: Buffer): EncodingProblem {
  const bad = invalidUtf8Offset(raw)
  let lineStart = 0
  let line = 1
  for (let i = raw.indexOf(10); i !== -1 && i < bad; i = raw.indexOf(10, i + 1)) {
    line++
    lineStart = i + 1
  }
  const before = raw.subarray(lineStart, bad).toString('utf8')
  const skip = line === 1 && before.charCodeAt(0) === 0xfeff ? 1 : 0
  return {
    line,
    column: before.length - skip + 1,
    message: `the file is not valid UTF-8 (byte 0x${raw[bad]!.toString(16).toUpperCase().padStart(2, '0')})`,
  }
}

/** Offset of the first invalid UTF-8 byte (the file is known not to be valid UTF-8). */
function invalidUtf8Offset(raw: Buffer): number {
  let i = 0
  while (i < raw.length) {
    const b = raw[i]!
    const length =
      b < 0x80
        ? 1
        : b >= 0xc2 && b <= 0xdf
          ? 2
          : b >= 0xe0 && b <= 0xef
            ? 3
            : b >= 0xf0 && b <= 0xf4
              ? 4
              : 0
    if (length === 0 || i + length > raw.length) return i
    for (let k = 1; k < length; k++) {
      const c = raw[i + k]!
      const lo = k === 1 && b === 0xe0 ? 0xa0 : k === 1 && b === 0xf0 ? 0x90 : 0x80
      const hi = k === 1 && b === 0xed ? 0x9f : k === 1 && b === 0xf4 ? 0x8f : 0xbf
      if (c < lo || c > hi) return i
    }
    i += length
  }
  return raw.length - 1
}

/**
 * The first line that does not decode in the declared encoding. Lines are split on the LF
 * byte, which no ASCII-compatible encoding uses inside a character.
 */
function firstUndecodableLine(raw: Buffer, encoding: string): EncodingProblem {
  const decoder = new TextDecoder(encoding, { fatal: true })
  let line = 1
  for (let start = 0; start < raw.length; line++) {
    const nl = raw.indexOf(10, start)
    const end = nl === -1 ? raw.length : nl + 1
    try {
      decoder.decode(raw.subarray(start, end))
    } catch {
      return {
        line,
        column: 1,
        message: `the file is not valid ${encoding}, the encoding it declares`,
      }
    }
    start = end
  }
  return {
    line: 1,
    column: 1,
    message: `the file is not valid ${encoding}, the encoding it declares`,
  }
}
