import type { ParseResult } from 'libpg-query'
import { cooperate } from '../cooperate.ts'
import { chunkEnds } from './chunks.ts'
import type { AnyNode } from './nodes.ts'
import { byteToChar, leadingTrivia, trimEnd } from './statement-text.ts'

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

function parseSync(text: string): ParseResult {
  if (!lib) throw new Error('the SQL parser is not loaded: await loadParser() first')
  return lib.parseSync(text)
}

export interface Statement {
  /** The statement's text, without the trailing semicolon. */
  sql: string
  /** Character offset of its first token in the parsed text. */
  start: number
  /** The parse tree node: `{ IndexStmt: {...} }` etc. (`{ InsertStmt: {} }` for row statements split with `slim`). */
  node: AnyNode
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

export interface SplitOptions {
  /**
   * Keep only the type of row statements' parse trees (INSERT, UPDATE, DELETE, SELECT,
   * MERGE): nothing downstream reads them, and for a data file of 100k INSERTs the full trees
   * are most of the memory.
   */
  slim?: boolean
  /** Where to cut the text into parser pieces, instead of where chunks.ts would (for tests). */
  cuts?: number[]
}

/** Statement types whose parse tree `slim` drops. */
const ROW_STATEMENTS = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'SelectStmt',
  'MergeStmt',
])
/** Whether a statement type is a row statement (INSERT, UPDATE, DELETE, SELECT, MERGE). */
export const isRowStatement = (type: string) => ROW_STATEMENTS.has(type)
/** One shared, frozen `{ InsertStmt: {} }` per type. */
const SLIM_NODES = new Map<string, AnyNode>()
const slimNode = (type: string): AnyNode => {
  let node = SLIM_NODES.get(type)
  if (!node) {
    node = Object.freeze({ [type]: Object.freeze({}) })
    SLIM_NODES.set(type, node)
  }
  return node
}

/**
 * Characters per parser call. The parser's time and memory grow with its input (one call on
 * a 20 MB script builds a parse tree and its JSON of several hundred MB), so a long script is
 * parsed in pieces of about this size, cut between statements.
 */
const PIECE_CHARS = 64 * 1024

/** Splits a script into statements with the PostgreSQL grammar (dollar quotes, comments, strings, BEGIN ATOMIC). */
export function splitStatements(text: string, options: SplitOptions = {}): Statement[] {
  const out: Statement[] = []
  for (const piece of parsePieces(text, options)) for (const s of piece) out.push(s)
  return out
}

/** splitStatements, letting the event loop run between pieces (signals, timers) and honouring `signal`. */
export async function splitStatementsCooperatively(
  text: string,
  options: SplitOptions & { signal?: AbortSignal } = {},
): Promise<Statement[]> {
  const out: Statement[] = []
  for (const piece of parsePieces(text, options)) {
    for (const s of piece) out.push(s)
    await cooperate(options.signal)
  }
  return out
}

/**
 * The statements of `text`, a piece at a time. A syntax error at the end of a piece may be a
 * cut inside a statement that the psql-style scanner could not see (chunks.ts): the piece is
 * parsed again with more text after it, and only an error that stays where it was is real.
 */
function* parsePieces(text: string, options: SplitOptions): Generator<Statement[]> {
  const ends = options.cuts ? [...options.cuts] : chunkEnds(text, PIECE_CHARS)
  if (ends.at(-1) !== text.length) ends.push(text.length)
  let from = 0
  let k = 0
  while (k < ends.length) {
    let span = 1
    let previous: SqlSyntaxError | undefined
    let statements: Statement[]
    for (;;) {
      const last = Math.min(k + span, ends.length) - 1
      try {
        statements = parsePiece(text, from, ends[last]!, options)
        k = last + 1
        break
      } catch (error) {
        if (
          !(error instanceof SqlSyntaxError) ||
          last === ends.length - 1 ||
          previous?.offset === error.offset
        )
          throw error
        previous = error
        span *= 2
      }
    }
    yield statements
    from = ends[k - 1]!
  }
}

function parsePiece(text: string, from: number, to: number, options: SplitOptions): Statement[] {
  const piece = text.slice(from, to)
  if (!piece.trim()) return []
  let tree: ParseResult
  try {
    tree = parseSync(piece)
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
    throw new SqlSyntaxError(
      (error as Error).message,
      from + byteToChar(piece)(Math.max(0, details?.cursorPosition ?? 0)),
    )
  }
  const stmts = tree.stmts ?? []
  const bytes = Buffer.byteLength(piece)
  const toChar = bytes === piece.length ? (b: number) => b : byteToChar(piece)
  const out: Statement[] = []
  for (const s of stmts) {
    const fromByte = s.stmt_location ?? 0
    const start = toChar(fromByte)
    const raw = piece.slice(start, toChar(s.stmt_len ? fromByte + s.stmt_len : bytes))
    // The statement starts at its first real token: skip the whitespace and comments before it.
    const lead = leadingTrivia(raw)
    let type = 'Unknown'
    for (const key in s.stmt) {
      type = key
      break
    }
    out.push({
      sql: trimEnd(raw.slice(lead)),
      start: from + start + lead,
      node: options.slim && ROW_STATEMENTS.has(type) ? slimNode(type) : (s.stmt ?? {}),
      type,
    })
  }
  return out
}
