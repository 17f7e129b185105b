import type { Context } from '../context.ts'
import { Db } from '../db/db.ts'
import type { Logger } from '../logger.ts'
import { createNotifier, type Delivery, type Notifier } from '../notify/notifier.ts'
import { planRun } from '../runner/plan.ts'
import { openSession, type Session } from '../session.ts'
import { createEventLog } from './event-log.ts'

/**
 * One loaded config and what the watcher built from it. After a reload replaced it, it is
 * kept until the last tick and run using it ended (`use`), then closed.
 */
export class LoadedConfig {
  readonly session: Session
  /** The context runs copy (with their own signal, id, tags, results): one pool for all runs. */
  readonly base: Context
  /** A small pool of its own for claims and leases, so a busy pipeline cannot starve them. */
  readonly schedulerDb: Db
  readonly notifier: Notifier
  /** Ticks and runs still using this config. */
  private users = 0
  /** Replaced by a reload: closed once `users` drops to 0. */
  private retired = false
  private closing: Promise<void> | undefined

  constructor(parts: { session: Session; base: Context; schedulerDb: Db; notifier: Notifier }) {
    this.session = parts.session
    this.base = parts.base
    this.schedulerDb = parts.schedulerDb
    this.notifier = parts.notifier
  }

  /** Runs `work` (a tick's claim and run) with this config kept open until it ends. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    this.users++
    try {
      return await work()
    } finally {
      this.users--
      void this.closeIfUnused()
    }
  }

  /** A reload replaced this config: it closes once nothing uses it any more. */
  retire(): void {
    this.retired = true
    void this.closeIfUnused()
  }

  /** Closes both pools (the config in effect, at shutdown or when it cannot be used). */
  async close(): Promise<void> {
    await this.schedulerDb.close().catch(() => {})
    await this.session.close().catch(() => {})
  }

  private async closeIfUnused(): Promise<void> {
    if (!this.retired || this.users > 0) return
    this.closing ??= this.notifier.flush(5000).then(() => this.close())
    await this.closing
  }
}

/** Loads and validates the config; a schedule naming an unknown pipeline fails here (exit 2, or a refused reload). */
export async function loadForWatch(options: {
  configFile?: string
  cwd?: string
  json: boolean
  log: Logger
  notifyRetryDelaysMs?: number[]
  onDelivery?: (delivery: Delivery) => void
}): Promise<LoadedConfig> {
  const session = await openSession({
    configFile: options.configFile,
    cwd: options.cwd,
    env: { command: 'watch', dryRun: false },
  })
  try {
    const config = session.config
    for (const schedule of Object.values(config.schedules)) {
      planRun(config, [schedule.run].flat())
      if (schedule.ping) session.secrets.push(schedule.ping)
    }
    const base = session.createContext({ signal: new AbortController().signal, dryRun: false })
    // In JSON mode the tasks' own log lines are JSON events on stdout too.
    const logger = options.json
      ? createEventLog({ json: true, secrets: () => session.secrets })
      : base.logger
    const notifier = createNotifier({
      targets: config.notify,
      logger: options.log,
      retryDelaysMs: options.notifyRetryDelaysMs,
      onDelivery: options.onDelivery,
    })
    const schedulerDb = new Db(config.connection, { ...config.pool, max: 2 })
    return new LoadedConfig({ session, base: { ...base, logger }, schedulerDb, notifier })
  } catch (error) {
    await session.close().catch(() => {})
    throw error
  }
}
