// aipromot's database operations, run entirely by dbops. This file replaces the team's
// backup-database.ts, backup-scheduler.ts, db:health and db:optimize scripts, the manual
// migration runner and their cron entries. The environment names are the app's own
// (see .env.sample); `npx dbops config` shows what they resolve to, secrets redacted.
import { defineConfig, env } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
import migrate from '@dbops/migrate-sql'
import health from '@dbops/health'
import reindex from '@dbops/reindex'
import s3 from '@dbops/storage-s3'
import manual from './manual-migration.ts'

const production = process.env.NODE_ENV === 'production'
// Backups leave the machine encrypted: required in production, optional on a laptop.
const ageRecipient = production ? env('BACKUP_AGE_RECIPIENT') : env.optional('BACKUP_AGE_RECIPIENT')
// The offsite copy: required in production. Credentials come from the standard AWS chain
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or the instance's role), never from here.
const s3Bucket = production ? env('BACKUP_S3_BUCKET') : env.optional('BACKUP_S3_BUCKET')
// Only for S3-compatibles (MinIO, R2): their endpoint, addressed path-style.
const s3Endpoint = env.optional('BACKUP_S3_ENDPOINT')
const alertWebhook = env.optional('ALERT_WEBHOOK_URL')

export default defineConfig({
  connection: {
    url: env('DATABASE_URL'),
    // Read-only work (health checks) goes to the replica while it answers, else the primary.
    readReplicaUrl: env.optional('DATABASE_READ_REPLICA_URL'),
    // Production connects over SSL and checks the certificate unless DB_SSL_REJECT_UNAUTHORIZED=false.
    ...(production
      ? { ssl: { rejectUnauthorized: process.env.DB_SSL_REJECT_UNAUTHORIZED !== 'false' } }
      : {}),
    applicationName: 'aipromot-dbops',
  },
  // `pool` is left out: dbops reads DB_CONNECTION_LIMIT (20), DB_MAX_IDLE_TIME (30000),
  // DB_MAX_LIFE_TIME (1800000) and DB_QUERY_TIMEOUT (20000), the app's own settings.

  // A backup goes to every destination: the local directory (BACKUP_DIR) and the bucket.
  storage: {
    local: { dir: process.env.BACKUP_DIR || './backups' },
    ...(s3Bucket
      ? {
          offsite: s3({
            bucket: s3Bucket,
            prefix: 'database-backups/',
            storageClass: 'STANDARD_IA',
            endpoint: s3Endpoint,
            forcePathStyle: s3Endpoint !== undefined,
          }),
        }
      : {}),
  },

  plugins: [
    // Custom format, compressed (BACKUP_COMPRESSION: zstd where its CLI exists, else gzip),
    // age-encrypted to the team's public key; restores need DBOPS_AGE_IDENTITY(_FILE).
    pgdump({
      format: 'custom',
      ...(ageRecipient ? { encryption: { recipients: [ageRecipient] } } : {}),
      // Every backup is decrypted, decompressed and its table of contents read back.
      verify: { level: 'archive' },
    }),
    // The Prisma migrations, applied by dbops, recorded in Prisma's own _prisma_migrations.
    migrate({ dir: './prisma/migrations', ledger: 'prisma' }),
    // The team's idempotent script for existing databases (CREATE INDEX CONCURRENTLY).
    manual(),
    health(),
    reindex(),
  ],

  pipelines: {
    backup: ['pgdump:dump', 'pgdump:verify', 'retention:apply'],
    // "Always back up before migrations": a migration never runs unless the backup did.
    migrate: ['backup', 'migrate:apply'],
    'migrate-manual': ['backup', 'manual:apply'],
    health: ['health:check'],
    // Rebuild bloated indexes online, then refresh the planner's statistics.
    optimize: ['reindex:plan', 'reindex:apply', 'reindex:analyze'],
    cleanup: ['retention:apply'],
  },

  // 30 days (BACKUP_RETENTION_DAYS), but never fewer than 3 sets, never the newest
  // verified one, and the newest of each of the last 7 days and 4 weeks.
  retention: { minKeep: 3, gfs: { daily: 7, weekly: 4 } },

  // `dbops watch` runs these (on any number of machines: each tick runs once).
  schedules: {
    daily: { cron: '0 2 * * *', run: 'backup', tags: ['daily'] },
    weekly: { cron: '0 3 * * 0', run: 'backup', tags: ['weekly'] },
    cleanup: { cron: '0 4 * * *', run: 'cleanup' },
    optimize: { cron: '0 1 * * 6', run: 'optimize' },
    health: { cron: '0 */6 * * *', run: 'health' },
  },

  notify: alertWebhook ? [{ webhook: alertWebhook, on: ['failure', 'recovery'] }] : [],
})
