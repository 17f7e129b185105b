import { DbopsError } from '../../errors.ts'
import type { GlobalArgs } from '../args.ts'

export const watchHelp = 'dbops watch: not built yet (the scheduler issue).'

export async function watchCommand(_args: GlobalArgs): Promise<number> {
  throw new DbopsError('NOT_AVAILABLE', 'dbops watch is not available in this version', { exitCode: 2 })
}
