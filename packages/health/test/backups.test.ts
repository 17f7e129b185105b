// backup_freshness on a new install and on a destination whose backups never finished.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createTestDatabase, makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'
import { healthJson, result } from './setup.ts'

let db: TestDatabase
const projects: { remove(): Promise<void> }[] = []

/** What `dbops init` writes with @dbops/backup-pgdump installed: the plugin and a local destination that does not exist yet. */
async function newInstall() {
  const p = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
import health from '@dbops/health'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  storage: { local: { dir: './backups' } },
  plugins: [pgdump(), health()],
  pipelines: { backup: ['pgdump:dump', 'pgdump:verify'], health: ['health:check'] },
})
`,
  })
  projects.push(p)
  return p
}

test.before(async () => {
  db = await createTestDatabase('health_backups')
})

test.after(async () => {
  for (const p of projects) await p.remove()
  await db.drop()
})

test('a new install with no backup yet: backup_freshness is a WARNING that says so, and `dbops health` exits 0', async () => {
  const p = await newInstall()
  const { report, code } = await healthJson(p.dir, db.url, ['--only', 'backup_freshness'])
  const r = result(report, 'backup_freshness')
  assert.is(r.status, 'warning', r.message)
  assert.match(r.message, /^local: no backup yet of health_backups_\w+: run the backup pipeline/)
  assert.is(code, 0)
  const text = await runCli(['health', '--only', 'backup_freshness'], {
    cwd: p.dir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(text.code, 0, text.stdout + text.stderr)
  assert.match(text.stdout, /WARN\s+backup_freshness .*no backup yet/)
})

test('a destination holding only a backup that never finished (no manifest) is CRITICAL', async () => {
  const p = await newInstall()
  const unfinished = path.join(p.dir, 'backups', db.name, '20260101T020000Z-dead')
  await mkdir(unfinished, { recursive: true })
  await writeFile(path.join(unfinished, 'dump.pgdump'), 'partial')
  const { report, code } = await healthJson(p.dir, db.url, ['--only', 'backup_freshness'])
  const r = result(report, 'backup_freshness')
  assert.is(r.status, 'critical', r.message)
  assert.match(
    r.message,
    /no finished backup set of .*: 1 folder\(s\) of backups that never finished or cannot be read/,
  )
  assert.is(code, 1)
})

test('a destination whose only set is damaged (its dump deleted) is CRITICAL, not "no backup yet"', async () => {
  const p = await newInstall()
  const backup = await runCli(['run', 'backup'], { cwd: p.dir, env: { DATABASE_URL: db.url } })
  assert.is(backup.code, 0, backup.stderr)
  const setsDir = path.join(p.dir, 'backups', db.name)
  const [set] = await readdir(setsDir)
  for (const file of await readdir(path.join(setsDir, set!)))
    if (file !== 'manifest.json') await rm(path.join(setsDir, set!, file))
  const { report, code } = await healthJson(p.dir, db.url, ['--only', 'backup_freshness'])
  const r = result(report, 'backup_freshness')
  assert.is(r.status, 'critical', r.message)
  assert.not.match(r.message, /no backup yet/)
  assert.is(code, 1)
})

test.run()
