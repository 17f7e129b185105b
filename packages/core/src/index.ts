// `dbops`: what a config author uses. The kit that plugins build on (Db, errors, storage,
// manifests, retention, argument helpers) is `dbops/plugin`; test helpers are `dbops/testing`.
export { defineConfig, type DbopsConfig, type ConfigEnv, type TypedStep } from './config/define.ts'
export { env } from './config/env.ts'
export { definePlugin, defineStorage } from './plugin/define.ts'
export type {
  CoreConfig,
  CoreConfigInput,
  ConnectionConfig,
  PoolConfig,
  RetentionPolicy,
  ScheduleConfig,
  Step,
} from './config/schema.ts'
export type {
  Task,
  TaskIO,
  Command,
  CommandContext,
  PluginApi,
  PluginInstance,
  PluginParts,
} from './plugin/types.ts'
export type { Context } from './context.ts'
export type { Storage, StorageSpec } from './storage/types.ts'
