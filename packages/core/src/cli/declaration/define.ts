import type { Command, CommandContext } from '../../plugin/types.ts'
import type { ArgSpecs, FlagSpecs } from './types.ts'

type None = Readonly<Record<never, never>>

/**
 * Declares a plugin's command and returns it as it is: it exists so that `run`'s input is
 * typed from the declared `flags` and `args` (`--jobs` declared a number is a number).
 */
export function defineCommand<const F extends FlagSpecs = None, const A extends ArgSpecs = None>(
  command: Command<F, A, CommandContext>,
): Command<F, A, CommandContext> {
  return command
}
