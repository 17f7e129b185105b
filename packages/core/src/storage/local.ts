import { createHash, randomUUID } from 'node:crypto'
import { constants, createReadStream, createWriteStream } from 'node:fs'
import { access, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DbopsError } from '../errors.ts'
import { measuringStream } from './measure.ts'
import type { ObjectInfo, PutOptions, PutResult, Storage } from './types.ts'

/**
 * A directory as a backup destination. Objects are written to a hidden temp name, fsynced,
 * then renamed into place (and the directory fsynced), so a crash never leaves a partial
 * object under its real name. Files are 0600: backups hold all of a database.
 *
 * The temp name carries its writer (pid and host): a partial whose writer is gone (a
 * `kill -9`, a power cut) is stale, and `removeStalePartials` removes it; a running
 * writer's partial is never touched.
 */
export function localStorage(name: string, dir: string): Storage {
  const root = path.resolve(dir)
  const fileOf = (key: string) => {
    const file = path.resolve(root, key)
    if (!file.startsWith(root + path.sep))
      throw new DbopsError(
        'STORAGE_KEY_INVALID',
        `storage key "${key}" leaves the directory ${root}`,
      )
    return file
  }

  return {
    name,
    type: 'local',
    location: root,

    async put(key: string, body: Readable, options: PutOptions = {}): Promise<PutResult> {
      const file = fileOf(key)
      const created = await mkdir(path.dirname(file), { recursive: true, mode: 0o700 }).catch(
        async (error: NodeJS.ErrnoException) => {
          body.destroy()
          throw await notWritable(name, root, path.dirname(file), error)
        },
      )
      const temp = path.join(
        path.dirname(file),
        `.${path.basename(file)}.${WRITER}.${randomUUID()}.partial`,
      )
      const measure = measuringStream()
      const out = createWriteStream(temp, { mode: 0o600 })
      try {
        await pipeline(body, measure, out, { signal: options.signal })
        const handle = await open(temp, 'r')
        await handle.sync().finally(() => handle.close())
        await rename(temp, file)
        await syncDir(path.dirname(file))
      } catch (error) {
        // A body that failed before the file was even opened: wait for the open (and close) to
        // finish, or the temp file would be created after it was removed.
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()))
        await rm(temp, { force: true })
        // Nor a folder: the ones this write created go too, when nothing else is in them.
        if (created) await removeEmptyDirs(path.dirname(file), path.dirname(created))
        throw await writeFailure(
          name,
          root,
          key,
          measure.result().size,
          error as NodeJS.ErrnoException,
        )
      }
      return { key, ...measure.result() }
    },

    async get(key: string, options?: { signal?: AbortSignal }): Promise<Readable> {
      const file = fileOf(key)
      await stat(file).catch(() => {
        throw new DbopsError('STORAGE_NOT_FOUND', `no object "${key}" in ${root}`)
      })
      return createReadStream(file, { signal: options?.signal })
    },

    async head(key: string): Promise<ObjectInfo | null> {
      const info = await stat(fileOf(key)).catch(() => null)
      return info?.isFile() ? { key, size: info.size, modifiedAt: info.mtime } : null
    },

    async list(prefix: string): Promise<ObjectInfo[]> {
      const out: ObjectInfo[] = []
      const walk = async (dir: string): Promise<void> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
        for (const entry of entries) {
          if (entry.name.startsWith('.')) continue // temp files of writes in progress
          const full = path.join(dir, entry.name)
          if (entry.isDirectory()) await walk(full)
          else if (entry.isFile()) {
            const key = path.relative(root, full).split(path.sep).join('/')
            if (!key.startsWith(prefix)) continue
            const info = await stat(full)
            out.push({ key, size: info.size, modifiedAt: info.mtime })
          }
        }
      }
      await walk(root)
      return out.sort((a, b) => a.key.localeCompare(b.key))
    },

    async delete(key: string): Promise<void> {
      const file = fileOf(key)
      await rm(file, { force: true })
      await removeEmptyDirs(path.dirname(file), root)
    },

    async removeStalePartials(prefix: string): Promise<ObjectInfo[]> {
      const removed: ObjectInfo[] = []
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          const full = path.join(dir, entry.name)
          if (entry.isDirectory()) await walk(full)
          else if (entry.isFile() && PARTIAL.test(entry.name)) {
            const info = await stat(full).catch(() => null)
            if (!info || !isStale(entry.name, info.mtime)) continue
            await rm(full, { force: true })
            removed.push({
              key: path.relative(root, full).split(path.sep).join('/'),
              size: info.size,
              modifiedAt: info.mtime,
            })
            await removeEmptyDirs(dir, root)
          }
        }
      }
      const start = path.resolve(root, prefix)
      if (start === root || start.startsWith(root + path.sep)) await walk(start)
      return removed
    },
  }
}

