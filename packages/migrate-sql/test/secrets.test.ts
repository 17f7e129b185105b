import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TEST_PASSWORD } from '@dbops/test-utils'
import { createTestDatabase, migrateProject, runCli } from './helpers.ts'

test('the password never shows in output, JSON, errors or the ledger; a wrong password or a dead server is a sentence', async () => {
  const db = await createTestDatabase('mig_secrets')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_ok.sql': `create table ok (id int);\n`,
    'migrations/0002_bad.sql': `insert into nope values (1);\n`,
  })
  const as = (url: string, args: string[]) =>
    runCli(args, { cwd: p.dir, env: { DATABASE_URL: url } })
  try {
    const outputs = [
      await as(db.passwordUrl, ['migrate', 'apply', '--json']),
      await as(db.passwordUrl, ['migrate', 'apply']),
      await as(db.passwordUrl, ['migrate', 'status', '--json']),
      await as(db.passwordUrl, ['run', 'migrate', '--json']),
    ]
    assert.is(outputs[0]!.code, 1)
    assert.match(outputs[0]!.stdout, 'relation \\"nope\\" does not exist')
    assert.is(
      (await db.query(`select applied_by from dbops_migrations`)).rows[0]!.applied_by,
      'dbops_test',
    )
    const wrong = db.passwordUrl.replace(encodeURIComponent(TEST_PASSWORD), 'not-the-password')
    const denied = await as(wrong, ['migrate', 'apply'])
    assert.is(denied.code, 1)
    assert.match(
      denied.stderr,
      /could not connect to dbops_test@127\.0\.0\.1:\d+\/mig_secrets\w+: password authentication failed/,
    )
    const dead = await as(
      `postgres://dbops_test:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:1/x`,
      ['migrate', 'status'],
    )
    assert.is(dead.code, 1)
    assert.match(dead.stderr, 'could not connect to dbops_test@127.0.0.1:1/x')
    for (const r of [...outputs, denied, dead]) {
      assert.not.match(r.stdout + r.stderr, TEST_PASSWORD)
      assert.not.match(r.stdout + r.stderr, encodeURIComponent(TEST_PASSWORD))
    }
    const ledger = JSON.stringify((await db.query(`select * from dbops_migrations`)).rows)
    assert.not.match(ledger, TEST_PASSWORD)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
