import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  Db,
  DbopsError,
  messageOf,
  quoteIdent,
  readManifest,
  type BackupManifest,
  type Context,
  type Storage,
} from 'dbops/plugin'
import { spawnChild } from './subprocess.ts'
import { openObject, type Decoding } from './open-object.ts'
import { allSets, throwIfUntrusted, writeManifest, type FoundSet } from './backup-sets.ts'
import { checkOutput } from './output-check.ts'
import { outputCheck } from './formats.ts'
import { assertRestoreCompatible, findTool } from './binaries.ts'
import { assertIdentityMatches, loadIdentity } from './encryption.ts'
import { restoreInto, streamInto } from './restore-into.ts'
import { compareCounts } from './tables.ts'
import type { PgdumpOptions } from './options.ts'

export type VerifyLevel = 'checksum' | 'archive' | 'restore'

export interface DestinationCheck {
  storage: string
  method: 'checksum' | 'archive-list' | 'restore'
  status: 'verified' | 'failed'
  detail: string
}

export interface VerifyOutcome {
  id: string
  database: string
  level: VerifyLevel
  status: 'verified' | 'failed'
  checks: DestinationCheck[]
}

/** Identity and decoding for a set: fails before reading when the key cannot open it. */
export async function decodingFor(
  manifest: BackupManifest,
  options: PgdumpOptions,
  configDir: string,
  signal: AbortSignal,
): Promise<Decoding & { signal: AbortSignal }> {
  const engine = options.encryption?.engine ?? 'auto'
  if (!manifest.encryption) return { engine, signal }
  const { keys, source, file } = await loadIdentity(options.encryption?.identityFile, configDir)
  await assertIdentityMatches(keys, manifest.encryption.recipients, source)
  return { keys, engine, signal, identityFile: file }
}

/**
 * Proves a set restorable, per destination holding it: every copy is re-read and checked
 * against the manifest's sizes and sha256; the copy in `from` (default: the first) is also
 * decrypted, decompressed and listed by pg_restore (`archive`) or restored into a scratch
 * database whose row counts are compared with the manifest (`restore`). The outcome is
 * appended to each copy's manifest; a failure is recorded as such and thrown.
 */
export async function verifySet(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  id: string,
  level: VerifyLevel,
  from?: string,
): Promise<VerifyOutcome> {
  const listed = await allSets(ctx)
  // Copies whose manifest is believable are checked, even with objects missing: the checks
  // fail on them and the failure is recorded.
  const copies = [...listed.sets, ...listed.damaged.filter((d) => d.manifestTrusted)].filter(
    (s) => s.manifest.id === id,
  )
  const first = copies.find((s) => !from || s.storage.name === from)
  if (!first) {
    throwIfUntrusted(
      {
        damaged: listed.damaged.filter((d) => !from || d.storage.name === from),
        unreadable: listed.unreadable.filter((u) => !from || u.storage === from),
      },
      id,
    )
    throw new DbopsError(
      'BACKUP_NOT_FOUND',
      `there is no backup with id ${id}${from ? ` in ${from}` : ''}`,
      { hint: 'List the backups with `dbops backups list`.' },
    )
  }
  // A copy whose manifest is not believable fails the verification as it is; it is not read, nor written to.
  const checks: DestinationCheck[] = listed.damaged
    .filter((d) => !d.manifestTrusted && d.prefix.split('/')[1] === id)
    .map((d) => ({
      storage: d.storage.name,
      method: 'checksum',
      status: 'failed',
      detail: `damaged: ${d.problems.join('; ')}`,
    }))
  for (const copy of copies) {
    ctx.signal.throwIfAborted()
    const deep = copy === first && level !== 'checksum'
    let check: DestinationCheck
    try {
      const detail = deep
        ? level === 'archive'
          ? await archiveCheck(ctx, options, configDir, copy)
          : await restoreCheck(ctx, options, configDir, copy)
        : await checksumCheck(copy, ctx.signal)
      check = {
        storage: copy.storage.name,
        method: deep ? (level === 'archive' ? 'archive-list' : 'restore') : 'checksum',
        status: 'verified',
        detail,
      }
    } catch (error) {
      if (ctx.signal.aborted) throw error
      check = {
        storage: copy.storage.name,
        method: deep ? (level === 'archive' ? 'archive-list' : 'restore') : 'checksum',
        status: 'failed',
        detail: messageOf(error),
      }
      // A missing key says nothing about the backup: report it, record nothing.
      if (
        (error instanceof DbopsError && error.code.startsWith('AGE_IDENTITY')) ||
        (error instanceof DbopsError && error.code.startsWith('PG'))
      )
        throw error
    }
    checks.push(check)
    await record(
      copy.storage,
      copy.prefix,
      {
        status: check.status,
        at: new Date().toISOString(),
        method: check.method,
        detail: check.detail,
      },
      ctx.signal,
    ).catch((error) => {
      ctx.logger.warn(
        `could not record the verification in ${copy.storage.name}: ${messageOf(error)}`,
      )
    })
  }
  const status = checks.every((c) => c.status === 'verified') ? 'verified' : 'failed'
  const outcome: VerifyOutcome = { id, database: first.manifest.database, level, status, checks }
  if (status === 'failed') {
    const bad = checks.filter((c) => c.status === 'failed')
    throw Object.assign(
      new DbopsError(
        'VERIFY_FAILED',
        `backup ${id} of ${first.manifest.database} failed verification on ${bad.map((c) => `${c.storage} (${c.method}): ${c.detail}`).join('; ')}`,
        {
          hint: 'Do not rely on this set; restore from another destination or an earlier verified set, and look into the storage.',
        },
      ),
      { outcome },
    )
  }
  return outcome
}

