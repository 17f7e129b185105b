import type { PoolStats } from '../db/db.ts'
import type { Delivery } from '../notify/notifier.ts'

/** What the watcher reports to Prometheus. Built only when `--metrics-port` is given. */
export interface WatchMetrics {
  tick(
    schedule: string,
    outcome: 'ran' | 'queued' | 'claimed-elsewhere' | 'skipped-overlap' | 'missed',
  ): void
  nextTick(schedule: string, at: Date): void
  runStarted(schedule: string, pipeline: string): void
  runFinished(
    schedule: string,
    pipeline: string,
    status: string,
    durationMs: number,
    steps: { id: string; result?: unknown }[],
  ): void
  /** A run of a dead watcher, found by this one. */
  runLost(schedule: string, pipeline: string): void
  dbUp(up: boolean): void
  /** A webhook or ping delivered or given up on; the endpoint is its origin (scheme and host) only. */
  delivery(delivery: Delivery): void
  render(): Promise<{ contentType: string; body: string }>
}

/**
 * prom-client metrics of a watcher: per schedule and pipeline the last start, success and
 * failure times, durations, run counts by status; tick outcomes; bytes written by tasks that
 * report them (`bytes`, `size` or `sets[].bytes` in their result: backups); health check status per check
 * (a result with `checks: [{ name, status }]`); pool stats; Node's default process metrics.
 */
export async function createWatchMetrics(poolStats: () => PoolStats): Promise<WatchMetrics> {
  const prom = await import('prom-client')
  const register = new prom.Registry()
  // Scrape-time collection only (no event-loop sampler timer): idle stays idle.
  prom.collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 1000 })
  const sp = ['schedule', 'pipeline'] as const
  const c = (name: string, help: string, labelNames: readonly string[]) =>
    new prom.Counter({ name, help, labelNames, registers: [register] })
  const g = (name: string, help: string, labelNames: readonly string[]) =>
    new prom.Gauge({ name, help, labelNames, registers: [register] })
  const runs = c(
    'dbops_schedule_runs_total',
    'Runs finished, by schedule, pipeline and status (success, failed, aborted).',
    [...sp, 'status'],
  )
  const failures = c('dbops_schedule_failures_total', 'Failed runs, by schedule and pipeline.', sp)
  const ticks = c(
    'dbops_schedule_ticks_total',
    'Ticks seen by this watcher, by outcome (ran, queued, claimed-elsewhere, skipped-overlap, missed).',
    ['schedule', 'outcome'],
  )
  const lastStart = g(
    'dbops_schedule_last_start_timestamp_seconds',
    'When the last run started (unix time).',
    sp,
  )
  const lastSuccess = g(
    'dbops_schedule_last_success_timestamp_seconds',
    'When the last successful run ended (unix time).',
    sp,
  )
  const lastFailure = g(
    'dbops_schedule_last_failure_timestamp_seconds',
    'When the last failed run ended (unix time).',
    sp,
  )
  const lastDuration = g('dbops_schedule_last_duration_seconds', 'Duration of the last run.', sp)
  const running = g('dbops_schedule_running', 'Runs in progress on this watcher.', sp)
  const next = g(
    'dbops_schedule_next_tick_timestamp_seconds',
    'The next tick of each schedule (unix time).',
    ['schedule'],
  )
  const duration = new prom.Histogram({
    name: 'dbops_schedule_run_duration_seconds',
    help: 'Run durations.',
    labelNames: [...sp, 'status'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
    registers: [register],
  })
  const bytes = g('dbops_task_bytes', 'Bytes reported by the last run of a task (backup size).', [
    'schedule',
    'task',
  ])
  const health = g(
    'dbops_health_check_status',
    'Status of each health check in the last run: 0 ok, 1 warning, 2 critical, 3 unknown.',
    ['schedule', 'check'],
  )
  const deliveries = c(
    'dbops_notify_deliveries_total',
    'Webhook and ping deliveries by endpoint (scheme and host only: the path holds the token), kind and outcome (delivered, failed after retries).',
    ['endpoint', 'kind', 'outcome'],
  )
  const dbUp = g(
    'dbops_watcher_database_up',
    '1 when the watcher reached its database at the last attempt.',
    [],
  )
  const pool = new prom.Gauge({
    name: 'dbops_pool_connections',
    help: 'Connections of the pipeline pool by state.',
    labelNames: ['state'],
    registers: [register],
    collect() {
      const s = poolStats()
      this.set({ state: 'total' }, s.total)
      this.set({ state: 'idle' }, s.idle)
      this.set({ state: 'waiting' }, s.waiting)
      this.set({ state: 'max' }, s.max)
    },
  })
  void pool
  const now = () => Date.now() / 1000
  return {
    tick: (schedule, outcome) => ticks.inc({ schedule, outcome }),
    nextTick: (schedule, at) => next.set({ schedule }, at.getTime() / 1000),
    runStarted(schedule, pipeline) {
      lastStart.set({ schedule, pipeline }, now())
      running.inc({ schedule, pipeline })
    },
    runFinished(schedule, pipeline, status, durationMs, steps) {
      running.dec({ schedule, pipeline })
      runs.inc({ schedule, pipeline, status })
      duration.observe({ schedule, pipeline, status }, durationMs / 1000)
      lastDuration.set({ schedule, pipeline }, durationMs / 1000)
      if (status === 'success') lastSuccess.set({ schedule, pipeline }, now())
      if (status === 'failed') {
        lastFailure.set({ schedule, pipeline }, now())
        failures.inc({ schedule, pipeline })
      }
      for (const step of steps) {
        const result = step.result as
          | { bytes?: unknown; size?: unknown; sets?: unknown; checks?: unknown }
          | undefined
        if (!result || typeof result !== 'object') continue
        const n =
          typeof result.bytes === 'number'
            ? result.bytes
            : typeof result.size === 'number'
              ? result.size
              : bytesOfSets(result.sets)
        if (n !== undefined) bytes.set({ schedule, task: step.id }, n)
        if (Array.isArray(result.checks)) {
          for (const check of result.checks as {
            name?: unknown
            id?: unknown
            status?: unknown
          }[]) {
            const name = String(check.name ?? check.id ?? '')
            if (name) health.set({ schedule, check: name }, HEALTH_LEVEL[String(check.status)] ?? 3)
          }
        }
      }
    },
    runLost(schedule, pipeline) {
      runs.inc({ schedule, pipeline, status: 'lost' })
      failures.inc({ schedule, pipeline })
      lastFailure.set({ schedule, pipeline }, now())
    },
    dbUp: (up) => dbUp.set(up ? 1 : 0),
    delivery: (d) =>
      deliveries.inc({
        endpoint: d.endpoint,
        kind: d.kind,
        outcome: d.ok ? 'delivered' : 'failed',
      }),
    async render() {
      return { contentType: register.contentType, body: await register.metrics() }
    },
  }
}

/** A backup task's result: `{ sets: [{ bytes }] }`, one set per database. */
function bytesOfSets(sets: unknown): number | undefined {
  if (!Array.isArray(sets)) return undefined
  const sizes = sets
    .map((s: { bytes?: unknown }) => s?.bytes)
    .filter((b): b is number => typeof b === 'number')
  return sizes.length ? sizes.reduce((a, b) => a + b, 0) : undefined
}

const HEALTH_LEVEL: Record<string, number> = {
  ok: 0,
  pass: 0,
  passed: 0,
  warning: 1,
  warn: 1,
  critical: 2,
  fail: 2,
  failed: 2,
  error: 2,
}
