/** Key names whose values are secrets wherever they appear in a config or a report. */
const SECRET_KEY = /pass(word)?|secret|token|credential|identity|private|api[-_]?key|access[-_]?key|webhook|authorization|cookie|session[-_]?key|^ping$/i

export const REDACTED = '[redacted]'

/** `postgres://user:pw@host/db` -> `postgres://user:[redacted]@host/db`; other strings unchanged. */
export function redactUrl(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]*)@/gi, (_m, head: string, pw: string) => (pw ? `${head}${REDACTED}@` : `${head}@`))
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** A deep copy of `value` with secret keys replaced and URL passwords removed. */
export function redact(value: unknown, key = ''): unknown {
  if (value === undefined || value === null) return value
  if (typeof value === 'string') return key && isSecretKey(key) && value !== '' ? REDACTED : redactUrl(value)
  if (Array.isArray(value)) return value.map((item) => redact(item, key))
  if (typeof value === 'function') return '[function]'
  if (typeof value === 'object') {
    if (value instanceof Date) return value.toISOString()
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== undefined && typeof v !== 'object' ? REDACTED : redact(v, k)
    return out
  }
  return value
}

/**
 * Removes every known secret string from a text (error messages, child process output)
 * before it is printed. Secrets shorter than 4 characters are left alone: replacing them
 * would mangle ordinary words and they are not worth hiding.
 */
export function scrub(text: string, secrets: Iterable<string | undefined>): string {
  let out = redactUrl(text)
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED)
  }
  return out
}
