import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { lineIndex } from '../src/sql/lines.ts'
import { loadParser, splitStatements } from '../src/sql/parser.ts'
import { tokenChecksum } from '../src/sql/token-checksum.ts'
import { substitutePlaceholders } from '../src/sql/placeholders.ts'
import { scanTokens, sqlTokens } from '../src/sql/tokens.ts'
import { scanSync } from 'libpg-query'
import { readSections } from '../src/files/migration-file.ts'

await loadParser()

test('splits on the PostgreSQL grammar: dollar quotes, comments, strings, E-strings, BEGIN ATOMIC', () => {
  const sql = `-- lead; comment
create function f() returns int as $body$ begin perform 1; return 1; end $body$ language plpgsql;
/* block ; comment /* nested; */ still */ select 'a;b', E'c\\';d', "we;ird" from (select 1 as "we;ird") x;
create function g() returns int language sql begin atomic select 1; select 2; end;
insert into t values ($$x;y$$)`
  const stmts = splitStatements(sql)
  assert.equal(
    stmts.map((s) => s.type),
    ['CreateFunctionStmt', 'SelectStmt', 'CreateFunctionStmt', 'InsertStmt'],
  )
  assert.ok(stmts[0]!.sql.startsWith('create function f()'))
  assert.ok(stmts[0]!.sql.endsWith('language plpgsql'))
  assert.ok(
    stmts[1]!.sql.startsWith("select 'a;b'"),
    'leading comments are not part of the statement',
  )
  assert.equal(stmts[3]!.sql, 'insert into t values ($$x;y$$)')
  assert.equal(lineIndex(sql).locate(stmts[1]!.start), { line: 3, column: 43 })
})

test('offsets are in characters even with multi-byte text before them', () => {
  const sql = `select 'héllo wörld'; select 2`
  const stmts = splitStatements(sql)
  assert.equal(sql.slice(stmts[1]!.start), 'select 2')
})

test('a syntax error carries its offset', () => {
  const sql = `select 1;\ncreate tabel x (id int);`
  try {
    splitStatements(sql)
    assert.unreachable()
  } catch (error) {
    const at = lineIndex(sql).locate((error as { offset: number }).offset)
    assert.equal(at, { line: 2, column: 8 })
    assert.match((error as Error).message, /syntax error at or near "tabel"/)
  }
})

test('token checksum ignores comments and whitespace outside literals, not real edits', () => {
  const base = tokenChecksum(`create table t (id int, name text default 'a  b');`)
  assert.is(
    tokenChecksum(
      `-- a comment\ncreate   table t (\n  id int, /* why */\n  name text default 'a  b'\n);\n\n`,
    ),
    base,
  )
  assert.is(
    tokenChecksum(`create table t (id int, name text default 'a  b');`.replace(/\n/g, '\r\n')),
    base,
  )
  assert.is.not(
    tokenChecksum(`create table t (id int, name text default 'a b');`),
    base,
    'whitespace inside a literal counts',
  )
  assert.is.not(tokenChecksum(`create table t (id bigint, name text default 'a  b');`), base)
  assert.is.not(
    tokenChecksum(`create table t (id int, name text default 'a  b');`, 'no-transaction'),
    base,
  )
})

test("the checksum token stream is the PostgreSQL scanner's (comments dropped)", () => {
  const samples = [
    `create table "Odd ""name""" (id bigint primary key, j jsonb default '{}'::jsonb); -- trailing`,
    `select j->>'k', j #> '{a,b}', a<=b, a<>b, x::text, $1, e'it\\'s' from t /* c /* nested */ */ where k = 'a''b'`,
    `create function f() returns int as $fn$ select 1; $fn$ language sql; select $$x$$`,
    `alter table t add constraint c check (x >= 0 and y != 2) not valid`,
    `do $$ begin perform 1; end $$;`,
  ]
  for (const sql of samples) {
    const scanned = (scanSync(sql) as { tokens: Array<{ text: string; tokenName: string }> }).tokens
      .filter((t) => !t.tokenName.endsWith('COMMENT'))
      .map((t) => t.text)
    assert.equal(sqlTokens(sql), scanned, sql)
  }
})

