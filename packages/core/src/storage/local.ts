import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises'
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
 */
export function localStorage(name: string, dir: string): Storage {
  const root = path.resolve(dir)
  const fileOf = (key: string) => {
    const file = path.resolve(root, key)
    if (!file.startsWith(root + path.sep)) throw new DbopsError('STORAGE_KEY_INVALID', `storage key "${key}" leaves the directory ${root}`)
    return file
  }

  return {
    name,
    type: 'local',
    location: root,

    async put(key: string, body: Readable, options: PutOptions = {}): Promise<PutResult> {
      const file = fileOf(key)
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.partial`)
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
        throw error
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
      // Remove directories left empty, up to the root.
      let dir = path.dirname(file)
      while (dir.startsWith(root + path.sep)) {
        const left = await readdir(dir).catch(() => ['?'])
        if (left.length > 0) break
        await rmdir(dir).catch(() => {})
        dir = path.dirname(dir)
      }
    },
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  await handle.sync().catch(() => {}).finally(() => handle.close())
}
