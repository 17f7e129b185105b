import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadParser, lineColumn, splitStatements, tokenChecksum } from '../src/sql/parser.ts'
import { substitutePlaceholders } from '../src/sql/placeholders.ts'
import { sqlTokens } from '../src/sql/tokens.ts'
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
  assert.equal(stmts.map((s) => s.type), ['CreateFunctionStmt', 'SelectStmt', 'CreateFunctionStmt', 'InsertStmt'])
  assert.ok(stmts[0]!.sql.startsWith('create function f()'))
  assert.ok(stmts[0]!.sql.endsWith('language plpgsql'))
  assert.ok(stmts[1]!.sql.startsWith("select 'a;b'"), 'leading comments are not part of the statement')
  assert.equal(stmts[3]!.sql, 'insert into t values ($$x;y$$)')
  assert.equal(lineColumn(sql, stmts[1]!.start), { line: 3, column: 43 })
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
    const at = lineColumn(sql, (error as { offset: number }).offset)
    assert.equal(at, { line: 2, column: 8 })
    assert.match((error as Error).message, /syntax error at or near "tabel"/)
  }
})

test('token checksum ignores comments and whitespace outside literals, not real edits', () => {
  const base = tokenChecksum(`create table t (id int, name text default 'a  b');`)
  assert.is(tokenChecksum(`-- a comment\ncreate   table t (\n  id int, /* why */\n  name text default 'a  b'\n);\n\n`), base)
  assert.is(tokenChecksum(`create table t (id int, name text default 'a  b');`.replace(/\n/g, '\r\n')), base)
  assert.is.not(tokenChecksum(`create table t (id int, name text default 'a b');`), base, 'whitespace inside a literal counts')
  assert.is.not(tokenChecksum(`create table t (id bigint, name text default 'a  b');`), base)
  assert.is.not(tokenChecksum(`create table t (id int, name text default 'a  b');`, 'no-transaction'), base)
})

test('the checksum token stream is the PostgreSQL scanner\'s (comments dropped)', () => {
  const samples = [
    `create table "Odd ""name""" (id bigint primary key, j jsonb default '{}'::jsonb); -- trailing`,
    `select j->>'k', j #> '{a,b}', a<=b, a<>b, x::text, $1, e'it\\'s' from t /* c /* nested */ */ where k = 'a''b'`,
    `create function f() returns int as $fn$ select 1; $fn$ language sql; select $$x$$`,
    `alter table t add constraint c check (x >= 0 and y != 2) not valid`,
    `do $$ begin perform 1; end $$;`,
  ]
  for (const sql of samples) {
    const scanned = (scanSync(sql) as { tokens: Array<{ text: string; tokenName: string }> }).tokens.filter((t) => !t.tokenName.endsWith('COMMENT')).map((t) => t.text)
    assert.equal(sqlTokens(sql), scanned, sql)
  }
})

test('placeholders map positions back to the original text', () => {
  const sub = substitutePlaceholders('create schema ${SCHEMA};\nselect ${X}', { SCHEMA: 'a_much_longer_name', X: '1' })
  assert.is(sub.text, 'create schema a_much_longer_name;\nselect 1')
  assert.is(sub.toOriginal(sub.text.indexOf('select')), 'create schema ${SCHEMA};\n'.length)
  assert.equal(substitutePlaceholders('x ${NOPE}', {}).unknown, [{ name: 'NOPE', offset: 2 }])
})

test('up and down sections', () => {
  const { up, down } = readSections(`-- dbops:up\ncreate table a();\n-- dbops:down\ndrop table a;\n`)
  assert.is(up.text.trim(), 'create table a();')
  assert.is(down!.text.trim(), 'drop table a;')
  const whole = readSections('create table a();')
  assert.is(whole.up.text, 'create table a();')
  assert.is(whole.down, undefined)
})

test.run()
