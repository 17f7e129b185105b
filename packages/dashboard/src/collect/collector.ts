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
import { parseSince, type DashboardOptions } from '../options.ts'
import { readDestination, type DestinationRead } from './backups.ts'
import { HEALTH_NEWEST, HEALTH_TABLES, readHealthNow, readHealthSeries } from './health.ts'
import { readMigrations, type MigrationsState } from './migrations.ts'
import { readOnly } from './read-only.ts'
import { readRuns } from './runs.ts'
import type { CheckNow, CheckSeries, RunRow, SourceState } from './types.ts'

export interface CollectorEnv {
  config: ResolvedConfig
  logger: Logger
  secrets: readonly string[]
  options: DashboardOptions
  /** How far back runs, sets and health history are read. */
  since: string
}

/** What the dashboard last knew, source by source; a source that fails keeps its last good data. */
export interface DashboardState {
  since: Date
  target: string
  refreshedAt: string | null
  /** Bumped after every read: views may cache what they derive per version. */
  version: number
  database: {
    up: boolean | null
    checkedAt: string | null
    error?: string
    downSince?: string
    lastUpAt?: string
  }
  sources: {
    runs: SourceState
    health: SourceState
    migrations: SourceState
    backups: Record<string, SourceState>
  }
  runs: Map<string, RunRow>
  runsRecorded: boolean
  health: { now: CheckNow[]; series: CheckSeries[]; recorded: boolean; newest: string | null }
  backups: Map<string, DestinationRead>
  migrations: MigrationsState | null
}

const MIGRATIONS_EVERY_MS = 60_000
const fresh = (): SourceState => ({ at: null, triedAt: null })

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
    this.state = {
      since: new Date(Date.now() - parseSince(env.since)),
      target: this.db.description,
      refreshedAt: null,
      version: 0,
      database: { up: null, checkedAt: null },
      sources: {
        runs: fresh(),
        health: fresh(),
        migrations: fresh(),
        backups: Object.fromEntries([...this.storage.keys()].map((n) => [n, fresh()])),
      },
      runs: new Map(),
      runsRecorded: false,
      health: { now: [], series: [], recorded: false, newest: null },
      backups: new Map(),
      migrations: null,
    }
  }

  /** Refreshes every `refreshSeconds` until closed. */
  start(): void {
    const every = this.env.options.refreshSeconds * 1000
    const tick = () => {
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
    this.refreshing ??= this.readAll().finally(() => (this.refreshing = undefined))
    return this.refreshing
  }

  async close(): Promise<void> {
    clearTimeout(this.timer)
    this.controller.abort()
    await this.refreshing?.catch(() => {})
    await this.db.close().catch(() => {})
    await this.historyDb?.close().catch(() => {})
    for (const s of this.storage.values()) await s.close?.()
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
        s.sources.runs = { at: now.toISOString(), triedAt: now.toISOString() }
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

  private async readHealth(client: import('pg').ClientBase, now: Date): Promise<void> {
    const h = this.state.health
    const exists = (await client.query<{ exists: boolean }>(HEALTH_TABLES)).rows[0]?.exists ?? false
    h.recorded = exists
    if (exists) {
      const newest =
        (
          await client.query<{ newest: Date | null }>(HEALTH_NEWEST)
        ).rows[0]?.newest?.toISOString() ?? null
      // The history changes only when a run lands: the aggregation runs again only then (or hourly, as the window moves).
      const moved = Date.now() - (this.seriesReadAt ?? 0) > 3_600_000
      if (newest !== h.newest || moved || this.state.sources.health.at === null) {
        h.now = (await readHealthNow(client)).map((c) => ({
          ...c,
          message: c.message === null ? null : this.clean(c.message),
        }))
        h.series = await readHealthSeries(client, this.state.since)
        h.newest = newest
        this.seriesReadAt = Date.now()
      }
    } else {
      h.now = []
      h.series = []
      h.newest = null
    }
    this.state.sources.health = { at: now.toISOString(), triedAt: now.toISOString() }
  }

  private seriesReadAt: number | undefined

  private markDatabase(now: Date, error?: unknown): void {
    const d = this.state.database
    const at = now.toISOString()
    if (error === undefined) {
      this.state.database = { up: true, checkedAt: at, lastUpAt: at }
      return
    }
    const message = this.clean(messageOf(error))
    if (d.up !== false)
      this.env.logger.warn(
        `dashboard: the database is unreachable (${message}); showing what was last read`,
      )
    this.state.database = {
      up: false,
      checkedAt: at,
      error: message,
      downSince: d.up === false ? d.downSince : at,
      ...(d.lastUpAt ? { lastUpAt: d.lastUpAt } : {}),
    }
  }

  private async readStorage(storage: Storage, now: Date): Promise<void> {
    const source = (this.state.sources.backups[storage.name] ??= fresh())
    source.triedAt = now.toISOString()
    try {
      this.state.backups.set(storage.name, await readDestination(storage, this.manifests))
      this.state.sources.backups[storage.name] = {
        at: now.toISOString(),
        triedAt: now.toISOString(),
      }
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
      this.state.sources.migrations = { at: now.toISOString(), triedAt: now.toISOString() }
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