async function record(
  storage: Storage,
  prefix: string,
  entry: BackupManifest['verification'][number],
  signal: AbortSignal,
): Promise<void> {
  const manifest = await readManifest(storage, prefix)
  manifest.verification.push(entry)
  await writeManifest(storage, prefix, manifest, signal)
}

export async function checksumCheck(set: FoundSet, signal: AbortSignal): Promise<string> {
  const { expectChecksum } = await import('./open-object.ts')
  let bytes = 0
  for (const object of set.manifest.objects) {
    const where = `${set.storage.name}:${set.prefix}${object.name}`
    const body = await set.storage
      .get(set.prefix + object.name, { signal })
      .catch((error: Error) => {
        throw new DbopsError(
          'BACKUP_OBJECT_MISSING',
          `${where} could not be read: ${error.message}`,
        )
      })
    await pipeline([body, expectChecksum(object, where), discard()], { signal })
    bytes += object.size
  }
  return `${set.manifest.objects.length} objects, ${bytes} bytes match their sha256`
}

const discard = () => new Writable({ write: (_c, _e, done) => done() })

async function archiveCheck(
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
      const scratch = await mkdtemp(path.join(scratchBase(ctx, options), 'dbops-verify-'))
      try {
        const dir = path.join(scratch, 'dump')
        await mkdir(dir, { mode: 0o700 })
        const tar = spawnChild('tar', ['-C', dir, '-xf', '-'], ['pipe', 'ignore'], {
          signal: ctx.signal,
        })
        await streamInto(source, stages, tar)
        listing = await list(pgRestore.path, [dir], undefined, ctx.signal)
      } finally {
        await rm(scratch, { recursive: true, force: true })
      }
    } else {
      // pg_restore --list stops reading after the table of contents; the rest of the stream is
      // still read to the end so that decryption and the checksum cover every byte.
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

async function list(
  pgRestore: string,
  args: string[],
  stream:
    | { source: import('node:stream').Readable; stages: import('node:stream').Duplex[] }
    | undefined,
  signal: AbortSignal,
): Promise<string> {
  const child = spawnChild(pgRestore, ['--list', ...args], [stream ? 'pipe' : 'ignore', 'pipe'], {
    signal,
  })
  let out = ''
  child.process.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  if (stream) {
    const stdin = child.process.stdin!
    let open = true
    stdin.on('error', () => (open = false))
    stdin.on('close', () => (open = false))
    const tee = new Writable({
      write(chunk: Buffer, _e, done) {
        if (!open || stdin.write(chunk)) return done()
        const go = () => (stdin.off('drain', go), stdin.off('close', go), done())
        stdin.on('drain', go)
        stdin.on('close', go)
      },
      final(done) {
        if (open) stdin.end()
        done()
      },
    })
    try {
      await pipeline([stream.source, ...stream.stages, tee], { signal })
    } catch (error) {
      child.process.kill('SIGTERM')
      await child.done.catch(() => {})
      throw error
    }
  }
  await child.done.catch((error) => {
    throw new DbopsError(
      'BACKUP_CORRUPT',
      `pg_restore could not read the archive: ${messageOf(error)}`,
    )
  })
  return out
}

function scratchBase(ctx: Context, options: PgdumpOptions): string {
  return options.scratchDir ? path.resolve(ctx.config.dir, options.scratchDir) : os.tmpdir()
}

async function restoreCheck(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  set: FoundSet,
): Promise<string> {
  const decoding = await decodingFor(set.manifest, options, configDir, ctx.signal)
  const major = Number(set.manifest.pgDumpVersion.split('.')[0])
  const tools = {
    pgRestore: await findTool('pg_restore', options, configDir, major),
    psql: await findTool('psql', options, configDir),
  }
  assertRestoreCompatible(tools.pgRestore, set.manifest.pgDumpVersion)
  const adminConnection = options.verify.connectionUrl
    ? { url: options.verify.connectionUrl, applicationName: 'dbops' }
    : { ...ctx.config.connection, readReplicaUrl: undefined }
  const admin = new Db(adminConnection, { ...ctx.config.pool, max: 1, queryTimeoutMs: 0 })
  const name =
    `dbops_verify_${set.manifest.database.replace(/[^a-z0-9_]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`.toLowerCase()
  const scratch = new Db(
    { ...adminConnection, database: name },
    { ...ctx.config.pool, max: 1, queryTimeoutMs: 0 },
  )
  try {
    await admin.query(`create database ${quoteIdent(name)} template template0`, [], {
      signal: ctx.signal,
    })
    const target = {
      database: name,
      env: scratch.libpqEnv(),
      description: scratch.description,
      secrets: [scratch.target.password].filter((s): s is string => !!s),
    }
    await restoreInto(
      set.storage,
      set.prefix,
      set.manifest,
      target,
      { jobs: options.jobs, tables: [], schemas: [], clean: false, noOwner: true },
      tools,
      decoding,
      scratchBase(ctx, options),
    )
    const comparison = await scratch.withClient((client) =>
      compareCounts(client, set.manifest.tables),
    )
    await scratch.close()
    if (!comparison.ok)
      throw new DbopsError(
        'VERIFY_ROWS_DIFFER',
        `the scratch restore differs from the backup: ${comparison.lines.join('; ')}`,
      )
    const notes = comparison.lines.length ? ` (${comparison.lines.join('; ')})` : ''
    return `restored into a scratch database on ${admin.target.host}:${admin.target.port}; ${comparison.compared} tables, row counts match the manifest${notes}`
  } finally {
    await scratch.close().catch(() => {})
    await admin
      .query(`drop database if exists ${quoteIdent(name)} with (force)`)
      .catch(async () => admin.query(`drop database if exists ${quoteIdent(name)}`).catch(() => {}))
    await admin.close()
  }
}
