import type { z } from 'zod'
import { ConfigError } from '../errors.ts'
import type { Command, PluginInstance, PluginParts, Task } from '../plugin/types.ts'
import type { HttpSurface } from '../plugin/http.ts'
import { coreTasks } from '../core-tasks.ts'
import type { Storage, StorageSpec } from '../storage/types.ts'
import { localStorage } from '../storage/local.ts'
import { applyEnvConventions } from './env.ts'
import type { LoadedConfig } from './load.ts'
import { formatIssues } from './problems.ts'
import { checkPipelines } from './pipelines.ts'
import { coreConfigSchema, type CoreConfig } from './schema.ts'
import path from 'node:path'

export interface RegisteredTask {
  id: string
  plugin: string
  task: Task<unknown>
}

export interface ResolvedConfig extends CoreConfig {
  file: string
  dir: string
  tasks: ReadonlyMap<string, RegisteredTask>
  commands: ReadonlyMap<string, { plugin: string; command: Command }>
  /** HTTP surfaces of the plugins, by name (`dbops watch --<name>`). */
  http: ReadonlyMap<string, { plugin: string; surface: HttpSurface }>
  /** Validated options of each plugin, by namespace. */
  pluginOptions: Readonly<Record<string, unknown>>
  /** Validated options of each storage factory (`s3({...})`), by destination name. */
  storageOptions: Readonly<Record<string, unknown>>
  /** Creates the configured destinations (one per name). */
  createStorage(): Map<string, Storage>
  /** Calls every plugin's close(). */
  close(): Promise<void>
}

/**
 * A config is parsed once per process: zod's compiled fast path (a `new Function` per object
 * schema, built on its first parse) costs more than it saves, ~15 ms of `dbops list`.
 */
export const ONE_SHOT = { jitless: true } as const

/**
 * Validates core and every plugin's and storage's options, reporting every problem at once,
 * then runs each plugin's setup and checks the pipelines against the task registry.
 * Nothing here touches a database.
 */
export function resolveConfig(
  loaded: LoadedConfig,
  source: NodeJS.ProcessEnv = process.env,
): ResolvedConfig {
  const input = applyEnvConventions(loaded.raw, source)
  const problems: string[] = []
  const parsed = coreConfigSchema.safeParse(input, ONE_SHOT)
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, [], coreConfigSchema))

  const rawPlugins = Array.isArray(input.plugins) ? (input.plugins as PluginInstance[]) : []
  const pluginOptions: Record<string, unknown> = {}
  rawPlugins.forEach((plugin, i) => {
    if (plugin?.kind !== 'plugin') return
    const result = plugin.schema.safeParse(plugin.input ?? {}, ONE_SHOT)
    if (result.success) pluginOptions[plugin.namespace] = result.data
    else
      problems.push(
        ...formatIssues(result.error.issues, [`plugins[${i}](${plugin.name})`], plugin.schema),
      )
  })

  const rawStorage = (
    typeof input.storage === 'object' && input.storage !== null ? input.storage : {}
  ) as Record<string, unknown>
  const storageOptions: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(rawStorage)) {
    if ((spec as StorageSpec | undefined)?.kind !== 'storage') continue
    const s = spec as StorageSpec
    const result = (s.schema as z.ZodType).safeParse(s.input ?? {}, ONE_SHOT)
    if (result.success) storageOptions[name] = result.data
    else problems.push(...formatIssues(result.error.issues, ['storage', name], s.schema))
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  const config = parsed.data

  const seen = new Map<string, string>()
  for (const plugin of config.plugins) {
    const other = seen.get(plugin.namespace)
    if (other)
      problems.push(
        `plugins: '${plugin.name}' and '${other}' both use the namespace '${plugin.namespace}'`,
      )
    seen.set(plugin.namespace, plugin.name)
  }

  const tasks = new Map<string, RegisteredTask>()
  const commands = new Map<string, { plugin: string; command: Command }>()
  const http = new Map<string, { plugin: string; surface: HttpSurface }>()
  const closers: (() => Promise<void> | void)[] = []
  for (const [id, task] of Object.entries(coreTasks))
    tasks.set(id, { id, plugin: 'dbops', task: task as Task<unknown> })
  for (const plugin of config.plugins) {
    // biome-ignore lint/suspicious/noExplicitAny: plugins' tasks have their own result types
    let parts: PluginParts<Record<string, Task<any>>>
    try {
      parts = plugin.setup(pluginOptions[plugin.namespace], { configDir: loaded.dir, config })
    } catch (error) {
      problems.push(`plugins(${plugin.name}): setup failed: ${(error as Error).message}`)
      continue
    }
    for (const [name, task] of Object.entries(parts.tasks ?? {}))
      tasks.set(`${plugin.namespace}:${name}`, {
        id: `${plugin.namespace}:${name}`,
        plugin: plugin.name,
        task,
      })
    for (const [name, command] of Object.entries(parts.commands ?? {})) {
      if (commands.has(name))
        problems.push(
          `plugins(${plugin.name}): the command '${name}' is already provided by ${commands.get(name)!.plugin}`,
        )
      commands.set(name, { plugin: plugin.name, command })
    }
    for (const [name, surface] of Object.entries(parts.http ?? {})) {
      if (http.has(name))
        problems.push(
          `plugins(${plugin.name}): the HTTP surface '${name}' is already provided by ${http.get(name)!.plugin}`,
        )
      http.set(name, { plugin: plugin.name, surface })
    }
    if (parts.close) closers.push(parts.close)
  }

  problems.push(...checkPipelines(config.pipelines, new Set(tasks.keys())))
  for (const [name, schedule] of Object.entries(config.schedules)) {
    for (const target of [schedule.run].flat()) {
      if (!(target in config.pipelines) && !tasks.has(target))
        problems.push(`schedules.${name}.run: '${target}' is neither a pipeline nor a task`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    ...config,
    file: loaded.file,
    dir: loaded.dir,
    tasks,
    commands,
    http,
    pluginOptions,
    storageOptions,
    createStorage() {
      const out = new Map<string, Storage>()
      for (const [name, spec] of Object.entries(config.storage)) {
        if ('dir' in spec) out.set(name, localStorage(name, path.resolve(loaded.dir, spec.dir)))
        else out.set(name, spec.create(storageOptions[name], name))
      }
      return out
    },
    async close() {
      for (const close of closers) await close()
    },
  }
}
