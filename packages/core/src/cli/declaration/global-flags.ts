import type { FlagSpecs, FlagValues } from './types.ts'

/**
 * The flags every command accepts, anywhere on its command line. The CLI reads them before
 * it knows the command (a plugin's command is known only once the config is loaded).
 */
export const GLOBAL_FLAGS = {
  config: {
    type: 'string',
    short: 'c',
    placeholder: 'file',
    description: 'use this config file (default: search for dbops.config.ts upwards)',
  },
  json: { type: 'boolean', description: 'one JSON document on stdout' },
  dryRun: { type: 'boolean', description: 'mutating tasks print what they would do instead' },
  timeout: { type: 'duration', description: 'abort after a duration (90s, 30m, 2h)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'v', description: 'print the version of dbops' },
} as const satisfies FlagSpecs

/** The global flags as parsed: what a core command receives besides its own input. */
export type Globals = FlagValues<typeof GLOBAL_FLAGS>
