import type { z } from 'zod'
import { closest } from './closest.ts'

/** `pool.max: expected a number` lines from a zod error, prefixed with where they are. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
  schema?: z.ZodType,
): string[] {
  return issues
    .map((issue) => {
      const where = [...prefix, ...issue.path].map(String).join('.') || '(config)'
      if (issue.code === 'unrecognized_keys') {
        const known = schema ? knownKeys(schema, issue.path) : []
        return issue.keys
          .map((key) => {
            const near = closest(key, known)
            return `${[...prefix, ...issue.path, key].map(String).join('.')}: unknown key${near ? ` (did you mean '${near}'?)` : ''}`
          })
          .join('\n')
      }
      if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
        return `${where}: required`
      return `${where}: ${issue.message}`
    })
    .flatMap((line) => line.split('\n'))
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
