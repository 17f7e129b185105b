import type { CoreConfigInput } from './schema.ts'
import type { PluginInstance, TaskIdOf } from '../plugin/types.ts'

/** Task ids core provides to every config. */
export type CoreTaskId = 'retention:apply'

/** A pipeline step, typed against the tasks of the config's plugins and its pipeline names. */
export type TypedStep<Id extends string> =
  | Id
  | { parallel: readonly TypedStep<Id>[] }
  | { task: Id; continueOnError?: boolean }

export type DbopsConfig<
  P extends readonly PluginInstance<string, string>[] = readonly PluginInstance<string, string>[],
  PL extends string = string,
> = Omit<CoreConfigInput, 'plugins' | 'pipelines'> & {
  plugins?: P
  pipelines?: { [K in PL]: readonly TypedStep<TaskIdOf<P[number]> | CoreTaskId | NoInfer<PL>>[] }
}

export interface ConfigEnv {
  /** The CLI command being run: `run`, `watch`, `list`, ... */
  command: string
  dryRun: boolean
}

/**
 * Returns its argument; exists so that the config is typed: a pipeline step naming a task
 * no plugin provides (or a pipeline that does not exist) is a type error.
 */
export function defineConfig<
  const P extends readonly PluginInstance<string, string>[],
  const PL extends string,
>(config: DbopsConfig<P, PL>): DbopsConfig<P, PL>
export function defineConfig<
  const P extends readonly PluginInstance<string, string>[],
  const PL extends string,
>(
  config: (env: ConfigEnv) => DbopsConfig<P, PL> | Promise<DbopsConfig<P, PL>>,
): (env: ConfigEnv) => DbopsConfig<P, PL> | Promise<DbopsConfig<P, PL>>
export function defineConfig(config: unknown): unknown {
  return config
}
