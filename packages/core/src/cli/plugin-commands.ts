import type { ConfigEnv } from '../config/define.ts'
import { applyEnvConventions } from '../config/env.ts'
import { loadConfig } from '../config/load.ts'
import { ONE_SHOT } from '../config/resolve.ts'
import { coreConfigSchema, type CoreConfig } from '../config/schema.ts'
import type { Command, PluginInstance } from '../plugin/types.ts'

export type PluginCommands = ReadonlyMap<string, { plugin: string; command: Command }>

/**
 * The commands of the config's plugins, for help: unlike a real session, unset env vars,
 * core settings that do not validate (no DATABASE_URL) and plugin options that do not
 * validate (those plugins are set up with their defaults) do not stop it. Only a config that
 * cannot be evaluated at all does, and that error is what the caller reports.
 */
export async function pluginCommandsForHelp(options: {
  configFile?: string
  env: ConfigEnv
}): Promise<PluginCommands> {
  const loaded = await loadConfig({
    file: options.configFile,
    env: options.env,
    allowMissingEnv: true,
  })
  const input = applyEnvConventions(loaded.raw)
  const core = coreConfigSchema.safeParse(input, ONE_SHOT)
  const commands = new Map<string, { plugin: string; command: Command }>()
  const plugins = Array.isArray(input.plugins) ? (input.plugins as PluginInstance[]) : []
  for (const plugin of plugins) {
    if (plugin?.kind !== 'plugin') continue
    const parsed = [
      plugin.schema.safeParse(plugin.input ?? {}, ONE_SHOT),
      plugin.schema.safeParse({}, ONE_SHOT),
    ].find((r) => r.success)
    if (!parsed) continue
    try {
      const parts = plugin.setup(parsed.data, {
        configDir: loaded.dir,
        config: (core.success ? core.data : input) as CoreConfig,
      })
      for (const [name, command] of Object.entries(parts.commands ?? {}))
        if (!commands.has(name)) commands.set(name, { plugin: plugin.name, command })
    } catch {
      // A plugin whose setup needs a valid config has no help to give without one.
    }
  }
  return commands
}