/** Who writes a temp file: `<pid>-<host tag>`, so another run can tell whether it still runs. */
const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)
const WRITER = `${process.pid}-${HOST_TAG}`
const PARTIAL = /^\..+\.partial$/
const WRITER_OF = /\.(\d+)-([0-9a-f]{8})\.[0-9a-f-]{36}\.partial$/
/** A partial of another host (a shared mount), or of an older dbops, is stale only when this old. */
const STALE_AFTER_MS = 24 * 3600_000

function isStale(fileName: string, modifiedAt: Date): boolean {
  const writer = WRITER_OF.exec(fileName)
  if (writer && writer[2] === HOST_TAG) return !isRunning(Number(writer[1]))
  return Date.now() - modifiedAt.getTime() > STALE_AFTER_MS
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // alive, another user's
  }
}

/** Removes `dir` and its parents while they are empty and strictly inside `within`. */
async function removeEmptyDirs(dir: string, within: string): Promise<void> {
  while (dir.startsWith(within + path.sep)) {
    const left = await readdir(dir).catch(() => ['?'])
    if (left.length > 0) break
    await rmdir(dir).catch(() => {})
    dir = path.dirname(dir)
  }
}

/**
 * Node reports a folder it could not create on a read-only or forbidden disk as ENOENT
 * (of the first missing component): ask the nearest existing folder whether it is writable.
 */
async function notWritable(
  name: string,
  root: string,
  dir: string,
  error: NodeJS.ErrnoException,
): Promise<Error> {
  let existing = dir
  while (
    !(await stat(existing).then(
      () => true,
      () => false,
    )) &&
    path.dirname(existing) !== existing
  )
    existing = path.dirname(existing)
  const denied = await access(existing, constants.W_OK).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  )
  const code = denied?.code ?? error.code
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    const why =
      code === 'EROFS'
        ? 'is on a read-only file system'
        : `is not writable by this user (uid ${process.getuid?.() ?? '?'})`
    return new DbopsError(
      'STORAGE_NOT_WRITABLE',
      `the backup directory ${root} ${why} (${code} at ${existing})`,
      {
        hint: `Make it writable for the user running dbops, or point storage.${name}.dir at a writable directory.`,
        cause: error,
      },
    )
  }
  return error
}

/** A write that failed for a reason of the disk gets a sentence; the source's own errors pass through. */
async function writeFailure(
  name: string,
  root: string,
  key: string,
  written: number,
  error: NodeJS.ErrnoException,
): Promise<Error> {
  switch (error?.code) {
    case 'ENOSPC':
      return new DbopsError(
        'STORAGE_DISK_FULL',
        `the disk of ${root} is full (ENOSPC): ${key} stopped after ${written} bytes`,
        {
          hint: `Free space there or point storage.${name}.dir at a larger disk; nothing partial was kept.`,
          cause: error,
        },
      )
    case 'EDQUOT':
      return new DbopsError(
        'STORAGE_DISK_FULL',
        `the disk quota of ${root} is used up (EDQUOT): ${key} stopped after ${written} bytes`,
        {
          hint: `Raise the quota or point storage.${name}.dir elsewhere; nothing partial was kept.`,
          cause: error,
        },
      )
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return notWritable(name, root, path.dirname(path.resolve(root, key)), error)
    default:
      return error
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  await handle
    .sync()
    .catch(() => {})
    .finally(() => handle.close())
}
