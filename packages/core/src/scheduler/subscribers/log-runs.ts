import { messageOf } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { TickOutcome, WatchEvents } from '../watch-events.ts'

const short = (runId: string) => runId.slice(0, 8)

/** The log lines of ticks and runs: one per event, JSON or a sentence (see event-log.ts). */
export function logRunEvents(events: WatchEvents, log: Logger): void {
  events.on('tick:due', ({ schedule, fire, missed }) => {
    if (missed === 0) return
    log.warn(
      `${schedule.name}: ${missed} tick(s) passed while the watcher could not run (clock jump or suspended process); running only the latest, ${fire.toISOString()}`,
      { event: 'tick.coalesced', schedule: schedule.name, passed: missed },
    )
  })
  events.on('tick:catch-up', ({ schedule, tick, lastClaimed }) =>
    log.info(
      `${schedule}: catching up the tick of ${tick.toISOString()}, missed while no watcher ran (last claimed: ${lastClaimed.toISOString()})`,
      { event: 'tick.catch-up', schedule, tick: tick.toISOString() },
    ),
  )
  events.on('tick:outcome', (outcome) => logTickOutcome(log, outcome))
  events.on('run:dequeued', ({ schedule, tick, runId }) =>
    log.info(`${schedule}: the queued run of tick ${tick.toISOString()} starts`, {
      event: 'run.dequeued',
      schedule,
      runId,
    }),
  )
  events.on('run:started', ({ schedule, tick, runId, pipelines }) =>
    log.info(
      `${schedule}: run ${short(runId)} of ${pipelines.join(', ')} started (tick ${tick.toISOString()})`,
      { event: 'run.started', schedule, tick: tick.toISOString(), runId, pipelines },
    ),
  )
  events.on('run:finished', ({ schedule, tick, runId, pipelines, report, error }) => {
    const seconds = (report.durationMs / 1000).toFixed(1)
    const fields = {
      event: 'run.finished',
      schedule,
      tick: tick.toISOString(),
      runId,
      pipelines,
      status: report.status,
      durationMs: report.durationMs,
      ...(error ? { error } : {}),
    }
    const run = `${schedule}: run ${short(runId)}`
    if (report.status === 'success') log.info(`${run} succeeded in ${seconds}s`, fields)
    else if (report.status === 'aborted')
      log.warn(`${run} aborted after ${seconds}s: ${error}`, fields)
    else log.error(`${run} FAILED after ${seconds}s: ${error}`, fields)
  })
  events.on('run:lost', ({ run }) =>
    log.warn(
      `${run.schedule}: run ${short(run.id)} (tick ${run.tick.toISOString()}) on ${run.host}:${run.pid} is lost: its watcher stopped renewing the lease`,
      { event: 'run.lost', schedule: run.schedule, runId: run.id, host: run.host, pid: run.pid },
    ),
  )
}

function logTickOutcome(log: Logger, outcome: TickOutcome): void {
  const tick = outcome.tick.toISOString()
  const { schedule } = outcome
  switch (outcome.outcome) {
    case 'missed':
      log.warn(
        `${schedule}: tick ${tick} missed: it could not be claimed in the database (${messageOf(outcome.error)})`,
        { event: 'tick.missed', schedule, tick, error: messageOf(outcome.error) },
      )
      return
    case 'claimed-elsewhere':
      log.debug(`${schedule}: tick ${tick} was claimed by another watcher`, {
        event: 'tick.claimed-elsewhere',
        schedule,
        tick,
      })
      return
    case 'skipped-overlap': {
      const b = outcome.behind
      log.warn(
        `${schedule}: tick ${tick} skipped: the previous run is still ${b.status} (since ${(b.started_at ?? b.queued_at).toISOString()} on ${b.host}:${b.pid}); overlap: ${outcome.overlap}`,
        { event: 'tick.skipped', schedule, tick, behind: b.id },
      )
      return
    }
    case 'queued':
      log.info(
        `${schedule}: tick ${tick} queued behind the run on ${outcome.behind.host}:${outcome.behind.pid}`,
        { event: 'tick.queued', schedule, tick, runId: outcome.runId },
      )
      return
    case 'ran':
      return // its run.started line says it
  }
}
