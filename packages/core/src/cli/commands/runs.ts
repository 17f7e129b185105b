import { DbopsError } from '../../errors.ts'
import type { GlobalArgs } from '../args.ts'

export const runsHelp = 'dbops runs: not built yet (the scheduler issue).'

export async function runsCommand(_args: GlobalArgs): Promise<number> {
  throw new DbopsError('NOT_AVAILABLE', 'dbops runs is not available in this version', { exitCode: 2 })
}
