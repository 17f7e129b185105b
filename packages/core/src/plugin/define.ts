import type { z } from 'zod'
import type { PluginDefinition, PluginInstance, Task } from './types.ts'
import type { Storage, StorageSpec } from '../storage/types.ts'

/**
 * Declares a plugin. Returns the factory a config calls: `pgdump({ format: 'custom' })`.
 * The factory only records its input; validation happens with the whole config so that
 * every problem is reported at once.
 */
export function definePlugin<
  const NS extends string,
  O extends z.ZodType,
  // biome-ignore lint/suspicious/noExplicitAny: a task's result type is free here; `unknown` would erase what each plugin's tasks declare
  T extends Record<string, Task<any>>,
>(
  definition: PluginDefinition<NS, O, T>,
): (
  // biome-ignore lint/complexity/noBannedTypes: `{} extends` asks whether every option is optional
  ...input: {} extends z.input<O> ? [options?: z.input<O>] : [options: z.input<O>]
) => PluginInstance<NS, Extract<keyof T, string>> {
  return (...input) => ({
    kind: 'plugin',
    name: definition.name,
    namespace: definition.namespace,
    schema: definition.options,
    input: input[0] ?? {},
    setup: (options, api) => definition.setup(options as z.output<O>, api),
  })
}

/** Declares a storage backend. Returns the factory a config calls in `storage`. */
export function defineStorage<S extends z.ZodType>(definition: {
  type: string
  options: S
  create(options: z.output<S>, name: string): Storage
}): (input: z.input<S>) => StorageSpec<S> {
  return (input) => ({
    kind: 'storage',
    type: definition.type,
    schema: definition.options,
    input,
    create: definition.create,
  })
}
