import { randomBytes, randomUUID } from 'node:crypto'
import os from 'node:os'
import type { ScheduleConfig } from '../config/schema.ts'
import type { Context } from '../context.ts'
import type { Db } from '../db/db.ts'
import { sleep } from '../db/lock.ts'
import { DbopsError, messageOf } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { planRun } from '../runner/plan.ts'
import type { RunReport } from '../runner/report.ts'
import {
  claimTick,
  ensureSchema,
  finishRun,
  latestClaimedTick,
  markLost,
  previousOutcome,
  pruneHistory,
  startQueued,
  type LostRun,
  type WatcherIdentity,
} from './claim.ts'
import { DbState } from './db-state.ts'
import { createEventLog } from './event-log.ts'
import { LeaseKeeper } from './leases.ts'
import { closeLoaded, loadForWatch, type Loaded } from './loaded-config.ts'
import type { Health } from './metrics-server.ts'
import type { HttpSurfaceEnv } from '../plugin/http.ts'
import type { WatchMetrics } from './metrics.ts'
import { dueTick, latestTick, nextTick } from './next-tick.ts'
import { lostSummary, reportWithoutSteps, runError, summaryOf } from './run-summary.ts'
import { recordedSteps } from './run-steps.ts'

export interface WatchOptions {
  configFile?: string
  cwd?: string
  /** A run's lease: renewed every third of it; a run not renewed for this long is lost. */
  leaseMs: number
  /** After SIGTERM/SIGINT, how long running runs may take before they are aborted. */
  shutdownTimeoutMs: number
  /** Finished runs older than this are deleted from the history. */
  historyDays: number
  /** JSON log lines (default when stdout is not a TTY) or sentences. */
  json: boolean
  /** Called once the config is loaded, to build the metrics (see metrics.ts). */
  createMetrics?: (poolStats: () => ReturnType<Db['stats']>) => Promise<WatchMetrics>
  /** Starts the HTTP server of /metrics and /healthz (and a plugin surface); returns its closer. */
  serveMetrics?: (
    metrics: WatchMetrics,
    health: () => Health,
    loaded: Omit<HttpSurfaceEnv, 'host'>,
  ) => Promise<{ port: number; close(): Promise<void> }>
  notifyRetryDelaysMs?: number[]
}

interface ScheduleState {
  name: string
  config: ScheduleConfig
  next: Date
}

interface ActiveRun {
  id: string
  schedule: string
  phase: 'queued' | 'waiting' | 'running'
  controller: AbortController
  loaded: Loaded
}

const MAX_SLEEP_MS = 60_000 // re-check the wall clock at least this often (clock jumps)
const CLAIM_BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000]
const CONNECT_BACKOFF_MS = [1000, 2000, 4000, 8000, 15_000, 30_000]
const PRUNE_EVERY_MS = 3_600_000
// Lost runs of other schedules are also found at each of their ticks; this sweep only makes
// their alert timely for schedules that tick rarely.
const SWEEP_EVERY_MS = 300_000

/**
 * `dbops watch`: runs the config's schedules until stopped. One timer for the earliest
 * tick; every tick is claimed in the database so that many watchers run it once; runs go
 * through the same runner as `dbops run`.
 */
export class Watcher {
  readonly me: WatcherIdentity
  private current!: Loaded
  private schedules = new Map<string, ScheduleState>()
  private readonly active = new Map<string, ActiveRun>()
  private readonly inflight = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private readonly leases: LeaseKeeper
  private readonly db: DbState
  private housekeeping: NodeJS.Timeout | undefined
  private readonly stopController = new AbortController()
  private stopping = false
  private forced = false
  private finished!: (code: number) => void
  private readonly done = new Promise<number>((resolve) => (this.finished = resolve))
  private schemaReady = false
  private lastWake = new Date()
  private metrics: WatchMetrics | undefined
  private metricsServer: { port: number; close(): Promise<void> } | undefined
  private reloading: Promise<void> | undefined
  readonly log: Logger
  private readonly options: WatchOptions

