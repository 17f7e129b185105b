import { sleep } from '../db/lock.ts'
import { messageOf } from '../errors.ts'

export interface SendOptions {
  method?: 'POST' | 'GET'
  body?: unknown
  /** Waits between attempts; one attempt more than entries. */
  retryDelaysMs?: number[]
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Sends one HTTP request, retried with backoff on network errors and non-2xx answers.
 * Never throws: returns what went wrong so the caller can log it (without the URL).
 */
export async function sendWithRetry(
  url: string,
  options: SendOptions = {},
): Promise<{ ok: true; attempts: number } | { ok: false; attempts: number; reason: string }> {
  const delays = options.retryDelaysMs ?? [1000, 4000]
  let reason = ''
  for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
    try {
      const signal = AbortSignal.any([
        AbortSignal.timeout(options.timeoutMs ?? 10_000),
        ...(options.signal ? [options.signal] : []),
      ])
      const response = await fetch(url, {
        method: options.method ?? 'POST',
        headers:
          options.body === undefined
            ? {}
            : { 'content-type': 'application/json', 'user-agent': 'dbops' },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      })
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) return { ok: true, attempts: attempt }
      reason = `HTTP ${response.status}`
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause
      reason = cause?.code ?? messageOf(error)
    }
    if (options.signal?.aborted) break
    const wait = delays[attempt - 1]
    if (wait === undefined) break
    await sleep(wait, options.signal).catch(() => {})
  }
  return { ok: false, attempts: delays.length + 1, reason }
}
