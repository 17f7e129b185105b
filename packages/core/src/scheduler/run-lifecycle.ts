import type { Context } from '../context.ts'
import { sleep } from '../db/lock.ts'
import { DbopsError } from '../errors.ts'
import { planRun } from '../runner/plan.ts'
import type { RunReport } from '../runner/report.ts'
import {
  finishRun,
  type LostRun,
  previousOutcome,
  startQueued,
  type WatcherIdentity,
} from './claim.ts'
import type { DbState } from './db-state.ts'
import { LeaseKeeper } from './leases.ts'
import type { LoadedConfig } from './loaded-config.ts'
import { recordedSteps } from './run-steps.ts'
import { reportWithoutSteps, runError, summaryOf } from './run-summary.ts'
import { jitterDelayMs, type PlannedSchedule } from './tick-planner.ts'
import type { WatchEvents } from './watch-events.ts'

/** A run this watcher owns, from its claim to its recorded end. */
interface ActiveRun {
  id: string
  schedule: string
  /** queued: behind the schedule's previous run; waiting: in its jitter delay. */
  phase: 'queued' | 'waiting' | 'running'
  controller: AbortController
}

/** What a run needs to know about the tick that made it. */
interface RunRequest {
  schedule: PlannedSchedule
  tick: Date
  runId: string
  /** Claimed behind the schedule's running run (overlap: queue). */
  queued: boolean
  loaded: LoadedConfig
}

/**
 * The runs this watcher owns: each waits its turn (queue, jitter), runs through the same
 * runner as `dbops run`, keeps its lease renewed while it lives, and has its end recorded in
 * the history. `run:*` events say what happened; a stop aborts runs that have not started.
 */
export class RunLifecycle {
  private readonly active = new Map<string, ActiveRun>()
  private readonly leases: LeaseKeeper
  private readonly events: WatchEvents
  private readonly db: DbState
  private readonly me: WatcherIdentity
  private readonly leaseMs: number
  private readonly json: boolean
  /** Aborts at the first stop signal: runs that have not started yet do not. */
  private readonly stopSignal: AbortSignal
  /** abortAll was called: running runs were told to stop. */
  aborted = false

  constructor(options: {
    events: WatchEvents
    db: DbState
    me: WatcherIdentity
    leaseMs: number
    json: boolean
    stopSignal: AbortSignal
  }) {
    this.events = options.events
    this.db = options.db
    this.me = options.me
    this.leaseMs = options.leaseMs
    this.json = options.json
    this.stopSignal = options.stopSignal
    this.leases = new LeaseKeeper(options.leaseMs, (error) => this.db.record(error))
  }

  /** Every run this watcher owns, queued and waiting ones too. */
  get size(): number {
    return this.active.size
  }

  /** The runs past their queue and jitter. */
  running(): { schedule: string; runId: string }[] {
    return [...this.active.values()]
      .filter((r) => r.phase === 'running')
      .map((r) => ({ schedule: r.schedule, runId: r.id }))
  }

  async execute(request: RunRequest): Promise<void> {
    const { runId, schedule, queued, loaded } = request
    const controller = new AbortController()
    // A tick claimed without a wait ahead of it starts even if a stop signal came during the
    // claim: the other watchers have already passed it over, so dropping it would lose it.
    const phase = queued ? 'queued' : schedule.config.jitterMs > 0 ? 'waiting' : 'running'
    const run: ActiveRun = { id: runId, schedule: schedule.name, phase, controller }
    const stopBeforeStart = () => {
      if (run.phase !== 'running') controller.abort(this.stopSignal.reason)
    }
    this.stopSignal.addEventListener('abort', stopBeforeStart)
    if (this.stopSignal.aborted) stopBeforeStart()
    this.active.set(runId, run)
    this.leases.add(runId, loaded.schedulerDb)
    let report: RunReport
    try {
      report = await this.run(run, request)
    } finally {
      this.stopSignal.removeEventListener('abort', stopBeforeStart)
    }
    await this.finish(run, request, report)
  }

