import type { z } from 'zod'
import type { Context } from '../context.ts'
import type { StorageSpec } from '../storage/types.ts'
import type { HttpSurface } from './http.ts'

/** Progress reporting of a running task: shown under its title in the listr2 output. */
export interface TaskIO {
  /** Replaces the task's progress line. */
  output(text: string): void
  /** Changes the task's title (e.g. to add a count once known). */
  title(text: string): void
}

export interface Task<R = unknown> {
  title: string
  /** A mutating task does not run under `--dry-run`: its `plan` is shown instead. */
  mutates?: boolean
  run(ctx: Context, io: TaskIO): Promise<R> | R
  /** What the task would do, for `--dry-run`. Lines of text. */
  plan?(ctx: Context, io: TaskIO): Promise<string[]> | string[]
  /** Return true or a reason to skip this task in this run. */
  skip?(ctx: Context): Promise<boolean | string> | boolean | string
  /** One line describing a result, for the progress output and `--json`. */
  summarize?(result: R): string
}

/** A CLI command a plugin adds: `dbops <name> ...args`. */
export interface Command {
  summary: string
  /** Full help text printed by `dbops <name> --help`. */
  help: string
  /** Commands that only read never open a write path; all get a Context. */
  run(args: string[], ctx: CommandContext): Promise<number | void>
}

export interface CommandContext extends Context {
  /** Writes one line to stdout (not used with --json). */
  print(line: string): void
  /** Writes the one JSON document of a `--json` command to stdout. */
  printJson(value: unknown): void
  json: boolean
}

export interface PluginParts<T extends Record<string, Task<any>>> {
  tasks?: T
  commands?: Record<string, Command>
  /** HTTP surfaces `dbops watch --<name>` can serve beside /metrics (see http.ts). */
  http?: Record<string, HttpSurface>
  close?(): Promise<void> | void
}

/** What `setup` receives besides its options. */
export interface PluginApi {
  /** Absolute directory of the config file: resolve the plugin's relative paths against it. */
  configDir: string
  /** The resolved core config (connection secrets included: never print it). */
  config: import('../config/schema.ts').CoreConfig
}

export interface PluginDefinition<
  NS extends string,
  O extends z.ZodType,
  T extends Record<string, Task<any>>,
> {
  name: string
  /** Task ids are `namespace:task`. */
  namespace: NS
  options: O
  setup(options: z.output<O>, api: PluginApi): PluginParts<T>
}

/** What a plugin factory returns and the config's `plugins` array holds. */
export interface PluginInstance<NS extends string = string, TaskName extends string = string> {
  readonly kind: 'plugin'
  readonly name: string
  readonly namespace: NS
  readonly schema: z.ZodType
  readonly input: unknown
  setup(options: unknown, api: PluginApi): PluginParts<Record<string, Task<any>>>
  /** Phantom: carries the task names for the config's types. Never set. */
  readonly __tasks?: TaskName
}

export type TaskIdOf<P> = P extends PluginInstance<infer NS, infer T> ? `${NS}:${T}` : never

export type { StorageSpec, HttpSurface }
