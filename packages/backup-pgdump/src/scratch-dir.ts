import os from 'node:os'
import path from 'node:path'
import type { PgdumpOptions } from './options.ts'

/** Where directory-format dumps and scratch restores keep their files: scratchDir, else the OS temp dir. */
export function scratchBase(configDir: string, options: Pick<PgdumpOptions, 'scratchDir'>): string {
  return options.scratchDir ? path.resolve(configDir, options.scratchDir) : os.tmpdir()
}