  constructor(options: WatchOptions) {
    this.options = options
    const host = os.hostname()
    this.me = {
      id: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`,
      host,
      pid: process.pid,
    }
    this.log = createEventLog({ json: options.json, secrets: () => this.secrets() })
    this.db = new DbState(this.log, () => this.current.schedulerDb.description)
    this.db.onChange((up) => this.metrics?.dbUp(up))
    this.leases = new LeaseKeeper(options.leaseMs, (error) => this.db.record(error))
  }

  /** Resolves with the exit code once the watcher stopped. */
  get stopped(): Promise<number> {
    return this.done
  }

  /** Loads the config (throws on a bad one: exit 2) and starts the loop. */
  async start(): Promise<void> {
    this.current = await this.load()
    const names = Object.keys(this.current.session.config.schedules)
    if (names.length === 0) {
      await closeLoaded(this.current)
      throw new DbopsError(
        'WATCH_NO_SCHEDULES',
        'the config has no schedules, so there is nothing to watch',
        {
          exitCode: 2,
          hint: "Add schedules: { nightly: { cron: '0 2 * * *', run: 'backup' } } to the config, or use `dbops run`.",
        },
      )
    }
    this.setSchedules(this.current.session.config.schedules)
    if (this.options.createMetrics) {
      const base = () => this.current.base.db.stats()
      this.metrics = await this.options.createMetrics(base)
      for (const s of this.schedules.values()) this.metrics.nextTick(s.name, s.next)
      try {
        this.metricsServer = await this.options.serveMetrics?.(this.metrics, () => this.health(), {
          config: this.current.session.config,
          logger: this.log,
          secrets: this.current.session.secrets,
        })
      } catch (error) {
        await closeLoaded(this.current)
        if (error instanceof DbopsError) throw error
        throw new DbopsError('WATCH_METRICS_PORT', `cannot serve metrics: ${messageOf(error)}`, {
          exitCode: 2,
          hint: 'Choose a free port for --metrics-port.',
        })
      }
    }
    const db = this.current.base.db.description
    this.log.info(
      `watching ${names.length} schedule${names.length === 1 ? '' : 's'} against ${db} as ${this.me.id}${this.metricsServer ? `; metrics on :${this.metricsServer.port}/metrics` : ''}`,
      {
        event: 'watch.started',
        watcher: this.me.id,
        database: db,
        metricsPort: this.metricsServer?.port,
        schedules: [...this.schedules.values()].map((s) => ({
          name: s.name,
          cron: s.config.cron,
          timezone: s.config.timezone,
          next: s.next.toISOString(),
        })),
      },
    )
    for (const s of this.schedules.values())
      this.log.info(
        `  ${s.name}: ${s.config.cron}${s.config.timezone ? ` (${s.config.timezone})` : ''} -> ${[s.config.run].flat().join(', ')}; next ${s.next.toISOString()}`,
        { event: 'schedule.next', schedule: s.name, next: s.next.toISOString() },
      )
    this.arm()
    this.track(this.connect())
  }

  /** SIGTERM/SIGINT: start no more runs, give running ones the shutdown timeout, then abort them. */
  stop(signal: string): void {
    if (this.stopping) {
      if (!this.forced) {
        this.log.warn(`${signal} again: aborting running runs now`, { event: 'watch.force-stop' })
        this.abortAll(`the watcher got ${signal} twice and stopped at once`)
      }
      return
    }
    this.stopping = true
    this.stopController.abort(
      new DbopsError('WATCH_STOPPED', `the watcher stopped (${signal}) before the run started`),
    )
    clearTimeout(this.timer)
    clearInterval(this.housekeeping)
    void this.shutdown(signal)
  }

  /** SIGHUP: load the config again; a config that does not validate leaves the old one running. */
  reload(): Promise<void> {
    if (this.stopping) return Promise.resolve()
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined))
    return this.reloading
  }

  private async doReload(): Promise<void> {
    this.log.info('SIGHUP: reloading the config', { event: 'config.reload' })
    let next: Loaded
    try {
      next = await this.load()
    } catch (error) {
      this.log.error(
        `the config could not be reloaded, so the previous one stays in effect: ${messageOf(error)}`,
        { event: 'config.reload-failed', error: messageOf(error) },
      )
      return
    }
    if (this.stopping) return void (await closeLoaded(next))
    const old = this.current
    this.current = next
    old.retired = true
    void this.closeIfUnused(old)
    const before = new Map(this.schedules)
    this.setSchedules(next.session.config.schedules, before)
    const added = [...this.schedules.keys()].filter((n) => !before.has(n))
    const removed = [...before.keys()].filter((n) => !this.schedules.has(n))
    const changed = [...this.schedules.keys()].filter(
      (n) =>
        before.has(n) &&
        JSON.stringify(before.get(n)!.config) !== JSON.stringify(this.schedules.get(n)!.config),
    )
    this.log.info(
      `config reloaded: ${this.schedules.size} schedules (added: ${added.join(', ') || 'none'}; removed: ${removed.join(', ') || 'none'}; changed: ${changed.join(', ') || 'none'}); ${this.active.size} run(s) in flight continue`,
      {
        event: 'config.reloaded',
        added,
        removed,
        changed,
      },
    )
    if (this.schedules.size === 0)
      this.log.warn(
        'the reloaded config has no schedules: the watcher idles until the next reload or stop',
        { event: 'config.no-schedules' },
      )
    for (const s of this.schedules.values()) this.metrics?.nextTick(s.name, s.next)
    this.arm()
  }

  // ---- the loop ----

  private setSchedules(
    configs: Record<string, ScheduleConfig>,
    previous?: Map<string, ScheduleState>,
  ): void {
    const now = new Date()
    this.schedules = new Map(
      Object.entries(configs).map(([name, config]) => {
        const old = previous?.get(name)
        const same =
          old && old.config.cron === config.cron && old.config.timezone === config.timezone
        return [
          name,
          { name, config, next: same ? old.next : nextTick(config.cron, config.timezone, now) },
        ]
      }),
    )
  }

  /** One timer: until the earliest tick, at most a minute (then the clock is checked again). */
  private arm(): void {
    clearTimeout(this.timer)
    if (this.stopping) return
    // With no schedules (a reload removed them all) the timer still runs: it is what keeps the process alive.
    const earliest = this.schedules.size
      ? Math.min(...[...this.schedules.values()].map((s) => s.next.getTime()))
      : Date.now() + MAX_SLEEP_MS
    this.timer = setTimeout(
      () => this.wake(),
      Math.max(0, Math.min(earliest - Date.now(), MAX_SLEEP_MS)),
    )
  }

  private wake(): void {
    const now = new Date()
    this.lastWake = now
    for (const s of this.schedules.values()) {
      const due = dueTick(s.config.cron, s.config.timezone, s.next, now)
      if (!due) continue // woke early, or another schedule's tick
      s.next = due.next
      this.metrics?.nextTick(s.name, s.next)
      if (due.missed > 0) {
        this.log.warn(
          `${s.name}: ${due.missed} tick(s) passed while the watcher could not run (clock jump or suspended process); running only the latest, ${due.fire.toISOString()}`,
          { event: 'tick.coalesced', schedule: s.name, passed: due.missed },
        )
      }
      this.track(this.runTick(s, due.fire, this.current))
    }
    this.arm()
  }

  /** Claims a tick (retrying while the database is unreachable, until the schedule's following tick) and runs it if won. */
  private async runTick(s: ScheduleState, tick: Date, loaded: Loaded): Promise<void> {
    loaded.refs++
    try {
      const pipelines = [s.config.run].flat()
      const runId = randomUUID()
      const deadline = Math.max(s.next.getTime(), tick.getTime() + 1000)
      let outcome: Awaited<ReturnType<typeof claimTick>> | undefined
      for (let attempt = 0; !outcome; attempt++) {
        try {
          outcome = await claimTick(
            loaded.schedulerDb,
            {
              schedule: s.name,
              tick,
              pipelines,
              tags: s.config.tags,
              overlap: s.config.overlap,
              runId,
              leaseMs: this.options.leaseMs,
            },
            this.me,
          )
          this.db.record()
        } catch (error) {
          this.db.record(error)
          const wait = CLAIM_BACKOFF_MS[Math.min(attempt, CLAIM_BACKOFF_MS.length - 1)]!
          if (this.stopping || Date.now() + wait >= deadline) {
            this.log.warn(
              `${s.name}: tick ${tick.toISOString()} missed: it could not be claimed in the database (${messageOf(error)})`,
              {
                event: 'tick.missed',
                schedule: s.name,
                tick: tick.toISOString(),
                error: messageOf(error),
              },
            )
            this.metrics?.tick(s.name, 'missed')
            return
          }
          await sleep(wait, this.stopController.signal).catch(() => {})
        }
      }
      this.reportLost(outcome.lost, loaded)
      switch (outcome.kind) {
        case 'claimed-elsewhere':
          this.log.debug(`${s.name}: tick ${tick.toISOString()} was claimed by another watcher`, {
            event: 'tick.claimed-elsewhere',
            schedule: s.name,
            tick: tick.toISOString(),
          })
          this.metrics?.tick(s.name, 'claimed-elsewhere')
          return
        case 'busy': {
          const b = outcome.behind
          this.log.warn(
            `${s.name}: tick ${tick.toISOString()} skipped: the previous run is still ${b.status} (since ${(b.started_at ?? b.queued_at).toISOString()} on ${b.host}:${b.pid}); overlap: ${s.config.overlap}`,
            { event: 'tick.skipped', schedule: s.name, tick: tick.toISOString(), behind: b.id },
          )
          this.metrics?.tick(s.name, 'skipped-overlap')
          return
        }
        case 'queued':
          this.log.info(
            `${s.name}: tick ${tick.toISOString()} queued behind the run on ${outcome.behind.host}:${outcome.behind.pid}`,
            { event: 'tick.queued', schedule: s.name, tick: tick.toISOString(), runId },
          )
          this.metrics?.tick(s.name, 'queued')
          return await this.execute(s, tick, runId, true, loaded)
        case 'run':
          this.metrics?.tick(s.name, 'ran')
          return await this.execute(s, tick, runId, false, loaded)
      }
    } finally {
      loaded.refs--
      void this.closeIfUnused(loaded)
    }
  }

  private async execute(
    s: ScheduleState,
    tick: Date,
    runId: string,
    queued: boolean,
    loaded: Loaded,
  ): Promise<void> {
    const pipelines = [s.config.run].flat()
    const pipeline = pipelines.join(',')
    const controller = new AbortController()
    // A tick claimed without a wait ahead of it starts even if a stop signal came during the
    // claim: the other watchers have already passed it over, so dropping it would lose it.
    const phase = queued ? 'queued' : s.config.jitterMs > 0 ? 'waiting' : 'running'
    const run: ActiveRun = { id: runId, schedule: s.name, phase, controller, loaded }
    // Stopping aborts runs that have not started; running ones get the shutdown timeout.
    const stopBeforeStart = () =>
      run.phase !== 'running' && controller.abort(this.stopController.signal.reason)
    this.stopController.signal.addEventListener('abort', stopBeforeStart)
    if (this.stopController.signal.aborted) stopBeforeStart()
    this.active.set(runId, run)
    this.leases.add(runId, loaded.schedulerDb)
    const startedAt = new Date()
    let report: RunReport
    try {
      if (queued) {
        while (
          !(await startQueued(loaded.schedulerDb, s.name, runId, this.options.leaseMs).catch(
            () => false,
          ))
        )
          await sleep(1000, controller.signal)
        run.phase = 'waiting'
        this.log.info(`${s.name}: the queued run of tick ${tick.toISOString()} starts`, {
          event: 'run.dequeued',
          schedule: s.name,
          runId,
        })
      }
      if (s.config.jitterMs > 0)
        await sleep(Math.floor(Math.random() * s.config.jitterMs), controller.signal)
      run.phase = 'running'
      this.log.info(
        `${s.name}: run ${runId.slice(0, 8)} of ${pipelines.join(', ')} started (tick ${tick.toISOString()})`,
        { event: 'run.started', schedule: s.name, tick: tick.toISOString(), runId, pipelines },
      )
      this.metrics?.runStarted(s.name, pipeline)
      loaded.notifier.ping(s.config.ping, 'start')
      const ctx: Context = {
        ...loaded.base,
        signal: controller.signal,
        runId,
        tags: s.config.tags,
        results: {},
      }
      try {
        // The runner (and listr2) loads with the first run: an idle watcher does not carry it.
        const { runPlan } = await import('../runner/run.ts')
        report = await runPlan(ctx, pipelines, planRun(loaded.session.config, pipelines), {
          renderer: this.options.json ? 'silent' : 'simple',
          secrets: loaded.session.secrets,
        })
      } catch (error) {
        report = reportWithoutSteps(
          runId,
          pipelines,
          s.config.tags,
          startedAt,
          error,
          controller.signal.aborted,
        )
      }
    } catch (error) {
      // Aborted while queued or in the jitter delay: the run never started.
      report = reportWithoutSteps(
        runId,
        pipelines,
        s.config.tags,
        startedAt,
        controller.signal.reason ?? error,
        true,
      )
    } finally {
      this.stopController.signal.removeEventListener('abort', stopBeforeStart)
    }
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
    const seconds = (report.durationMs / 1000).toFixed(1)
    const fields = {
      event: 'run.finished',
      schedule: s.name,
      tick: tick.toISOString(),
      runId,
      pipelines,
      status: report.status,
      durationMs: report.durationMs,
      ...(error ? { error } : {}),
    }
    if (report.status === 'success')
      this.log.info(`${s.name}: run ${runId.slice(0, 8)} succeeded in ${seconds}s`, fields)
    else if (report.status === 'aborted')
      this.log.warn(
        `${s.name}: run ${runId.slice(0, 8)} aborted after ${seconds}s: ${error}`,
        fields,
      )
    else
      this.log.error(
        `${s.name}: run ${runId.slice(0, 8)} FAILED after ${seconds}s: ${error}`,
        fields,
      )
    if (run.phase === 'running')
      this.metrics?.runFinished(
        s.name,
        pipeline,
        report.status,
        report.durationMs,
        report.steps.map((step) => ({ id: step.id, result: step.result })),
      )
    const previous = await previousOutcome(loaded.schedulerDb, s.name, runId).catch(() => undefined)
    const summary = summaryOf(report, { schedule: s.name, tick, me: this.me })
    loaded.notifier.runFinished(summary, previous)
    if (report.status === 'success') loaded.notifier.ping(s.config.ping, 'success', summary)
    if (report.status === 'failed') loaded.notifier.ping(s.config.ping, 'failure', summary)
  }

  private reportLost(lost: LostRun[], loaded: Loaded): void {
    for (const run of lost) {
      this.log.warn(
        `${run.schedule}: run ${run.id.slice(0, 8)} (tick ${run.tick.toISOString()}) on ${run.host}:${run.pid} is lost: its watcher stopped renewing the lease`,
        { event: 'run.lost', schedule: run.schedule, runId: run.id, host: run.host, pid: run.pid },
      )
      this.metrics?.runLost(run.schedule, run.pipelines.join(','))
      loaded.notifier.runFinished(lostSummary(run), undefined)
      loaded.notifier.ping(this.schedules.get(run.schedule)?.config.ping, 'failure')
    }
  }

  // ---- the database ----

  /** Creates the schema and sweeps lost runs, retrying with backoff while the database is down; then catches up. */
  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await ensureSchema(this.current.schedulerDb)
        this.reportLost(await markLost(this.current.schedulerDb), this.current)
        await pruneHistory(this.current.schedulerDb, this.options.historyDays)
        this.db.record()
        break
      } catch (error) {
        this.db.record(error)
        const wait = CONNECT_BACKOFF_MS[Math.min(attempt, CONNECT_BACKOFF_MS.length - 1)]!
        this.log.warn(
          `the database is unreachable: ${messageOf(error)}; retrying in ${wait / 1000}s`,
          { event: 'db.retry', attempt: attempt + 1, retryInMs: wait, error: messageOf(error) },
        )
        await sleep(wait, this.stopController.signal).catch(() => {})
      }
    }
    if (this.stopping) return
    this.schemaReady = true
    await this.catchUp()
    this.housekeeping = setInterval(
      () => this.track(this.sweep()),
      Math.max(this.options.leaseMs, SWEEP_EVERY_MS),
    )
  }

  /** catchUp: 'latest' — a tick missed while no watcher ran is run once, when the schedule ran before. */
  private async catchUp(): Promise<void> {
    const now = new Date()
    for (const s of this.schedules.values()) {
      if (s.config.catchUp !== 'latest') continue
      const latest = latestTick(s.config.cron, s.config.timezone, now)
      const claimed = await latestClaimedTick(this.current.schedulerDb, s.name).catch(
        () => undefined,
      )
      if (!claimed || claimed.getTime() >= latest.getTime()) continue
      this.log.info(
        `${s.name}: catching up the tick of ${latest.toISOString()}, missed while no watcher ran (last claimed: ${claimed.toISOString()})`,
        { event: 'tick.catch-up', schedule: s.name, tick: latest.toISOString() },
      )
      this.track(this.runTick(s, latest, this.current))
    }
  }

  private lastPrune = Date.now()
  private async sweep(): Promise<void> {
    try {
      this.reportLost(await markLost(this.current.schedulerDb), this.current)
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now()
        await pruneHistory(this.current.schedulerDb, this.options.historyDays)
      }
      this.db.record()
    } catch (error) {
      this.db.record(error)
    }
  }

  // ---- shutdown, config, bookkeeping ----

  private async shutdown(signal: string): Promise<void> {
    const running = [...this.active.values()].filter((r) => r.phase === 'running')
    const seconds = this.options.shutdownTimeoutMs / 1000
    this.log.info(
      `${signal}: stopping; ${running.length ? `waiting up to ${seconds}s for ${running.length} running run(s) (${running.map((r) => r.schedule).join(', ')})` : 'nothing is running'}`,
      { event: 'watch.stopping', signal, running: running.length },
    )
    const settled = () => Promise.allSettled([...this.inflight]).then(() => undefined)
    if (!(await within(settled(), this.options.shutdownTimeoutMs))) {
      this.abortAll(
        `aborted: the watcher was stopped (${signal}) and the run did not finish within the shutdown timeout (${seconds}s)`,
      )
    }
    if (!(await within(settled(), 30_000)))
      this.log.error(
        'some runs did not stop within 30s of being aborted; leaving them to be marked lost',
        { event: 'watch.stuck' },
      )
    this.leases.stop()
    await this.current.notifier.flush(5000)
    await this.metricsServer?.close()
    await closeLoaded(this.current)
    this.log.info('the watcher stopped', { event: 'watch.stopped' })
    this.finished(0)
  }

  private abortAll(message: string): void {
    this.forced = true
    const running = [...this.active.values()]
    if (running.length)
      this.log.warn(`aborting ${running.length} run(s): ${message}`, {
        event: 'watch.abort',
        runs: running.map((r) => r.id),
      })
    for (const run of running) run.controller.abort(new DbopsError('WATCH_SHUTDOWN', message))
  }

  private load(): Promise<Loaded> {
    return loadForWatch({
      configFile: this.options.configFile,
      cwd: this.options.cwd,
      json: this.options.json,
      log: this.log,
      notifyRetryDelaysMs: this.options.notifyRetryDelaysMs,
      onDelivery: (d) => this.metrics?.delivery(d),
    })
  }

  private async closeIfUnused(loaded: Loaded): Promise<void> {
    if (!loaded.retired || loaded.refs > 0) return
    loaded.retired = false // close once
    await loaded.notifier.flush(5000)
    await closeLoaded(loaded)
  }

  private track(work: Promise<void>): void {
    const p = work.catch((error) =>
      this.log.error(`internal error in the watcher: ${messageOf(error)}`, {
        event: 'watch.internal-error',
        error: messageOf(error),
      }),
    )
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }

  private secrets(): string[] {
    return this.current ? this.current.session.secrets : []
  }

  /** /healthz: alive, not stopping, and no schedule's tick overdue by more than a minute. */
  health(): Health {
    const now = Date.now()
    const overdue = [...this.schedules.values()]
      .filter((s) => now - s.next.getTime() > 60_000)
      .map((s) => s.name)
    const ok = !this.stopping && overdue.length === 0
    return {
      ok,
      status: this.stopping ? 'stopping' : overdue.length ? 'behind' : 'ok',
      watcher: this.me.id,
      database: this.db.up === undefined ? 'unknown' : this.db.up ? 'up' : 'down',
      schemaReady: this.schemaReady,
      lastWake: this.lastWake.toISOString(),
      running: [...this.active.values()]
        .filter((r) => r.phase === 'running')
        .map((r) => ({ schedule: r.schedule, runId: r.id })),
      schedules: Object.fromEntries(
        [...this.schedules.values()].map((s) => [s.name, { next: s.next.toISOString() }]),
      ),
      ...(overdue.length ? { overdue } : {}),
    }
  }
}

function within(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer))
}
