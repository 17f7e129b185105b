import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Readable, Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DbopsError, type BackupManifest, type Storage } from 'dbops/plugin'
import type { ToolVersion } from './binaries.ts'
import { explainZstdDecode } from './compression.ts'
import { type Decoding, openObject } from './open-object.ts'
import { chainTools, runTool, type Tool, toolInput } from './subprocess.ts'

export interface RestoreTarget {
  database: string
  /** libpq environment of the target (password included: env only). */
  env: Record<string, string>
  description: string
  secrets: string[]
}

/** A set where it is stored: what restoring reads. */
export interface StoredSet {
  storage: Storage
  prefix: string
  manifest: BackupManifest
}

export interface RestoreChoices {
  /** Where a parallel (or directory-format) restore keeps its working files. */
  scratchBase: string
  jobs: number
  tables: string[]
  schemas: string[]
  clean: boolean
  noOwner: boolean
}

export interface RestoreTools {
  pgRestore: ToolVersion
  psql: ToolVersion
}

const explainRestore = (tool: string, target: RestoreTarget) => (stderr: string, how: string) =>
  new DbopsError(
    'RESTORE_FAILED',
    `${tool} into ${target.description} ${how}${stderr ? `: ${stderr.split('\n').filter(Boolean).slice(-3).join(' / ')}` : ''}`,
  )

/** Streams the set's dump (and with `globals`, its globals first) from storage into the target database. */
export async function restoreInto(
  set: StoredSet,
  target: RestoreTarget,
  choices: RestoreChoices,
  tools: RestoreTools,
  decoding: Decoding & { signal: AbortSignal },
): Promise<void> {
  const { storage, prefix, manifest } = set
  const dump = manifest.objects.find((o) => o.role === 'dump')
  if (!dump)
    throw new DbopsError('BACKUP_INVALID', `the manifest of ${manifest.id} lists no dump object`)
  // zstd -d feeds pg_restore/psql through an OS pipe: the uncompressed dump never passes through Node.
  const direct =
    manifest.compression.algorithm === 'zstd' &&
    (manifest.format === 'plain' || (manifest.format === 'custom' && choices.jobs <= 1))
  const { source, stages } = await openObject(storage, prefix, dump, manifest, decoding, {
    decompress: !direct,
  })
  const baseArgs = ['--no-password', `--dbname=${target.database}`, '--exit-on-error']
  if (choices.noOwner) baseArgs.push('--no-owner', '--no-privileges')
  if (choices.clean) baseArgs.push('--clean', '--if-exists')
  for (const t of choices.tables) baseArgs.push(`--table=${t}`)
  for (const s of choices.schemas) baseArgs.push(`--schema=${s}`)
  const run = (file: string, args: string[], stdin: boolean) => {
    const options = {
      env: target.env,
      signal: decoding.signal,
      secrets: target.secrets,
      explain: explainRestore(path.basename(file), target),
    }
    if (!(stdin && direct))
      return runTool(file, args, { ...options, stdin: stdin ? 'pipe' : 'ignore' })
    const zstd = runTool('zstd', ['-q', '-d', '-c'], {
      stdin: 'pipe',
      stdout: 'pipe',
      signal: decoding.signal,
      explain: explainZstdDecode,
    })
    return chainTools(
      zstd,
      runTool(file, args, { ...options, stdin: zstd.subprocess.stdout as Readable }),
    )
  }

  if (manifest.format === 'plain') {
    if (choices.tables.length || choices.schemas.length || choices.clean)
      throw new DbopsError(
        'RESTORE_OPTION_UNSUPPORTED',
        '--table, --schema and --clean need a custom or directory format backup; this one is plain SQL',
        { exitCode: 2 },
      )
    const psql = run(
      tools.psql.path,
      [
        '--no-psqlrc',
        '--quiet',
        '--no-password',
        '-v',
        'ON_ERROR_STOP=1',
        `--dbname=${target.database}`,
        '--file=-',
      ],
      true,
    )
    return streamInto(source, stages, psql)
  }
  if (manifest.format === 'custom' && choices.jobs <= 1) {
    return streamInto(source, stages, run(tools.pgRestore.path, baseArgs, true))
  }
  // Parallel restore (and the directory format) needs a seekable file or a directory.
  const scratch = await mkdtemp(path.join(choices.scratchBase, 'dbops-restore-'))
  try {
    let input: string
    if (manifest.format === 'directory') {
      input = path.join(scratch, 'dump')
      await mkdir(input, { mode: 0o700 })
      await streamInto(
        source,
        stages,
        runTool('tar', ['-C', input, '-xf', '-'], { stdin: 'pipe', signal: decoding.signal }),
      )
    } else {
      input = path.join(scratch, 'dump.pgdump')
      await pipeline([source, ...stages, createWriteStream(input, { mode: 0o600 })], {
        signal: decoding.signal,
      })
    }
    await run(
      tools.pgRestore.path,
      [...baseArgs, `--jobs=${Math.max(1, choices.jobs)}`, input],
      false,
    ).done
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Applies the set's globals (roles, tablespaces) with psql; existing roles are reported, not fatal. */
export async function restoreGlobals(
  set: StoredSet,
  target: RestoreTarget,
  tools: RestoreTools,
  decoding: Decoding & { signal: AbortSignal },
): Promise<void> {
  const { storage, prefix, manifest } = set
  const globals = manifest.objects.find((o) => o.role === 'globals')
  if (!globals)
    throw new DbopsError(
      'BACKUP_NO_GLOBALS',
      `the set ${manifest.id} holds no globals (back up with databases: 'all' or globals: true)`,
      { exitCode: 2 },
    )
  const { source, stages } = await openObject(storage, prefix, globals, manifest, decoding)
  const psql = runTool(
    tools.psql.path,
    ['--no-psqlrc', '--quiet', '--no-password', `--dbname=${target.database}`, '--file=-'],
    { stdin: 'pipe', env: target.env, signal: decoding.signal, secrets: target.secrets },
  )
  await streamInto(source, stages, psql)
}

/**
 * Pipes the decoded stream into a child's stdin. When the child dies first, its own error
 * (what pg_restore said) wins over the broken pipe; when the stream fails (checksum,
 * decryption), the child is stopped before it can finish.
 */
export async function streamInto(source: Readable, stages: Duplex[], tool: Tool): Promise<void> {
  try {
    await pipeline([source, ...stages, toolInput(tool)])
  } catch (error) {
    tool.stop()
    const childError = await tool.done.then(
      () => undefined,
      (e: unknown) => e,
    )
    if (error instanceof DbopsError || !childError) throw error
    throw childError
  }
  await tool.done
}
