import { createHash } from 'node:crypto'
import { sqlTokens } from './tokens.ts'

/**
 * The real PostgreSQL parser (libpg_query, compiled to WebAssembly) behind a small API in
 * characters, not bytes: libpg_query reports byte offsets into UTF-8, JavaScript strings
 * count UTF-16 units.
 */
let ready: Promise<void> | undefined
let lib: typeof import('libpg-query') | undefined
/** Loads the WebAssembly parser once; imported lazily so commands that never parse never pay for it. */
export function loadParser(): Promise<void> {
  ready ??= import('libpg-query').then(async (m) => {
    await m.loadModule()
    lib = m
  })
  return ready
}

function parseSync(text: string): unknown {
  if (!lib) throw new Error('the SQL parser is not loaded: await loadParser() first')
  return lib.parseSync(text)
}

export interface Statement {
  /** The statement's text, without the trailing semicolon. */
  sql: string
  /** Character offset of its first token in the parsed text. */
  start: number
  /** The parse tree node: `{ IndexStmt: {...} }` etc. */
  node: Record<string, any>
  /** The node's type name: `IndexStmt`, `AlterTableStmt`, ... */
  type: string
}

export class SqlSyntaxError extends Error {
  /** Character offset in the parsed text. */
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
  }
}


/** Byte-offset → character-offset translation for one text (cheap for pure ASCII). */
function byteMapper(text: string): (byteOffset: number) => number {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length === text.length) return (b) => b
  return (b) => bytes.subarray(0, b).toString('utf8').length
}

/** Splits a script into statements with the PostgreSQL grammar (dollar quotes, comments, strings, BEGIN ATOMIC). */
export function splitStatements(text: string): Statement[] {
  let tree: { stmts?: Array<{ stmt: Record<string, any>; stmt_location?: number; stmt_len?: number }> }
  try {
    tree = parseSync(text) as typeof tree
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
    const toChar = byteMapper(text)
    throw new SqlSyntaxError((error as Error).message, toChar(Math.max(0, details?.cursorPosition ?? 0)))
  }
  const stmts = tree.stmts ?? []
  if (stmts.length === 0) return []
  const bytes = Buffer.from(text, 'utf8')
  const out: Statement[] = []
  for (const s of stmts) {
    const from = s.stmt_location ?? 0
    const to = s.stmt_len ? from + s.stmt_len : bytes.length
    const raw = bytes.subarray(from, to).toString('utf8')
    // The statement starts at its first real token: skip the whitespace and comments before it.
    const lead = leadingTrivia(raw)
    const sql = raw.slice(lead).replace(/[\s;]+$/, '')
    const type = Object.keys(s.stmt)[0] ?? 'Unknown'
    const startChar = (bytes.length === text.length ? from : bytes.subarray(0, from).toString('utf8').length) + lead
    out.push({ sql, start: startChar, node: s.stmt, type })
  }
  return out
}

/** Length of the whitespace and comments (`--`, nested block comments) at the start of `text`. */
function leadingTrivia(text: string): number {
  let i = 0
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? text.length : nl + 1
    } else if (text.startsWith('/*', i)) {
      let depth = 0
      while (i < text.length) {
        if (text.startsWith('/*', i)) (depth++, (i += 2))
        else if (text.startsWith('*/', i)) {
          depth--
          i += 2
          if (depth === 0) break
        } else i++
      }
    } else return i
  }
}

/**
 * sha256 of the script's token stream (see tokens.ts): comments and whitespace outside
 * literals do not count, every other character does.
 */
export function tokenChecksum(text: string, extra = ''): string {
  const hash = createHash('sha256')
  for (const t of sqlTokens(text)) hash.update(t).update('\u0000')
  if (extra) hash.update('\u0001').update(extra)
  return hash.digest('hex')
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}
