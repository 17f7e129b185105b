import { DbopsError, ExitCode, isAbortError, messageOf } from '../errors.ts'
import { scrub } from '../secrets.ts'

/** Where command output goes; tests and `--json` rely on stdout holding only the result. */
export const out = (line = '') => process.stdout.write(`${line}\n`)
export const err = (line = '') => process.stderr.write(`${line}\n`)

/**
 * Prints an error for a person (a sentence and a hint; a stack only for internal errors
 * with DBOPS_DEBUG set) or, with --json, as a JSON document on stdout. Returns the exit code.
 */
export function reportError(
  error: unknown,
  options: { json: boolean; secrets?: string[] },
): number {
  const secrets = options.secrets ?? []
  const known = error instanceof DbopsError
  const exitCode = known
    ? error.exitCode
    : isAbortError(error)
      ? ExitCode.interrupted
      : ExitCode.failed
  const message = scrub(messageOf(error), secrets)
  const hint = known && error.hint ? scrub(error.hint, secrets) : undefined
  if (options.json) {
    out(
      JSON.stringify(
        {
          status: 'error',
          error: { code: known ? error.code : 'INTERNAL', message, ...(hint ? { hint } : {}) },
        },
        null,
        2,
      ),
    )
  } else {
    err(`dbops: ${message}`)
    if (hint) err(`  ${hint}`)
    if (!known && !isAbortError(error) && process.env.DBOPS_DEBUG)
      err(scrub(String((error as Error).stack), secrets))
  }
  return exitCode
}
