import { DbopsError } from '../errors.ts'
import type { LoadedConfig } from './loaded-config.ts'
import type { WatchEvents } from './watch-events.ts'

/**
 * The config the watcher runs under, and SIGHUP's reload of it. A config that does not
 * validate leaves the previous one in effect; runs in flight finish under the config they
 * started with, which is closed once they are done (LoadedConfig.retire).
 */
export class ConfigInEffect {
  private loaded: LoadedConfig | undefined
  private reloading: Promise<void> | undefined
  private readonly load: () => Promise<LoadedConfig>
  private readonly events: WatchEvents

  constructor(load: () => Promise<LoadedConfig>, events: WatchEvents) {
    this.load = load
    this.events = events
  }

  get current(): LoadedConfig {
    if (!this.loaded) throw new Error('the watcher has not loaded its config yet')
    return this.loaded
  }

  /** The secrets to scrub from log lines: none before the first config loaded. */
  secrets(): string[] {
    return this.loaded?.session.secrets ?? []
  }

  /** The first load; a bad config, or one without schedules, throws (exit 2). */
  async start(): Promise<LoadedConfig> {
    const loaded = await this.load()
    if (Object.keys(loaded.session.config.schedules).length === 0) {
      await loaded.close()
      throw new DbopsError(
        'WATCH_NO_SCHEDULES',
        'the config has no schedules, so there is nothing to watch',
        {
          exitCode: 2,
          hint: "Add schedules: { nightly: { cron: '0 2 * * *', run: 'backup' } } to the config, or use `dbops run`.",
        },
      )
    }
    this.loaded = loaded
    return loaded
  }

  /**
   * Loads the config again; SIGHUPs during a reload share it. Once the new config is in
   * effect, `apply` gets it (to plan its schedules). Nothing happens once the watcher stops.
   */
  reload(stop: AbortSignal, apply: (next: LoadedConfig) => void): Promise<void> {
    if (stop.aborted) return Promise.resolve()
    this.reloading ??= this.swap(stop, apply).finally(() => {
      this.reloading = undefined
    })
    return this.reloading
  }

  private async swap(stop: AbortSignal, apply: (next: LoadedConfig) => void): Promise<void> {
    await this.events.emit('config:reload', {})
    let next: LoadedConfig
    try {
      next = await this.load()
    } catch (error) {
      await this.events.emit('config:reload-failed', { error })
      return
    }
    if (stop.aborted) {
      await next.close()
      return
    }
    const old = this.current
    this.loaded = next
    old.retire()
    apply(next)
  }
}
