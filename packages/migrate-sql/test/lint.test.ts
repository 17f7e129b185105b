import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readSections, sha256, type MigrationFile } from '../src/files/migration-file.ts'
import { lintMigrations } from '../src/lint/lint.ts'
import { RULES } from '../src/lint/rules.ts'
import { loadParser } from '../src/sql/parser.ts'
import { prepareSection } from '../src/sql/prepare.ts'
import { createTestDatabase, migrateProject } from './helpers.ts'

await loadParser()

function file(text: string, noTransaction = false): MigrationFile {
  const { up, down } = readSections(text)
  return {
    kind: 'versioned',
    version: '1',
    order: 1n,
    rank: 0,
    name: 'x',
    ledgerName: '1_x',
    display: '1_x.sql',
    path: '/x',
    prismaLayout: false,
    text,
    up,
    down,
    noTransaction,
    contentSha256: sha256(text),
  }
}

async function rulesHit(
  sql: string,
  options: { noTransaction?: boolean; runnerLockTimeout?: boolean } = {},
): Promise<string[]> {
  const f = file(sql, options.noTransaction)
  const findings = await lintMigrations(
    [
      {
        file: f,
        section: await prepareSection(f, f.up, {}),
        transactional: !options.noTransaction,
      },
    ],
    {
      disable: [],
      smallTableBytes: 0,
      largeTableBytes: 1,
      runnerLockTimeout: options.runnerLockTimeout ?? true,
    },
  )
  return [...new Set(findings.map((x) => x.rule))].sort()
}

// [sql, rules expected, options] — an ESLint RuleTester-style table.
const CASES: Array<[string, string[], { noTransaction?: boolean; runnerLockTimeout?: boolean }?]> =
  [
    ['create index users_email on users (email);', ['require-concurrent-index-creation']],
    ['create index concurrently users_email on users (email);', ['ban-concurrent-in-transaction']],
    ['create index concurrently users_email on users (email);', [], { noTransaction: true }],
    [
      'create index concurrently on users (email);',
      ['require-named-concurrent-index'],
      { noTransaction: true },
    ],
    ['create index on users (email);', ['require-concurrent-index-creation']],
    ['create table t (id int); create index t_id on t (id);', [], {}],
    ['drop index users_email;', ['require-concurrent-index-deletion']],
    ['drop index concurrently users_email;', [], { noTransaction: true }],
    ['alter table users add column age int not null;', ['adding-required-field']],
    ['alter table users add column age int not null default 0;', []],
    ['alter table users add column id2 bigint generated always as identity not null;', []],
    [
      'alter table posts add constraint posts_user_fk foreign key (user_id) references users (id);',
      ['constraint-missing-not-valid'],
    ],
    [
      'alter table posts add constraint posts_user_fk foreign key (user_id) references users (id) not valid;',
      [],
    ],
    [
      'alter table users add constraint age_positive check (age > 0);',
      ['constraint-missing-not-valid'],
    ],
    ['alter table users alter column age type bigint;', ['changing-column-type']],
    ['alter table users alter column age set not null;', ['adding-not-nullable-field']],
    [
      'alter table users add constraint users_email_key unique (email);',
      ['disallowed-unique-constraint'],
    ],
    ['alter table users add constraint users_email_key unique using index users_email;', []],
    ['alter table users add primary key (id);', ['disallowed-unique-constraint']],
    ['alter table users drop column age;', ['ban-drop-column']],
    ['drop table users;', ['ban-drop-table']],
    ['alter table users rename column email to mail;', ['renaming-column']],
    ['alter table users rename to people;', ['renaming-table']],
    ['begin; create table a (id int); commit;', ['transaction-nesting']],
    [
      'alter table users add column note text;',
      ['require-lock-timeout'],
      { runnerLockTimeout: false },
    ],
    [
      "set lock_timeout = '2s'; alter table users add column note text;",
      [],
      { runnerLockTimeout: false },
    ],
    ['alter table users add column note text;', []],
    [
      '-- dbops:lint-ignore require-concurrent-index-creation\ncreate index users_email on users (email);',
      [],
    ],
    [
      '-- dbops:lint-ignore-file ban-drop-table, ban-drop-column\ndrop table a; alter table b drop column c;',
      [],
    ],
    ['-- dbops:lint-ignore ban-drop-table\ndrop table a;\ndrop table b;', ['ban-drop-table']],
  ]

