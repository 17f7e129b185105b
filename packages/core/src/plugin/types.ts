import type { z } from 'zod'
import type { Context } from '../context.ts'
import type { StorageSpec } from '../storage/types.ts'
import type { HttpSurface } from './http.ts'
import type { ArgSpecs, CommandInput, FlagSpecs } from '../cli/declaration/types.ts'

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

/**
 * A command: `dbops <name> ...`, its name being the key it is registered under (a plugin's
 * `commands`, a group's `subcommands`). It declares its arguments and flags; the CLI parses
 * the command line against them, writes the help and the usage errors from them, and calls
 * `run` with the parsed values, typed by the declaration. Build one with `defineCommand`.
 */
export interface Command<
  F extends FlagSpecs = FlagSpecs,
  A extends ArgSpecs = ArgSpecs,
  C = CommandContext,
> {
  /** One line, for the command lists. */
  summary: string
  /** The help's paragraphs under the usage line (the summary when left out). */
  description?: string
  /** Positional arguments, in order. */
  args?: A
  /** Flags by the name `run` reads them under: `targetDb` is `--target-db`. */
  flags?: F
  /** Accept any other `--<name>` switch (its name arrives in `input.otherFlags`), as `dbops watch --dashboard` does. */
  otherFlags?: { placeholder: string; description: string }
  /** Whole command lines for the help; the first is the hint of a usage error. */
  examples?: readonly string[]
  /** The help's last paragraphs: exit codes, files, signals. */
  notes?: string
  /** A group: `dbops <name> <subcommand> ...`. A command has either these or `run`. */
  subcommands?: Readonly<Record<string, Command<FlagSpecs, ArgSpecs, C>>>
  run?(input: CommandInput<F, A>, ctx: C): Promise<number | undefined> | number | undefined
}

/** The input a command's `run` receives: for a module that implements a declared command. */
export type InputOf<T> = T extends Command<infer F, infer A, infer _C> ? CommandInput<F, A> : never

export interface CommandContext extends Context {
  /** Writes one line to stdout (not used with --json). */
  print(line: string): void
  /** Writes the one JSON document of a `--json` command to stdout. */
  printJson(value: unknown): void
  json: boolean
}

export interface PluginParts<T extends Record<string, Task<unknown>>> {
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
  T extends Record<string, Task<unknown>>,
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
  setup(options: unknown, api: PluginApi): PluginParts<Record<string, Task<unknown>>>
  /** Phantom: carries the task names for the config's types. Never set. */
  readonly __tasks?: TaskName
}

export type TaskIdOf<P> = P extends PluginInstance<infer NS, infer T> ? `${NS}:${T}` : never

export type { StorageSpec, HttpSurface }
