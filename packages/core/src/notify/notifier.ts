import { parseDuration } from '../duration.ts'
import type { NotifyConfig } from '../config/schema.ts'
import type { Logger } from '../logger.ts'
import { eventOf, jsonPayload, slackPayload, type NotifyEvent, type RunSummary } from './payload.ts'
import { redactEndpoint, scrub } from '../secrets.ts'
import { sendWithRetry } from './send.ts'

export type PingKind = 'start' | 'success' | 'failure'

export interface Notifier {
  /** Sends the run's event (failure, recovery, success) to every webhook that asked for it. */
  runFinished(run: RunSummary, previousStatus: string | undefined): void
  /** A dead-man's-switch ping of a schedule: URL/start, URL (success), URL/fail. */
  ping(url: string | undefined, kind: PingKind, run?: RunSummary): void
  /** Waits for notifications in flight, at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>
}

/** One delivery's outcome, for metrics: the endpoint by scheme and host only. */
export interface Delivery {
  endpoint: string
  kind: 'webhook' | 'ping'
  ok: boolean
}

/**
 * Notifications never block or fail a run: each is sent in the background, retried with
 * backoff, and a failure to deliver is logged — naming the endpoint by scheme and host only,
 * because webhook and ping URLs carry their token in the path or query, and with the URL
 * scrubbed from the reason too (fetch's own errors may quote it).
 */
export function createNotifier(options: {
  targets: NotifyConfig[]
  logger: Logger
  retryDelaysMs?: number[]
  onDelivery?: (delivery: Delivery) => void
}): Notifier {
  const pending = new Set<Promise<void>>()
  const track = (work: Promise<void>) => {
    pending.add(work)
    void work.finally(() => pending.delete(work))
  }
  const deliver = (
    kind: Delivery['kind'],
    url: string,
    secret: string,
    what: string,
    body: unknown,
  ) =>
    track(
      (async () => {
        const result = await sendWithRetry(url, {
          body,
          method: 'POST',
          retryDelaysMs: options.retryDelaysMs ?? retryDelaysFromEnv(),
        })
        const endpoint = redactEndpoint(url)
        options.onDelivery?.({ endpoint: new URL(url).origin, kind, ok: result.ok })
        if (result.ok)
          options.logger.debug(`notify: ${what} delivered to ${endpoint}`, { event: 'notify.sent' })
        else
          options.logger.warn(
            `notify: could not deliver ${what} to ${endpoint} after ${result.attempts} attempts: ${scrub(result.reason, [secret, url])}`,
            { event: 'notify.failed' },
          )
      })(),
    )

  return {
    runFinished(run, previousStatus) {
      const event = eventOf(run.status, previousStatus)
      if (!event) return
      options.targets.forEach((target) => {
        if (!wants(target.on, event)) return
        deliver(
          'webhook',
          target.webhook,
          target.webhook,
          `the ${event} notification`,
          target.format === 'slack' ? slackPayload(event, run) : jsonPayload(event, run),
        )
      })
    },
    ping(url, kind, run) {
      if (!url) return
      deliver('ping', pingUrl(url, kind), url, `the ${kind} ping`, run ?? {})
    },
    async flush(timeoutMs) {
      if (pending.size === 0) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...pending]),
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ])
      clearTimeout(timer)
    },
  }
}

/** A recovery is also a success: a target on ['success'] hears about it too. */
function wants(on: NotifyConfig['on'], event: NotifyEvent): boolean {
  return on.includes(event) || (event === 'recovery' && on.includes('success'))
}

export function pingUrl(base: string, kind: PingKind): string {
  if (kind === 'success') return base
  const url = new URL(base)
  url.pathname = url.pathname.replace(/\/$/, '') + (kind === 'start' ? '/start' : '/fail')
  return url.toString()
}

/** `DBOPS_NOTIFY_RETRY_DELAYS=1s,5s,30s`: the waits between delivery attempts (default 1s,4s). */
function retryDelaysFromEnv(): number[] | undefined {
  const text = process.env.DBOPS_NOTIFY_RETRY_DELAYS
  return text
    ? text.split(',').map((d) => parseDuration(d.trim(), 'DBOPS_NOTIFY_RETRY_DELAYS'))
    : undefined
}
