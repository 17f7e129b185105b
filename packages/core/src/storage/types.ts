import type { Readable } from 'node:stream'
import type { z } from 'zod'

/** One stored object as listed or looked up. */
export interface ObjectInfo {
  key: string
  size: number
  modifiedAt: Date
  /** sha256 of the content, hex, where the backend keeps one. */
  sha256?: string
  metadata?: Record<string, string>
}

export interface PutOptions {
  contentType?: string
  /** Small string metadata stored with the object (never secrets). */
  metadata?: Record<string, string>
  /** Aborting cancels the write and removes whatever part of it was stored. */
  signal?: AbortSignal
}

export interface PutResult {
  key: string
  size: number
  /** sha256 of what was stored, hex, computed while streaming. */
  sha256: string
}

/**
 * A backup destination. Streaming only: `put` consumes a stream and resolves when the
 * object is durable and complete; a failed or aborted `put` leaves no object behind.
 */
export interface Storage {
  readonly name: string
  readonly type: string
  /** Where it stores, for people: `s3://bucket/prefix`, `/var/backups`. No secrets. */
  readonly location: string
  put(key: string, body: Readable, options?: PutOptions): Promise<PutResult>
  get(key: string, options?: { signal?: AbortSignal }): Promise<Readable>
  /** `null` when there is no such object. */
  head(key: string): Promise<ObjectInfo | null>
  list(prefix: string): Promise<ObjectInfo[]>
  delete(key: string): Promise<void>
  /**
   * Removes what interrupted writes left under `prefix` (a killed run's temp files), never
   * a write still in progress; returns what it removed.
   */
  removeStalePartials?(prefix: string): Promise<ObjectInfo[]>
  close?(): Promise<void> | void
}

/**
 * What a storage factory (`s3({...})`) puts into `config.storage`: validated with its own
 * schema together with the rest of the config, then created once per run.
 */
export interface StorageSpec<S extends z.ZodType = z.ZodType> {
  readonly kind: 'storage'
  readonly type: string
  readonly schema: S
  readonly input: unknown
  create(options: z.output<S>, name: string): Storage
}

export type StorageRegistry = ReadonlyMap<string, Storage>
