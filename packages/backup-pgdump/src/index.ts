import { definePlugin, type Context } from 'dbops/plugin'
import { backupsCommand } from './commands.ts'
import { formatBytes } from 'dbops/plugin'
import { databasesToDump } from './databases.ts'
import type { DumpResult } from './dump.ts'
import { pgdumpOptionsSchema, type PgdumpOptions } from './options.ts'
import type { VerifyOutcome } from './verify.ts'
import { findSet } from './backup-sets.ts'
import { retentionForDatabases, type DatabaseRetention } from './retention.ts'

export { pgdumpOptionsSchema, type PgdumpOptions, type PgdumpOptionsInput } from './options.ts'
export type { DumpResult, DumpedSet } from './dump.ts'
export type { VerifyOutcome, VerifyLevel } from './verify.ts'
export type { DatabaseRetention } from './retention.ts'

// The modules that run tools (pg_dump, zstd, age, through execa) load when a task runs, not
// when the config is read: `dbops list` and `--help` pay nothing for them.
const dumping = () => import('./dump.ts')
const verifying = () => import('./verify.ts')

/** Sets made by `pgdump:dump` earlier in this run, else the newest set of the configured database. */
async function setsToVerify(ctx: Context): Promise<string[]> {
  const dumped = ctx.results['pgdump:dump'] as DumpResult | undefined
  if (dumped) return dumped.sets.map((s) => s.id)
  return [(await findSet(ctx, 'latest')).manifest.id]
}

export default definePlugin({
  name: '@dbops/backup-pgdump',
  namespace: 'pgdump',
  options: pgdumpOptionsSchema,
  setup(options: PgdumpOptions, api) {
    return {
      tasks: {
        dump: {
          title: 'back up with pg_dump',
          mutates: true,
          run: async (ctx, io) => (await dumping()).runDump(ctx, options, api.configDir, io),
          plan: async (ctx) => {
            const databases =
              options.databases === 'all'
                ? ['every database (and globals)']
                : await databasesToDump(ctx, options)
            const enc = options.encryption
              ? `age to ${options.encryption.recipients.length} recipient(s)`
              : 'not encrypted'
            return [
              `would dump ${databases.join(', ')} (${options.format}, compression ${options.compression}, ${enc}) to ${[...ctx.storage.values()].map((s) => `${s.name} (${s.location})`).join(', ')}`,
            ]
          },
          summarize: (r: DumpResult) =>
            r.sets
              .map(
                (s) =>
                  `${s.database} ${s.id}: ${formatBytes(s.bytes)} to ${s.destinations.join(', ')}`,
              )
              .join('; '),
        },
        verify: {
          title: 'verify the backup',
          mutates: true,
          run: async (ctx, io) => {
            const outcomes: VerifyOutcome[] = []
            for (const id of await setsToVerify(ctx)) {
              io.output(`${id}: ${options.verify.level}`)
              outcomes.push(
                await (await verifying()).verifySet(
                  ctx,
                  options,
                  api.configDir,
                  id,
                  options.verify.level,
                  options.verify.from,
                ),
              )
            }
            return outcomes
          },
          plan: () => [
            `would verify the new backup (${options.verify.level}) and record the result in its manifest`,
          ],
          summarize: (r: VerifyOutcome[]) =>
            r
              .map(
                (o) =>
                  `${o.id}: ${o.status} (${o.checks.map((c) => `${c.storage}: ${c.method}`).join(', ')})`,
              )
              .join('; '),
        },
        retention: {
          title: 'apply the retention policy to every database backed up',
          mutates: true,
          run: (ctx) => retentionForDatabases(ctx, options, false),
          plan: async (ctx) =>
            (await retentionForDatabases(ctx, options, true)).flatMap((o) =>
              Object.entries(o.why).map(([id, why]) => `${o.storage} ${o.database} ${id}: ${why}`),
            ),
          summarize: (r: DatabaseRetention[]) =>
            r
              .map(
                (o) =>
                  `${o.storage} ${o.database}: kept ${o.kept.length}, deleted ${o.deleted.length}`,
              )
              .join('; ') || 'nothing to do',
        },
      },
      commands: { backups: backupsCommand(options, api.configDir) },
    }
  },
})
