import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, migrateProject } from './helpers.ts'

// 'café' saved by a Latin-1 editor: é is the single byte 0xE9, which is not UTF-8.
const LATIN1_INSERT = Buffer.concat([
  Buffer.from(`create table t (v text);\ninsert into t values ('caf`),
  Buffer.from([0xe9]),
  Buffer.from(`');\n`),
])

test('a file that is not UTF-8 is refused with file:line:column and nothing is applied', async () => {
  const db = await createTestDatabase('mig_enc_bad')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_a.sql': `create table a (id int);\n`,
  })
  try {
    await writeFile(path.join(p.dir, 'migrations/0002_latin1.sql'), LATIN1_INSERT)
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1, r.stderr)
    const column = `insert into t values ('caf`.length + 1
    assert.match(
      r.stderr,
      `migrations/0002_latin1.sql:2:${column}: the file is not valid UTF-8 (byte 0xE9)`,
    )
    assert.match(r.stderr, '-- dbops:encoding latin1')
    assert.is(
      (await db.query(`select to_regclass('a') as t`)).rows[0]!.t,
      null,
      'nothing applied, not even the file before it',
    )
    const lint = await p.cli(['migrate', 'lint', '--offline'])
    assert.is(lint.code, 1)
    assert.match(lint.stderr, `migrations/0002_latin1.sql:2:${column}: the file is not valid UTF-8`)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a file that declares its encoding is decoded with it; an unknown encoding is an error', async () => {
  const db = await createTestDatabase('mig_enc_declared')
  const p = await migrateProject(db, '{}', { 'migrations/.keep': '' })
  try {
    await writeFile(
      path.join(p.dir, 'migrations/0001_latin1.sql'),
      Buffer.concat([Buffer.from('-- dbops:encoding latin1\n'), LATIN1_INSERT]),
    )
    const r = await p.json(['migrate', 'apply'])
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.is((await db.query(`select v from t`)).rows[0]!.v, 'café')
    assert.is((await p.json(['migrate', 'status'])).code, 0)
    await writeFile(
      path.join(p.dir, 'migrations/0002_odd.sql'),
      '-- dbops:encoding klingon\nselect 1;\n',
    )
    const bad = await p.cli(['migrate', 'apply'])
    assert.is(bad.code, 1)
    assert.match(bad.stderr, "migrations/0002_odd.sql:1:1: unknown encoding 'klingon'")
    // The psql way of declaring it would make the server misread what dbops sends (UTF-8).
    await writeFile(
      path.join(p.dir, 'migrations/0002_odd.sql'),
      Buffer.concat([
        Buffer.from("-- dbops:encoding latin1\nSET client_encoding = 'LATIN1';\n"),
        LATIN1_INSERT.subarray(LATIN1_INSERT.indexOf('insert')),
      ]),
    )
    const set = await p.cli(['migrate', 'apply'])
    assert.is(set.code, 1)
    assert.match(
      set.stderr,
      'migrations/0002_odd.sql:2:1: SET client_encoding would make the server read',
    )
    assert.is((await db.query(`select count(*)::int as n from t`)).rows[0]!.n, 1, 'nothing applied')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
