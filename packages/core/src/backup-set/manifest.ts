import { z } from 'zod'
import { objectNameProblem } from './object-name.ts'

/** Every backup set is a folder `<database>/<id>/` holding its objects and, written last, this file. */
export const MANIFEST_FILE = 'manifest.json'

export const backupObjectSchema = z.object({
  /** Key relative to the set's folder, e.g. `dump.pgdump.zst.age`: a plain file name, never a path. */
  name: z.string().superRefine((name, ctx) => {
    const problem = name === MANIFEST_FILE ? `is the manifest's own name` : objectNameProblem(name)
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(name.slice(0, 80))} ${problem}: an object must be a file inside the set's folder`,
      })
  }),
  role: z.enum(['dump', 'globals']),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
})

export const verificationSchema = z.object({
  status: z.enum(['verified', 'failed']),
  at: z.string(),
  /** What was proven: `checksum`, `archive-list`, `restore`. */
  method: z.string(),
  detail: z.string().optional(),
})

export const backupManifestSchema = z.object({
  manifestVersion: z.literal(1),
  id: z.string(),
  database: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  serverVersion: z.string(),
  pgDumpVersion: z.string(),
  format: z.enum(['custom', 'directory', 'plain']),
  compression: z.object({
    algorithm: z.enum(['zstd', 'gzip', 'none']),
    level: z.number().int().optional(),
  }),
  /** Public recipients only; the identity never appears here. */
  encryption: z.object({ type: z.literal('age'), recipients: z.array(z.string()) }).nullable(),
  objects: z.array(backupObjectSchema).min(1),
  /** Row counts at backup time (in pg_dump's snapshot): `exact` when counted, else the planner's estimate. */
  tables: z
    .array(
      z.object({
        schema: z.string(),
        name: z.string(),
        rows: z.number(),
        exact: z.boolean().optional(),
      }),
    )
    .default([]),
  tags: z.array(z.string()).default([]),
  verification: z.array(verificationSchema).default([]),
  host: z.string().optional(),
  dbopsVersion: z.string().optional(),
})

export type BackupManifest = z.output<typeof backupManifestSchema>
export type BackupObject = z.output<typeof backupObjectSchema>

/** The folder of a set: `<database>/<id>/`. */
export function backupSetPrefix(database: string, id: string): string {
  return `${database}/${id}/`
}

/** Sortable, readable and unique: `20261125T020000Z-3f9a`. */
export function newBackupId(at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`
}

/** True when the newest verification of the set passed. */
export function isVerified(manifest: BackupManifest): boolean {
  return manifest.verification.at(-1)?.status === 'verified'
}
