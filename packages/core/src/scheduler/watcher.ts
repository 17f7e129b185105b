import { randomBytes, randomUUID } from 'node:crypto'
import os from 'node:os'
import type { Logger } from '../logger.ts'
import { latestClaimedTick, type LostRun, type WatcherIdentity } from './claim.ts'
import { claimWithRetry, tickOutcomeOf } from './claim-retry.ts'
import { ConfigInEffect } from './config-in-effect.ts'
import { DbState } from './db-state.ts'
import { createEventLog } from './event-log.ts'
import { Housekeeping } from './housekeeping.ts'
import { InFlight } from './in-flight.ts'
import { type LoadedConfig, loadForWatch } from './loaded-config.ts'
import type { Health } from './metrics-server.ts'
import { RunLifecycle } from './run-lifecycle.ts'
import { serveMetrics } from './serve-metrics.ts'
import { Shutdown } from './shutdown.ts'
import { subscribeDefaults } from './subscribers/defaults.ts'
import {
  claimDeadline,
  missedWhileAway,
  type PlannedSchedule,
  TickPlanner,
} from './tick-planner.ts'
import { createWatchEvents, type WatchEvents } from './watch-events.ts'
import type { WatchOptions } from './watch-options.ts'

/**
 * `dbops watch`: runs the config's schedules until stopped. One timer for the earliest tick
 * (TickPlanner); every tick is claimed in the database so that many watchers run it once
 * (claimWithRetry); runs go through the same runner as `dbops run` (RunLifecycle). What
 * happens is emitted on `events`, where the log, metrics, webhooks and pings subscribe.
 */
export class Watcher {
  readonly me: WatcherIdentity
  readonly events: WatchEvents = createWatchEvents()
  private readonly options: WatchOptions
  private readonly log: Logger
  private readonly planner = new TickPlanner()
  private readonly config: ConfigInEffect
  private readonly db: DbState
  /** Aborted at the first stop signal. */
  private readonly stopController = new AbortController()
  private readonly runs: RunLifecycle
  private readonly inFlight = new InFlight(this.events)
  private readonly housekeeping: Housekeeping
  private readonly shutdown: Shutdown
  private timer: NodeJS.Timeout | undefined
  private metricsServer: { port: number; close(): Promise<void> } | undefined
  private schemaReady = false

  constructor(options: WatchOptions) {
    this.options = options
    const host = os.hostname()
    const pid = process.pid
    this.me = { id: `${host}:${pid}:${randomBytes(3).toString('hex')}`, host, pid }
    const events = this.events
    this.log = createEventLog({ json: options.json, secrets: () => this.config.secrets() })
    subscribeDefaults(events, this.log)
    const load = () =>
      loadForWatch({
        configFile: options.configFile,
        cwd: options.cwd,
        json: options.json,
        log: this.log,
        notifyRetryDelaysMs: options.notifyRetryDelaysMs,
        onDelivery: (delivery) => void events.emit('notify:delivery', delivery),
      })
    this.config = new ConfigInEffect(load, events)
    const db = new DbState(events, () => this.config.current.schedulerDb.description)
    this.db = db
    const { leaseMs, json } = options
    const stopSignal = this.stopController.signal
    this.runs = new RunLifecycle({ events, db, me: this.me, leaseMs, json, stopSignal })
    this.housekeeping = new Housekeeping({
      events,
      db,
      leaseMs,
      stopSignal,
      historyDays: options.historyDays,
      current: () => this.config.current,
      reportLost: (lost, loaded) => this.reportLost(lost, loaded),
    })
    this.shutdown = new Shutdown({
      events,
      controller: this.stopController,
      runs: this.runs,
      timeoutMs: options.shutdownTimeoutMs,
      settled: () => this.inFlight.settled(),
      halt: () => {
        clearTimeout(this.timer)
        this.housekeeping.stop()
      },
      close: async () => {
        await this.config.current.notifier.flush(5000)
        await this.metricsServer?.close()
        await this.config.current.close()
      },
    })
  }

  /** Resolves with the exit code once the watcher stopped. */
  get stopped(): Promise<number> {
    return this.shutdown.done
  }

  /** Loads the config (throws on a bad one, or one without schedules: exit 2) and starts the loop. */
  async start(): Promise<void> {
    const loaded = await this.config.start()
    this.planner.replace(loaded.session.config.schedules)
    this.metricsServer = await serveMetrics(this.options, {
      events: this.events,
      health: () => this.health(),
      log: this.log,
      loaded,
      current: () => this.config.current,
    })
    await this.events.emit('watch:started', {
      watcher: this.me.id,
      database: loaded.base.db.description,
      metricsPort: this.metricsServer?.port,
      schedules: this.planner.all(),
    })
    this.arm()
    this.inFlight.track(this.connect())
  }

