/** Exit codes of the CLI, as documented in the README. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

/**
 * An error a user can act on: a sentence saying what happened, an optional hint saying
 * what to do, a stable code and the exit code the CLI ends with. Printed without a stack.
 */
const BRAND = Symbol.for('dbops.error')

export class DbopsError extends Error {
  /**
   * `instanceof` works across copies of this module (a config loaded in an isolated
   * module graph throws errors of its own copy): the brand, not the prototype, decides.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about; a subclass keeps the usual prototype check
    if (this !== DbopsError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    )
  }
  readonly [BRAND] = true
  readonly code: string
  readonly hint: string | undefined
  readonly exitCode: number

  constructor(
    code: string,
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.name = 'DbopsError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode ?? ExitCode.failed
  }
}

/** A problem with the config or the command line: exit code 2, nothing touched. */
export class ConfigError extends DbopsError {
  readonly problems: string[]
  constructor(problems: string[], intro = 'The dbops config is not valid') {
    super('CONFIG_INVALID', `${intro}:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
      exitCode: ExitCode.usage,
    })
    this.problems = problems
  }
}

export class UsageError extends DbopsError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, { hint, exitCode: ExitCode.usage })
  }
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR')
  )
}

/** The message of any thrown value, for places that must print something. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
