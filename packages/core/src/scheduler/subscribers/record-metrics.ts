import type { WatchMetrics } from '../metrics.ts'
import type { PlannedSchedule } from '../tick-planner.ts'
import type { WatchEvents } from '../watch-events.ts'

/** The Prometheus metrics of `--metrics-port` (see metrics.ts for what each one is). */
export function recordMetrics(events: WatchEvents, metrics: WatchMetrics): void {
  const nextTicks = (schedules: readonly PlannedSchedule[]) => {
    for (const s of schedules) metrics.nextTick(s.name, s.next)
  }
  events.on('watch:started', ({ schedules }) => nextTicks(schedules))
  events.on('config:reloaded', ({ schedules }) => nextTicks(schedules))
  events.on('tick:due', ({ schedule }) => metrics.nextTick(schedule.name, schedule.next))
  events.on('tick:outcome', ({ schedule, outcome }) => metrics.tick(schedule, outcome))
  events.on('run:started', ({ schedule, pipelines }) =>
    metrics.runStarted(schedule, pipelines.join(',')),
  )
  events.on('run:finished', ({ schedule, pipelines, report, started }) => {
    // A run aborted before it started never counted as running.
    if (!started) return
    metrics.runFinished(
      schedule,
      pipelines.join(','),
      report.status,
      report.durationMs,
      report.steps.map((step) => ({ id: step.id, result: step.result })),
    )
  })
  events.on('run:lost', ({ run }) => metrics.runLost(run.schedule, run.pipelines.join(',')))
  events.on('db:changed', ({ up }) => metrics.dbUp(up))
  events.on('notify:delivery', (delivery) => metrics.delivery(delivery))
}
