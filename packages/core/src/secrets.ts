import type { ResolvedConfig } from './config/resolve.ts'
/** Key names whose values are secrets wherever they appear in a config or a report. */
const SECRET_KEY =
  /pass(word)?|secret|token|credential|identity|private|api[-_]?key|access[-_]?key|webhook|authorization|cookie|session[-_]?key|^ping$/i

export const REDACTED = '[redacted]'

/** `postgres://user:pw@host/db` -> `postgres://user:[redacted]@host/db`; other strings unchanged. */
export function redactUrl(value: string): string {
  return value.replace(
    /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]*)@/gi,
    (_m, head: string, pw: string) => (pw ? `${head}${REDACTED}@` : `${head}@`),
  )
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** A secret value as shown: an http(s) URL (a webhook, a ping) keeps its scheme and host. */
function redactSecretValue(value: unknown): string {
  return typeof value === 'string' && /^https?:\/\//i.test(value) ? redactEndpoint(value) : REDACTED
}

export const CIRCULAR = '[circular]'
const MAX_DEPTH = 64

/**
 * A deep copy of `value` with secret keys replaced and URL passwords removed, that
 * JSON.stringify can always print: a reference back to an enclosing object becomes
 * `[circular]` (a part shared by two branches is copied twice), bigints become strings,
 * Maps and Sets plain objects and arrays, binary data its size.
 */
export function redact(value: unknown, key = '', ancestors: object[] = []): unknown {
  if (value === undefined || value === null) return value
  if (typeof value === 'string')
    return key && isSecretKey(key) && value !== '' ? redactSecretValue(value) : redactUrl(value)
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'function') return '[function]'
  if (typeof value === 'symbol') return value.toString()
  if (typeof value !== 'object') return value
  if (ancestors.includes(value)) return CIRCULAR
  if (ancestors.length >= MAX_DEPTH) return '[too deep]'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return `[${value.byteLength} bytes]`
  const inner = [...ancestors, value]
  if (Array.isArray(value)) return value.map((item) => redact(item, key, inner))
  if (value instanceof Set) return [...value].map((item) => redact(item, key, inner))
  const entries =
    value instanceof Map
      ? [...value].map(([k, v]) => [String(k), v] as const)
      : Object.entries(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries)
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null && typeof v !== 'object'
        ? redactSecretValue(v)
        : redact(v, k, inner)
  return out
}

/**
 * How a person sees a webhook or ping URL: `https://hooks.slack.com/[redacted]`. Scheme and
 * host say which service it is; the path and query go because that is where such services
 * put the token (Slack's /services/T0/B0/<token>, healthchecks.io's /<uuid>, ?token=), and
 * any user name or password goes too.
 */
export function redactEndpoint(url: string): string {
  try {
    const u = new URL(url)
    const rest = (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash
    return `${u.protocol}//${u.host}${rest ? `/${REDACTED}` : ''}`
  } catch {
    return REDACTED
  }
}

/**
 * Removes every known secret string from a text (error messages, child process output)
 * before it is printed. Secrets shorter than 4 characters are left alone: replacing them
 * would mangle ordinary words and they are not worth hiding. A secret that is an http(s)
 * URL is also found as it is re-spelled on the way (normalised by `new URL`, with its
 * userinfo redacted, with `/start` added by a ping) by removing its path and query
 * wherever they appear.
 */
export function scrub(text: string, secrets: Iterable<string | undefined>): string {
  const replacements: [string, string][] = []
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue
    replacements.push(...urlSecretForms(secret))
    replacements.push([secret, REDACTED])
  }
  // Longest first: a URL is replaced whole before its path alone would be.
  replacements.sort((a, b) => b[0].length - a[0].length)
  let out = text
  for (const [needle, replacement] of replacements)
    if (out.includes(needle)) out = out.split(needle).join(replacement)
  return redactUrl(out)
}

/** The spellings of a secret http(s) URL and what each becomes; none for other secrets. */
function urlSecretForms(secret: string): [string, string][] {
  let u: URL
  try {
    u = new URL(secret)
  } catch {
    return []
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return []
  const shown = redactEndpoint(secret)
  const forms: [string, string][] = [secret, u.href, redactUrl(secret), redactUrl(u.href)].map(
    (form) => [form, shown],
  )
  const pieces = new Set([
    u.pathname,
    safeDecode(u.pathname),
    u.search.slice(1),
    safeDecode(u.search.slice(1)),
    u.hash.slice(1),
    u.password,
    safeDecode(u.password),
  ])
  for (const piece of pieces)
    if (piece.length >= 4 && piece !== '/')
      forms.push([piece, piece.startsWith('/') ? `/${REDACTED}` : REDACTED])
  return forms
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Every secret value of the config, to scrub from every output: string values under
 * secret-looking keys anywhere in it (plugin and storage options included), passwords inside
 * URLs, and schedule ping URLs.
 */
export function collectSecrets(config: ResolvedConfig): string[] {
  const out: string[] = []
  const walk = (value: unknown, key: string, depth: number) => {
    if (depth > 8 || value === null || value === undefined) return
    if (typeof value === 'string') {
      if (isSecretKey(key) && value.length >= 4) out.push(value)
      const password = /^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/i.exec(value)?.[1]
      if (password) out.push(password, decodeURIComponent(password))
      return
    }
    if (Array.isArray(value)) {
      for (const v of value) walk(v, key, depth + 1)
      return
    }
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k, depth + 1)
  }
  walk(config.connection, 'connection', 0)
  walk(config.pluginOptions, '', 0)
  walk(config.notify, 'notify', 0)
  walk(config.storageOptions, '', 0)
  for (const s of Object.values(config.schedules)) if (s.ping) out.push(s.ping)
  return [...new Set(out.filter((s) => s.length >= 4))]
}
