import type { z } from 'zod'
import { closest } from './closest.ts'

/** `pool.max: expected a number` lines from a zod error, prefixed with where they are. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: PropertyKey[] = [],
  schema?: z.ZodType,
): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeys(schema, issue.path) : []
      return issue.keys.map((key) => {
        const near = closest(key, known)
        return `${pathText([...path, key])}: unknown key${near ? ` (did you mean '${near}'?)` : ''}`
      })
    }
    // A value no alternative accepts: when only one alternative got past the value's type, its
    // problems are what the user meant to fix; otherwise the union's own sentence says what fits.
    if (issue.code === 'invalid_union') {
      const near = issue.errors.filter((branch) => !branch.some(isWrongTypeAtRoot))
      if (near.length === 1) return formatIssues(near[0]!, path)
    }
    return [`${pathText(path)}: ${sentence(issue)}`]
  })
}

/** `pipelines.nightly[2].task`: keys joined by dots, array positions in brackets. */
function pathText(path: readonly PropertyKey[]): string {
  const text = path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('')
  return text || '(config)'
}

function isWrongTypeAtRoot(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0
}

/** zod's message, in the words a config author reads ("expected a whole number"). */
function sentence(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.message.includes('received undefined')) return 'required'
    if (issue.expected === 'int') return 'expected a whole number'
    if (issue.expected === 'number') return 'expected a number'
    return issue.message.replace(/^Invalid input: /, '')
  }
  if (issue.code === 'too_small' && issue.message.startsWith('Too small')) {
    if (issue.origin === 'array' || issue.origin === 'string')
      return Number(issue.minimum) <= 1 ? 'must not be empty' : `needs at least ${issue.minimum}`
    return issue.inclusive === false
      ? `must be more than ${issue.minimum}`
      : `must be at least ${issue.minimum}`
  }
  if (issue.code === 'too_big' && issue.message.startsWith('Too big'))
    return issue.inclusive === false
      ? `must be less than ${issue.maximum}`
      : `must be at most ${issue.maximum}`
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option'))
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input')
    return 'not one of the accepted forms'
  return issue.message
}

/** The keys an object schema accepts at `path`, unwrapping optional/default/pipe wrappers. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema
  for (const segment of [...path, null]) {
    node = unwrap(node)
    const def = (
      node as {
        def?: {
          type?: string
          shape?: Record<string, unknown>
          valueType?: unknown
          element?: unknown
        }
      }
    ).def
    if (segment === null) return def?.shape ? Object.keys(def.shape) : []
    if (def?.shape) node = def.shape[String(segment)]
    else if (def?.valueType) node = def.valueType
    else if (def?.element) node = def.element
    else return []
  }
  return []
}

function unwrap(node: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = (
      node as
        | {
            def?: {
              type?: string
              innerType?: unknown
              in?: unknown
              schema?: unknown
              options?: unknown[]
            }
          }
        | undefined
    )?.def
    if (!def) return node
    if (def.innerType) node = def.innerType
    else if (def.type === 'pipe' && def.in) node = def.in
    else if (def.type === 'union' && def.options)
      node = def.options.find((o) => (o as { def?: { shape?: unknown } }).def?.shape) ?? node
    else return node
    if (def.type === 'union') return node
  }
  return node
}
