import type { Storage } from 'dbops/plugin'
import { createS3Storage as openStorage } from '../src/index.ts'

/** Every destination a suite opens, so that all are closed after it, even when an assertion failed. */
const storages: Storage[] = []

export const createS3Storage = (...args: Parameters<typeof openStorage>): Storage => {
  const storage = openStorage(...args)
  storages.push(storage)
  return storage
}

export async function closeStorages(): Promise<void> {
  for (const storage of storages.splice(0)) await storage.close?.()
}
