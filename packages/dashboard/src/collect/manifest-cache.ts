import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { MANIFEST_FILE, type ObjectInfo, type Storage } from 'dbops/plugin'

interface Cached {
  size: number
  modified: number
  body: string
}

/**
 * A view of a destination for `listBackupSets` that reads a manifest again only when the
 * listing shows it changed (size or time): a refresh of 1,000 sets costs one listing, not
 * 1,000 reads. Everything else goes straight to the destination; nothing is written.
 */
export function manifestCachingStorage(storage: Storage, cache: Map<string, Cached>): Storage {
  const listed = new Map<string, ObjectInfo>()
  return {
    name: storage.name,
    type: storage.type,
    location: storage.location,
    async list(prefix) {
      const objects = await storage.list(prefix)
      for (const o of objects) if (o.key.endsWith(`/${MANIFEST_FILE}`)) listed.set(o.key, o)
      return objects
    },
    async get(key, options) {
      const info = listed.get(key)
      const hit = info ? cache.get(key) : undefined
      if (info && hit && hit.size === info.size && hit.modified === info.modifiedAt.getTime())
        return Readable.from([hit.body])
      const body = await text(await storage.get(key, options))
      if (info) cache.set(key, { size: info.size, modified: info.modifiedAt.getTime(), body })
      return Readable.from([body])
    },
    head: (key) => storage.head(key),
    put: () => Promise.reject(new Error('the dashboard never writes to storage')),
    delete: () => Promise.reject(new Error('the dashboard never deletes from storage')),
  }
}