test('placeholders map positions back to the original text', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dbops placeholders, not templates
  const sub = substitutePlaceholders('create schema ${SCHEMA};\nselect ${X}', {
    SCHEMA: 'a_much_longer_name',
    X: '1',
  })
  assert.is(sub.text, 'create schema a_much_longer_name;\nselect 1')
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dbops placeholders, not templates
  assert.is(sub.toOriginal(sub.text.indexOf('select')), 'create schema ${SCHEMA};\n'.length)
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dbops placeholders, not templates
  assert.equal(substitutePlaceholders('x ${NOPE}', {}).unknown, [{ name: 'NOPE', offset: 2 }])
})

test('up and down sections', () => {
  const { up, down } = readSections(
    `-- dbops:up\ncreate table a();\n-- dbops:down\ndrop table a;\n`,
  )
  assert.is(up.text.trim(), 'create table a();')
  assert.is(down!.text.trim(), 'drop table a;')
  const whole = readSections('create table a();')
  assert.is(whole.up.text, 'create table a();')
  assert.is(whole.down, undefined)
})

test('a long script is parsed in pieces with the same statements as in one go', () => {
  const unit = `-- a comment; with a semicolon
create function f#() returns int language sql begin atomic select 1; select case when true then 2 end; end;
create or replace procedure p#() language plpgsql as $body$ begin perform 1; end $body$;
insert into t values ('café; ''quoted''', E'it\\'s; fine', $$x;y$$, "we;ird", U&'d\\0061t;a');
create rule r# as on insert to t do also (insert into a values (1); insert into b values (2));
/* block ; /* nested ; */ still ; */ select 1;
`
  let script = ''
  for (let i = 0; script.length < 400_000; i++) script += unit.replaceAll('#', String(i))
  const pieces = splitStatements(script)
  const whole = splitStatements(script, { cuts: [] })
  assert.is(pieces.length, whole.length)
  assert.ok(pieces.length > 4000, String(pieces.length))
  for (let i = 0; i < whole.length; i++) {
    assert.is(pieces[i]!.sql, whole[i]!.sql)
    assert.is(pieces[i]!.start, whole[i]!.start)
    assert.is(pieces[i]!.type, whole[i]!.type)
  }
  assert.is(script.slice(pieces.at(-1)!.start), 'select 1;\n')
})

test('a cut inside a statement is mended by parsing a longer piece; a real error keeps its place', () => {
  const sql = `select 1;\ncreate function f() returns int language sql begin atomic select 1; select 2; end;\nselect 3;`
  const inside = sql.indexOf('select 1; select 2') + 'select 1;'.length
  const cut = splitStatements(sql, { cuts: [sql.indexOf(';') + 1, inside] })
  assert.equal(
    cut.map((s) => s.type),
    ['SelectStmt', 'CreateFunctionStmt', 'SelectStmt'],
  )
  assert.equal(
    cut.map((s) => s.start),
    splitStatements(sql, { cuts: [] }).map((s) => s.start),
  )
  const bad = `select 1;\nselect 2;\ncreate tabel x (id int);\nselect 4;`
  try {
    splitStatements(bad, {
      cuts: [bad.indexOf('select 2'), bad.indexOf('create'), bad.indexOf('select 4')],
    })
    assert.unreachable()
  } catch (error) {
    assert.equal(lineIndex(bad).locate((error as { offset: number }).offset), {
      line: 3,
      column: 8,
    })
  }
})

test('an empty or comment-only script has no statements', () => {
  assert.equal(splitStatements(''), [])
  assert.equal(splitStatements('-- This is an empty migration.'), [])
})

test('the token scanner gives the same stream when run in slices', () => {
  const sql = `select 'a;b', $$x$$, e'\\'' from t -- c\n/* d */ where a->>'k' = $1`
  const whole = sqlTokens(sql)
  for (let step = 1; step < sql.length; step++) {
    const out: string[] = []
    for (let i = 0; i < sql.length; )
      i = scanTokens(sql, i, Math.min(sql.length, i + step), (t) => out.push(t))
    assert.equal(out, whole, `slices of ${step}`)
  }
})

test.run()
