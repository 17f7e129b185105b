import type { Algorithm } from './compression.ts'
import { extensionOf } from './compression.ts'
import type { OutputCheck } from './output-check.ts'

export type Format = 'custom' | 'directory' | 'plain'

/** `dump.pgdump.zst.age`, `dump.tar.gz`, `globals.sql.zst.age` */
export function objectName(
  role: 'dump' | 'globals',
  format: Format,
  algorithm: Algorithm,
  encrypted: boolean,
): string {
  const base =
    role === 'globals'
      ? 'globals.sql'
      : { custom: 'dump.pgdump', directory: 'dump.tar', plain: 'dump.sql' }[format]
  return `${base}${extensionOf(algorithm)}${encrypted ? '.age' : ''}`
}

export function outputCheck(role: 'dump' | 'globals', format: Format): OutputCheck {
  if (role === 'globals')
    return {
      what: 'pg_dumpall --globals-only output',
      trailer: 'PostgreSQL database cluster dump complete',
    }
  if (format === 'custom')
    return { what: 'pg_dump custom archive', magic: { offset: 0, bytes: 'PGDMP' } }
  if (format === 'directory')
    return { what: 'tar of the pg_dump directory', magic: { offset: 257, bytes: 'ustar' } }
  return { what: 'pg_dump SQL output', trailer: 'PostgreSQL database dump complete' }
}
