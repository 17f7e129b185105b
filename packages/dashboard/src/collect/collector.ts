import { randomUUID } from 'node:crypto'
import {
  Db,
  messageOf,
  scrub,
  type Context,
  type Logger,
  type ResolvedConfig,
  type Storage,
} from 'dbops/plugin'
import type pg from 'pg'
import { parseSince, type DashboardOptions } from '../options.ts'
import { readDestination } from './backups.ts'
import { refreshHealth } from './health.ts'
import { readMigrations } from './migrations.ts'
import { readOnly } from './read-only.ts'
import { readRuns } from './runs.ts'
import { databaseAfterRead, initialState, readAt, unread, type DashboardState } from './state.ts'

export interface CollectorEnv {
  config: ResolvedConfig
  logger: Logger
  secrets: readonly string[]
  options: DashboardOptions
  /** How far back runs, sets and health history are read. */
  since: string
}

const MIGRATIONS_EVERY_MS = 60_000
/** The health series are aggregated again at least this often: the window moves. */
const SERIES_EVERY_MS = 3_600_000

/**
 * Reads every source in the background and keeps the result in memory: the API answers
 * from here (fast, and still when the database or a destination is down). Reads are
 * read-only transactions on a small pool of its own; storage is only listed and read.
 */
export class Collector {
  readonly state: DashboardState
  private readonly db: Db
  private readonly historyDb: Db | undefined
  private readonly storage: Map<string, Storage>
  private readonly manifests = new Map<string, { size: number; modified: number; body: string }>()
  private readonly listeners = new Set<() => void>()
  private readonly controller = new AbortController()
  private readonly env: CollectorEnv
  private timer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private lastRunsRead: Date | null = null
  private lastMigrations = 0
  private seriesReadAt = 0
  private readonly context: Context

  constructor(env: CollectorEnv) {
    this.env = env
    const pool = {
      ...env.config.pool,
      max: 2,
      queryTimeoutMs: env.options.statementTimeoutMs + 2000,
      connectTimeoutMs: Math.min(env.config.pool.connectTimeoutMs, 5000),
    }
    this.db = new Db({ ...env.config.connection, applicationName: 'dbops dashboard' }, pool)
    const historyUrl = healthHistoryUrl(env.config)
    this.historyDb = historyUrl
      ? new Db({ url: historyUrl, applicationName: 'dbops dashboard' }, pool)
      : undefined
    this.storage = env.config.createStorage()
    this.context = {
      config: env.config,
      logger: env.logger,
      db: this.db,
      storage: this.storage,
      signal: this.controller.signal,
      dryRun: false,
      runId: randomUUID(),
      tags: [],
      results: {},
    }
    this.state = initialState(this.db.description, [...this.storage.keys()], env.since)
  }

  /** Refreshes every `refreshSeconds` until closed. */
  start(): void {
    const every = this.env.options.refreshSeconds * 1000
    // A read in flight when close() came must not schedule another: that would reopen the
    // pool and keep the process alive after Ctrl-C.
    const tick = () => {
      if (this.controller.signal.aborted) return
      this.timer = setTimeout(() => void this.refresh().finally(tick), every)
    }
    tick()
  }

  onUpdate(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** One read of every source; concurrent callers share it. */
  refresh(): Promise<void> {
    if (this.controller.signal.aborted) return Promise.resolve()
    this.refreshing ??= this.readAll().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  /**
   * Stops reading. The storages close first: that ends a listing or a manifest read still in
   * flight (an S3 request that never answers would otherwise hold Ctrl-C up for ever); the
   * read then ends on its own error, and the pools close once it has.
   */
  async close(): Promise<void> {
    clearTimeout(this.timer)
    this.controller.abort()
    for (const s of this.storage.values()) await s.close?.()
    await this.refreshing?.catch(() => {})
    await this.db.close().catch(() => {})
    await this.historyDb?.close().catch(() => {})
  }

  private clean = (text: string) => scrub(text, [...this.env.secrets, this.db.target.password])

  private async readAll(): Promise<void> {
    const began = performance.now()
    const now = new Date()
    this.state.since = new Date(now.getTime() - parseSince(this.env.since))
    await Promise.all([
      this.readDatabase(now),
      ...[...this.storage.values()].map((s) => this.readStorage(s, now)),
    ])
    if (this.state.database.up && Date.now() - this.lastMigrations >= MIGRATIONS_EVERY_MS)
      await this.readMigrationStatus(new Date())
    this.state.refreshedAt = new Date().toISOString()
    this.state.version++
    this.env.logger.debug(
      `dashboard: read every source in ${Math.round(performance.now() - began)} ms`,
    )
    for (const l of this.listeners) l()
  }

  private async readDatabase(now: Date): Promise<void> {
    const s = this.state
    s.sources.runs.triedAt = s.sources.health.triedAt = now.toISOString()
    try {
      await readOnly(this.db, this.env.options.statementTimeoutMs, async (client) => {
        s.runsRecorded = await readRuns(client, s.runs, {
          since: s.since,
          changedAfter: this.lastRunsRead,
          scrub: this.clean,
        })
        this.lastRunsRead = now
        s.sources.runs = readAt(now)
        if (!this.historyDb) await this.readHealth(client, now)
      })
      this.markDatabase(now)
    } catch (error) {
      this.markDatabase(now, error)
      s.sources.runs.error = this.clean(messageOf(error))
      if (!this.historyDb) s.sources.health.error = s.sources.runs.error
    }
    if (this.historyDb) {
      try {
        await readOnly(this.historyDb, this.env.options.statementTimeoutMs, (client) =>
          this.readHealth(client, now),
        )
      } catch (error) {
        s.sources.health.error = this.clean(messageOf(error))
      }
    }
  }

  private async readHealth(client: pg.ClientBase, now: Date): Promise<void> {
    const reread =
      Date.now() - this.seriesReadAt > SERIES_EVERY_MS || this.state.sources.health.at === null
    const since = this.state.since
    if (await refreshHealth(client, this.state.health, { since, reread, clean: this.clean }))
      this.seriesReadAt = Date.now()
    this.state.sources.health = readAt(now)
  }

  private markDatabase(now: Date, error?: unknown): void {
    const message = error === undefined ? undefined : this.clean(messageOf(error))
    if (message !== undefined && this.state.database.up !== false)
      this.env.logger.warn(
        `dashboard: the database is unreachable (${message}); showing what was last read`,
      )
    this.state.database = databaseAfterRead(this.state.database, now, message)
  }

  private async readStorage(storage: Storage, now: Date): Promise<void> {
    const sources = this.state.sources.backups
    const source = sources[storage.name] ?? unread()
    sources[storage.name] = source
    source.triedAt = now.toISOString()
    try {
      this.state.backups.set(storage.name, await readDestination(storage, this.manifests))
      sources[storage.name] = readAt(now)
    } catch (error) {
      source.error = this.clean(messageOf(error))
    }
  }

  private async readMigrationStatus(now: Date): Promise<void> {
    this.lastMigrations = Date.now()
    const source = this.state.sources.migrations
    source.triedAt = now.toISOString()
    try {
      this.state.migrations = await readMigrations(this.context)
      this.state.sources.migrations = readAt(now)
    } catch (error) {
      source.error = this.clean(messageOf(error))
    }
  }
}

/** `health({ history: { url } })`: the health plugin's history store, when it is not the target database. */
function healthHistoryUrl(config: ResolvedConfig): string | undefined {
  const history = (
    config.pluginOptions.health as { history?: { url?: unknown } | false } | undefined
  )?.history
  return history && typeof history.url === 'string' ? history.url : undefined
}