  /** Aborts every run through its signal (a second stop signal, or the shutdown timeout). */
  abortAll(message: string): void {
    this.aborted = true
    const runs = [...this.active.values()]
    if (runs.length)
      void this.events.emit('watch:abort', { runIds: runs.map((r) => r.id), message })
    for (const run of runs) run.controller.abort(new DbopsError('WATCH_SHUTDOWN', message))
  }

  /** Lost runs found by a claim or a sweep, under the schedule's ping as the config in effect has it. */
  reportLost(
    lost: LostRun[],
    loaded: LoadedConfig,
    pingOf: (schedule: string) => string | undefined,
  ) {
    for (const run of lost)
      void this.events.emit('run:lost', {
        run,
        notifier: loaded.notifier,
        ping: pingOf(run.schedule),
      })
  }

  stopLeases(): void {
    this.leases.stop()
  }

  /** Waits out the queue and the jitter, then runs the pipelines: a report however it ends. */
  private async run(run: ActiveRun, request: RunRequest): Promise<RunReport> {
    const { schedule, tick, runId, loaded } = request
    const { config } = schedule
    const pipelines = [config.run].flat()
    const { signal } = run.controller
    const startedAt = new Date()
    const facts = { schedule: schedule.name, tick, runId, pipelines }
    try {
      if (request.queued) {
        while (
          !(await startQueued(loaded.schedulerDb, schedule.name, runId, this.leaseMs).catch(
            () => false,
          ))
        )
          await sleep(1000, signal)
        run.phase = 'waiting'
        await this.events.emit('run:dequeued', facts)
      }
      if (config.jitterMs > 0) await sleep(jitterDelayMs(config.jitterMs), signal)
    } catch (error) {
      // Aborted while queued or in the jitter delay: the run never started.
      return reportWithoutSteps(
        runId,
        pipelines,
        config.tags,
        startedAt,
        signal.reason ?? error,
        true,
      )
    }
    run.phase = 'running'
    await this.events.emit('run:started', {
      ...facts,
      notifier: loaded.notifier,
      ping: config.ping,
    })
    const ctx: Context = { ...loaded.base, signal, runId, tags: config.tags, results: {} }
    try {
      // The runner (and listr2) loads with the first run: an idle watcher does not carry it.
      const { runPlan } = await import('../runner/run.ts')
      return await runPlan(ctx, pipelines, planRun(loaded.session.config, pipelines), {
        renderer: this.json ? 'silent' : 'simple',
        secrets: loaded.session.secrets,
      })
    } catch (error) {
      return reportWithoutSteps(runId, pipelines, config.tags, startedAt, error, signal.aborted)
    }
  }

  /** Records the end in the history (retried: it must land), then says so. */
  private async finish(run: ActiveRun, request: RunRequest, report: RunReport): Promise<void> {
    const { schedule, tick, runId, loaded } = request
    const error = runError(report)
    try {
      const steps = recordedSteps(report, loaded.session.secrets)
      await this.db.retry(`record the end of run ${runId}`, () =>
        finishRun(loaded.schedulerDb, runId, report.status, error, steps),
      )
    } finally {
      this.active.delete(runId)
      this.leases.remove(runId)
    }
    let previous: Promise<string | undefined> | undefined
    await this.events.emit('run:finished', {
      schedule: schedule.name,
      tick,
      runId,
      pipelines: [schedule.config.run].flat(),
      notifier: loaded.notifier,
      ping: schedule.config.ping,
      report,
      error,
      started: run.phase === 'running',
      summary: summaryOf(report, { schedule: schedule.name, tick, me: this.me }),
      previousStatus: () => {
        previous ??= previousOutcome(loaded.schedulerDb, schedule.name, runId).catch(
          () => undefined,
        )
        return previous
      },
    })
  }
}
