import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Duplex, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Context, DbopsError, messageOf } from 'dbops/plugin'
import type { FoundSet } from './backup-sets.ts'
import { assertRestoreCompatible, findTool } from './binaries.ts'
import { discard } from './checksum-check.ts'
import { outputCheck } from './formats.ts'
import { decodingFor, openObject } from './open-object.ts'
import type { PgdumpOptions } from './options.ts'
import { checkOutput } from './output-check.ts'
import { scratchBase } from './scratch-dir.ts'
import { streamInto } from './restore-into.ts'
import { runTool, toolInput } from './subprocess.ts'

/**
 * The `archive` level: the copy decrypted, decompressed and read whole, its SQL checked for
 * completeness or its archive listed by pg_restore.
 */
export async function archiveCheck(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  set: FoundSet,
): Promise<string> {
  const decoding = await decodingFor(set.manifest, options, configDir, ctx.signal)
  const lines: string[] = []
  for (const object of set.manifest.objects) {
    const { source, stages } = await openObject(
      set.storage,
      set.prefix,
      object,
      set.manifest,
      decoding,
    )
    if (object.role === 'globals' || set.manifest.format === 'plain') {
      await pipeline(
        [source, ...stages, checkOutput(outputCheck(object.role, set.manifest.format)), discard()],
        { signal: ctx.signal },
      )
      lines.push(`${object.name}: decrypted, decompressed, complete SQL`)
      continue
    }
    const pgRestore = await findTool(
      'pg_restore',
      options,
      configDir,
      Number(set.manifest.pgDumpVersion.split('.')[0]),
    )
    assertRestoreCompatible(pgRestore, set.manifest.pgDumpVersion)
    let listing: string
    if (set.manifest.format === 'directory') {
      const scratch = await mkdtemp(
        path.join(scratchBase(ctx.config.dir, options), 'dbops-verify-'),
      )
      try {
        const dir = path.join(scratch, 'dump')
        await mkdir(dir, { mode: 0o700 })
        const tar = runTool('tar', ['-C', dir, '-xf', '-'], { stdin: 'pipe', signal: ctx.signal })
        await streamInto(source, stages, tar)
        listing = await list(pgRestore.path, [dir], undefined, ctx.signal)
      } finally {
        await rm(scratch, { recursive: true, force: true })
      }
    } else {
      listing = await list(pgRestore.path, [], { source, stages }, ctx.signal)
    }
    const entries = listing.split('\n').filter((l) => /^\d+;/.test(l))
    const data = entries.filter((l) => / TABLE DATA /.test(l)).length
    // A database with nothing in it dumps to a valid archive with an empty table of contents;
    // that is only suspicious when the manifest says there were tables to dump.
    const emptyDatabase =
      set.manifest.tables.length === 0 && /^; Archive created at /m.test(listing)
    if (entries.length === 0 && !emptyDatabase)
      throw new DbopsError('BACKUP_CORRUPT', `pg_restore --list found no entries in ${object.name}`)
    lines.push(
      `${object.name}: pg_restore --list read ${entries.length} entries (${data} with table data)`,
    )
  }
  return lines.join('; ')
}

/**
 * pg_restore --list of a directory (`args`) or of the stream on its stdin. It stops reading
 * after the table of contents; the rest of the stream is still read to the end so that
 * decryption and the checksum cover every byte.
 */
async function list(
  pgRestore: string,
  args: string[],
  stream: { source: Readable; stages: Duplex[] } | undefined,
  signal: AbortSignal,
): Promise<string> {
  const tool = runTool(pgRestore, ['--list', ...args], {
    stdin: stream ? 'pipe' : 'ignore',
    buffer: true,
    signal,
  })
  if (stream) {
    try {
      await pipeline([stream.source, ...stream.stages, toolInput(tool)], { signal })
    } catch (error) {
      tool.stop()
      await tool.done.catch(() => {})
      throw error
    }
  }
  return tool.done.catch((error: unknown) => {
    throw new DbopsError(
      'BACKUP_CORRUPT',
      `pg_restore could not read the archive: ${messageOf(error)}`,
    )
  })
}
