// This repository's own dbops config: the demo. `pnpm demo` starts a throwaway PostgreSQL,
// points DATABASE_URL at it and runs these pipelines against the aipromot example's schema.
// Run by hand (`pnpm dbops run backup`), it targets DATABASE_URL, else a local aipromotdb.
// A real app's config looks like examples/aipromot/dbops.config.ts.
import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
import migrate from '@dbops/migrate-sql'
import health from '@dbops/health'
import reindex from '@dbops/reindex'

export default defineConfig({
  connection: {
    url: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/aipromotdb',
    applicationName: 'dbops-demo',
  },
  storage: { local: { dir: process.env.BACKUP_DIR || './.dbops/backups' } },
  plugins: [
    migrate({ dir: './examples/aipromot/prisma/migrations', ledger: 'prisma' }),
    // `restore`: every backup is restored into a scratch database and its row counts compared.
    pgdump({ verify: { level: 'restore' } }),
    health(),
    reindex(),
  ],
  pipelines: {
    setup: ['migrate:apply'],
    backup: ['pgdump:dump', 'pgdump:verify', 'retention:apply'],
    health: ['health:check'],
    optimize: ['reindex:plan', 'reindex:apply', 'reindex:analyze'],
  },
  retention: { keepLast: 5, minKeep: 3 },
})
