import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { createTestDatabase, makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'

export { runCli, makeWorkdir, createTestDatabase }

/** A database with a few tables of known size, analyzed so estimates are sane. */
export async function seededDatabase(
  prefix: string,
  rows = { items: 2000, events: 30_000 },
): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix)
  await db.query(`
    create schema app;
    create table app.items (id int primary key, name text not null, price numeric(10,2));
    create table public.events (id bigserial primary key, item_id int references app.items(id), at timestamptz default now(), payload jsonb);
    create table public.empty_table (id int);
    create index on public.events (item_id);
    insert into app.items select g, 'item ' || g, g * 1.5 from generate_series(1, ${rows.items}) g;
    insert into public.events (item_id, payload) select 1 + g % ${rows.items}, jsonb_build_object('n', g, 'md5', md5(g::text)) from generate_series(1, ${rows.events}) g;
    analyze;
  `)
  return db
}

export function ageKey(
  dir: string,
  name = 'key.txt',
): { file: string; recipient: string; identity: string } {
  const file = path.join(dir, name)
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' })
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim()
  const identity = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
  return { file, recipient, identity }
}

/** A dbops.config.ts using the plugin with the given options (a TS object literal). */
export function configFile(
  pluginOptions: string,
  extra: { storage?: string; pipelines?: string; retention?: string; imports?: string } = {},
): string {
  return `import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
${extra.imports ?? ''}
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  storage: ${extra.storage ?? `{ local: { dir: './backups' } }`},
  plugins: [pgdump(${pluginOptions})],
  pipelines: ${extra.pipelines ?? `{ backup: ['pgdump:dump', 'pgdump:verify', 'retention:apply'], dump: ['pgdump:dump'] }`},
  ${extra.retention ? `retention: ${extra.retention},` : ''}
})
`
}

/** Every file under a directory, relative, sorted (hidden temp files included). */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    let entries: string[] = []
    try {
      entries = readdirSync(d)
    } catch {
      return
    }
    for (const e of entries) {
      const full = path.join(d, e)
      if (statSync(full).isDirectory()) walk(full)
      else out.push(path.relative(dir, full))
    }
  }
  walk(dir)
  return out.sort()
}

export function json<T = any>(stdout: string): T {
  try {
    return JSON.parse(stdout) as T
  } catch {
    throw new Error(`stdout is not JSON:\n${stdout}`)
  }
}

export async function rowCounts(db: {
  query: TestDatabase['query']
}): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of ['app.items', 'public.events', 'public.empty_table'])
    out[t] = Number((await db.query(`select count(*)::int as n from ${t}`)).rows[0]!.n)
  return out
}
