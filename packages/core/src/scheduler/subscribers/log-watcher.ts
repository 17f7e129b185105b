import { messageOf } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { WatchEvents } from '../watch-events.ts'

/** The log lines of the watcher itself: start, stop, reloads, the database's state. */
export function logWatcherEvents(events: WatchEvents, log: Logger): void {
  events.on('watch:started', ({ watcher, database, metricsPort, schedules }) => {
    const n = schedules.length
    log.info(
      `watching ${n} schedule${n === 1 ? '' : 's'} against ${database} as ${watcher}${metricsPort !== undefined ? `; metrics on :${metricsPort}/metrics` : ''}`,
      {
        event: 'watch.started',
        watcher,
        database,
        metricsPort,
        schedules: schedules.map((s) => ({
          name: s.name,
          cron: s.config.cron,
          timezone: s.config.timezone,
          next: s.next.toISOString(),
        })),
      },
    )
    for (const s of schedules)
      log.info(
        `  ${s.name}: ${s.config.cron}${s.config.timezone ? ` (${s.config.timezone})` : ''} -> ${[s.config.run].flat().join(', ')}; next ${s.next.toISOString()}`,
        { event: 'schedule.next', schedule: s.name, next: s.next.toISOString() },
      )
  })
  events.on('watch:stopping', ({ signal, running, timeoutMs }) => {
    const waiting = `waiting up to ${timeoutMs / 1000}s for ${running.length} running run(s) (${running.map((r) => r.schedule).join(', ')})`
    log.info(`${signal}: stopping; ${running.length ? waiting : 'nothing is running'}`, {
      event: 'watch.stopping',
      signal,
      running: running.length,
    })
  })
  events.on('watch:force-stop', ({ signal }) =>
    log.warn(`${signal} again: aborting running runs now`, { event: 'watch.force-stop' }),
  )
  events.on('watch:abort', ({ runIds, message }) =>
    log.warn(`aborting ${runIds.length} run(s): ${message}`, {
      event: 'watch.abort',
      runs: runIds,
    }),
  )
  events.on('watch:stuck', () =>
    log.error(
      'some runs did not stop within 30s of being aborted; leaving them to be marked lost',
      {
        event: 'watch.stuck',
      },
    ),
  )
  events.on('watch:stopped', () => log.info('the watcher stopped', { event: 'watch.stopped' }))
  events.on('watch:internal-error', ({ error }) =>
    log.error(`internal error in the watcher: ${messageOf(error)}`, {
      event: 'watch.internal-error',
      error: messageOf(error),
    }),
  )

  events.on('config:reload', () =>
    log.info('SIGHUP: reloading the config', { event: 'config.reload' }),
  )
  events.on('config:reload-failed', ({ error }) =>
    log.error(
      `the config could not be reloaded, so the previous one stays in effect: ${messageOf(error)}`,
      { event: 'config.reload-failed', error: messageOf(error) },
    ),
  )
  events.on('config:reloaded', ({ added, removed, changed, schedules, inFlight }) => {
    const list = (names: string[]) => names.join(', ') || 'none'
    log.info(
      `config reloaded: ${schedules.length} schedules (added: ${list(added)}; removed: ${list(removed)}; changed: ${list(changed)}); ${inFlight} run(s) in flight continue`,
      { event: 'config.reloaded', added, removed, changed },
    )
    if (schedules.length === 0)
      log.warn(
        'the reloaded config has no schedules: the watcher idles until the next reload or stop',
        { event: 'config.no-schedules' },
      )
  })

  events.on('db:changed', ({ up, was, error, database }) => {
    if (!up)
      log.error(
        `the database is unreachable: ${messageOf(error)}; ticks will be retried until each schedule's next one`,
        { event: 'db.down', error: messageOf(error) },
      )
    else if (was === false)
      log.info(`the database is reachable again (${database})`, { event: 'db.up' })
  })
  events.on('db:retry', ({ attempt, retryInMs, error }) =>
    log.warn(`the database is unreachable: ${messageOf(error)}; retrying in ${retryInMs / 1000}s`, {
      event: 'db.retry',
      attempt,
      retryInMs,
      error: messageOf(error),
    }),
  )
  events.on('db:write-failed', ({ what, error }) =>
    log.error(
      `could not ${what} in the database: ${messageOf(error)}; other watchers will mark it lost when its lease expires`,
      { event: 'db.write-failed', error: messageOf(error) },
    ),
  )
}