  /** SIGTERM/SIGINT: see Shutdown. */
  stop(signal: string): void {
    this.shutdown.request(signal)
  }

  /** SIGHUP: load the config again; a config that does not validate leaves the old one running. */
  reload(): Promise<void> {
    return this.config.reload(this.stopController.signal, (next) => {
      const changes = this.planner.replace(next.session.config.schedules)
      const schedules = this.planner.all()
      void this.events.emit('config:reloaded', { ...changes, schedules, inFlight: this.runs.size })
      this.arm()
    })
  }

  /** /healthz: alive, not stopping, and no schedule's tick overdue by more than a minute. */
  health(): Health {
    const stopping = this.stopController.signal.aborted
    const overdue = this.planner.overdue()
    return {
      ok: !stopping && overdue.length === 0,
      status: stopping ? 'stopping' : overdue.length ? 'behind' : 'ok',
      watcher: this.me.id,
      database: this.db.up === undefined ? 'unknown' : this.db.up ? 'up' : 'down',
      schemaReady: this.schemaReady,
      lastWake: this.planner.lastWake.toISOString(),
      running: this.runs.running(),
      schedules: Object.fromEntries(
        this.planner.all().map((s) => [s.name, { next: s.next.toISOString() }]),
      ),
      ...(overdue.length ? { overdue } : {}),
    }
  }

  /** One timer, until the earliest tick. With no schedules it still runs: it keeps the process alive. */
  private arm(): void {
    clearTimeout(this.timer)
    if (this.stopController.signal.aborted) return
    this.timer = setTimeout(() => this.wake(), this.planner.sleepMs())
  }

  private wake(): void {
    for (const due of this.planner.wake()) {
      void this.events.emit('tick:due', due)
      this.inFlight.track(this.runTick(due.schedule, due.fire, this.config.current))
    }
    this.arm()
  }

  /** Claims a tick (retrying while the database is unreachable) and runs it if this watcher won it. */
  private runTick(schedule: PlannedSchedule, tick: Date, loaded: LoadedConfig): Promise<void> {
    return loaded.use(async () => {
      const runId = randomUUID()
      const { run, tags, overlap } = schedule.config
      const claim = { schedule: schedule.name, tick, pipelines: [run].flat(), tags, overlap }
      const result = await claimWithRetry(
        loaded.schedulerDb,
        { ...claim, runId, leaseMs: this.options.leaseMs },
        this.me,
        {
          deadline: claimDeadline(schedule, tick),
          signal: this.stopController.signal,
          record: (error) => this.db.record(error),
        },
      )
      if (result.kind !== 'missed') this.reportLost(result.lost, loaded)
      const at = { schedule: schedule.name, tick, runId, overlap }
      await this.events.emit('tick:outcome', tickOutcomeOf(result, at))
      if (result.kind === 'run' || result.kind === 'queued')
        await this.runs.execute({ schedule, tick, runId, queued: result.kind === 'queued', loaded })
    })
  }

  /** Runs of dead watchers, found by a claim or a sweep; alerted with the schedule's ping as now configured. */
  private reportLost(lost: LostRun[], loaded: LoadedConfig): void {
    for (const run of lost) {
      const ping = this.planner.get(run.schedule)?.config.ping
      void this.events.emit('run:lost', { run, notifier: loaded.notifier, ping })
    }
  }

  /** The schema and lost runs first (retried while the database is down), then catch-up and sweeps. */
  private async connect(): Promise<void> {
    await this.housekeeping.connect()
    if (this.stopController.signal.aborted) return
    this.schemaReady = true
    await this.catchUp()
    this.housekeeping.startSweeping((work) => this.inFlight.track(work))
  }

  /** catchUp 'latest': a tick missed while no watcher ran is run once, when the schedule ran before. */
  private async catchUp(): Promise<void> {
    const loaded = this.config.current
    for (const { schedule, latest } of this.planner.catchUpCandidates()) {
      const lastClaimed = await latestClaimedTick(loaded.schedulerDb, schedule.name).catch(
        () => undefined,
      )
      if (!missedWhileAway(latest, lastClaimed)) continue
      await this.events.emit('tick:catch-up', {
        schedule: schedule.name,
        tick: latest,
        lastClaimed,
      })
      this.inFlight.track(this.runTick(schedule, latest, loaded))
    }
  }
}