test('each rule fires on its unsafe statement and not on the safe alternative', async () => {
  for (const [sql, expected, options] of CASES)
    assert.equal(await rulesHit(sql, options), expected, sql)
})

test('every rule has a name, a sentence and a fix', () => {
  assert.ok(RULES.length >= 13)
  for (const r of RULES) {
    assert.match(r.name, /^[a-z-]+$/)
    assert.ok(r.summary.endsWith('.') && r.fix.length > 10, r.name)
  }
})

test('with a live database, findings are weighed by real table size; errors stop apply; lint-ignore lets it through', async () => {
  const db = await createTestDatabase('mig_lint')
  await db.query(
    `create table small_t (x int); create table big_t (x int); insert into big_t select g from generate_series(1, 30000) g; analyze big_t; create table filled (x int); insert into filled values (1)`,
  )
  const p = await migrateProject(
    db,
    `{ lint: { smallTableBytes: 64 * 1024, largeTableBytes: 512 * 1024 } }`,
    {
      'migrations/0001_idx.sql': `create index small_t_x on small_t (x);\ncreate index big_t_x on big_t (x);\n`,
      'migrations/0002_req.sql': `alter table small_t add column y int not null;\nalter table filled add column y int not null;\n`,
    },
  )
  try {
    const lint = await p.json(['migrate', 'lint'])
    assert.is(lint.code, 1)
    assert.is(lint.body.weighed, true)
    const by = (table: string, rule: string) =>
      lint.body.findings.find((f: any) => f.table === table && f.rule === rule)
    assert.is(by('small_t', 'require-concurrent-index-creation').severity, 'info')
    assert.match(
      by('small_t', 'require-concurrent-index-creation').message,
      'fine: the table is small',
    )
    assert.is(by('big_t', 'require-concurrent-index-creation').severity, 'error')
    assert.match(
      by('big_t', 'require-concurrent-index-creation').message,
      /the table is large \(\d+\.\d (kB|MB), ~30,000 rows\)/,
    )
    assert.is(by('small_t', 'adding-required-field').severity, 'info')
    assert.is(by('filled', 'adding-required-field').severity, 'error')
    assert.match(by('filled', 'adding-required-field').message, 'the table has rows')
    const text = await p.cli(['migrate', 'lint'])
    assert.match(
      text.stdout,
      'migrations/0001_idx.sql:2:1  error  require-concurrent-index-creation',
    )
    assert.match(text.stdout, 'fix: Use CREATE INDEX CONCURRENTLY')

    const offline = await p.json(['migrate', 'lint', '--offline'])
    assert.is(offline.body.weighed, false)
    assert.ok(offline.body.findings.every((f: any) => f.severity !== 'info'))

    const blocked = await p.cli(['migrate', 'apply'])
    assert.is(blocked.code, 1)
    assert.match(blocked.stderr, 'the pre-apply lint found 2 problem(s); nothing was applied')
    assert.is((await db.query(`select count(*)::int as n from dbops_migrations`)).rows[0]!.n, 0)

    await writeFile(
      path.join(p.dir, 'migrations/0001_idx.sql'),
      `create index small_t_x on small_t (x);\n-- dbops:lint-ignore require-concurrent-index-creation\ncreate index big_t_x on big_t (x);\n`,
    )
    await writeFile(
      path.join(p.dir, 'migrations/0002_req.sql'),
      `alter table small_t add column y int not null;\nalter table filled add column y int not null default 0;\n`,
    )
    const ok = await p.json(['migrate', 'apply'])
    assert.is(ok.code, 0, ok.stdout)
    assert.is(ok.body.applied.length, 2)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
