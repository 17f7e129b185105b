import type { Context } from '../context.ts'
import { Db } from '../db/db.ts'
import type { Logger } from '../logger.ts'
import { createNotifier, type Delivery, type Notifier } from '../notify/notifier.ts'
import { planRun } from '../runner/plan.ts'
import { openSession, type Session } from '../session.ts'
import { createEventLog } from './event-log.ts'

/** One loaded config and what the watcher built from it; kept until its last run ends after a reload. */
export interface Loaded {
  session: Session
  /** The context runs copy (with their own signal, id, tags, results): one pool for all runs. */
  base: Context
  /** A small pool of its own for claims and leases, so a busy pipeline cannot starve them. */
  schedulerDb: Db
  notifier: Notifier
  /** Ticks and runs still using this config. */
  refs: number
  /** Replaced by a reload: closed once `refs` drops to 0. */
  retired: boolean
}

/** Loads and validates the config; a schedule naming an unknown pipeline fails here (exit 2, or a refused reload). */
export async function loadForWatch(options: {
  configFile?: string
  cwd?: string
  json: boolean
  log: Logger
  notifyRetryDelaysMs?: number[]
  onDelivery?: (delivery: Delivery) => void
}): Promise<Loaded> {
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
    return { session, base: { ...base, logger }, schedulerDb, notifier, refs: 0, retired: false }
  } catch (error) {
    await session.close().catch(() => {})
    throw error
  }
}

export async function closeLoaded(loaded: Loaded): Promise<void> {
  await loaded.schedulerDb.close().catch(() => {})
  await loaded.session.close().catch(() => {})
}
