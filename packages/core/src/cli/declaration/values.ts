import { UsageError } from '../../errors.ts'
import { parseDuration } from '../../duration.ts'
import type { DurationFlag, FlagSpec, NumberFlag, StringFlag } from './types.ts'

/** `targetDb` is `--target-db`: flags are declared under the names `run` reads them by. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/** `a, b or c`, as the messages list choices and subcommands. */
export function orList(words: readonly string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`
}

export function stringValue(spec: StringFlag, text: string, name: string): string {
  if (spec.choices && !spec.choices.includes(text))
    throw new UsageError(`${name} must be ${orList(spec.choices)}, not '${text}'`)
  return text
}

export function durationValue(spec: DurationFlag, text: string, name: string): number {
  const ms = parseDuration(text, name)
  if (spec.min !== undefined && ms < parseDuration(spec.min, name))
    throw new UsageError(`${name} must be at least ${spec.min}`)
  return ms
}

export function numberValue(spec: NumberFlag, text: string, name: string): number {
  const n = text.trim() === '' ? Number.NaN : Number(text)
  const { min, max } = spec
  const fits =
    Number.isFinite(n) &&
    (!spec.integer || Number.isInteger(n)) &&
    (min === undefined || n >= min) &&
    (max === undefined || n <= max)
  if (fits) return n
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : ''
  throw new UsageError(
    `${name} must be ${spec.integer ? 'a whole number' : 'a number'}${range}, not '${text}'`,
  )
}

/** The value's name in the help and the messages: `<url>`, `<crontab|k8s>`, `<n>`. */
export function placeholderOf(key: string, spec: Exclude<FlagSpec, { type: 'boolean' }>): string {
  if (spec.placeholder) return spec.placeholder
  if (spec.type === 'string' && spec.choices) return spec.choices.join('|')
  return spec.type === 'number' ? 'n' : spec.type === 'duration' ? 'd' : flagName(key)
}
