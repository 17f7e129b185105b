// Every query of the plugin, one name each (the index listing of the estimate lives in
// dbops/plugin's catalog/index-bloat.ts). Identifiers are quoted by `qualified()` only.
import { USER_SCHEMAS, quoteIdent } from 'dbops/plugin'

/** `"schema"."name"`, quoted the way PostgreSQL's quote_ident would (always quoted). */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`
}

export const SERVER_FACTS = `
select current_setting('server_version_num')::int as version_num, current_setting('server_version') as version,
       current_setting('block_size')::int as block_size, pg_is_in_recovery() as in_recovery,
       current_setting('is_superuser') = 'on' as superuser,
       exists (select 1 from pg_extension where extname = 'pgstattuple') as has_pgstattuple,
       exists (select 1 from pg_extension where extname = 'amcheck') as has_amcheck,
       (select extnamespace::regnamespace::text from pg_extension where extname = 'pgstattuple') as pgstattuple_schema,
       (select extnamespace::regnamespace::text from pg_extension where extname = 'amcheck') as amcheck_schema`

/** Invalid indexes of user tables, with whether an index build is running on their table. */
export const LIST_INVALID_INDEXES = `
select n.nspname as schema, ct.relname as table_name, ci.relname as index_name, i.indrelid::int8 as table_oid,
       ci.relpages::bigint * current_setting('block_size')::int as bytes,
       (select p.pid from pg_stat_progress_create_index p where p.relid = i.indrelid limit 1) as build_pid,
       coalesce((select array_agg(v.relname::text) from pg_index vi join pg_class v on v.oid = vi.indexrelid
                  where vi.indrelid = i.indrelid and vi.indisvalid), '{}') as valid_siblings
  from pg_index i
  join pg_class ci on ci.oid = i.indexrelid
  join pg_class ct on ct.oid = i.indrelid
  join pg_namespace n on n.oid = ct.relnamespace
 where not i.indisvalid and ci.relkind = 'i' and ${USER_SCHEMAS}
 order by 1, 2, 3`

/** Transactions of this database open longer than $1 ms (they would stall a concurrent rebuild). */
export const OLD_TRANSACTIONS = `
select pid, extract(epoch from now() - xact_start)::float8 * 1000 as age_ms, state, usename, application_name,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 80) as query, false as prepared
  from pg_stat_activity
 where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
   and xact_start < now() - make_interval(secs => $1::float8 / 1000)
union all
select null, extract(epoch from now() - prepared)::float8 * 1000, 'prepared', owner::text, gid, null, true
  from pg_prepared_xacts
 where database = current_database() and prepared < now() - make_interval(secs => $1::float8 / 1000)
 order by 2 desc`

/** Where the server keeps its files, to find free disk when it runs on this machine. */
export const DATA_DIRECTORY = `
select current_setting('data_directory') as data_directory, current_setting('port')::int as port,
       extract(epoch from pg_postmaster_start_time())::float8 as started_at`

export const INDEX_STATE = `
select ci.oid::int8 as index_oid, ci.relfilenode::int8 as relfilenode, i.indisvalid as valid,
       pg_relation_size(ci.oid)::int8 as bytes, i.indrelid::int8 as table_oid
  from pg_class ci join pg_index i on i.indexrelid = ci.oid join pg_namespace n on n.oid = ci.relnamespace
 where n.nspname = $1 and ci.relname = $2 and ci.relkind = 'i'`

/** Invalid indexes on a table (candidates for being leftovers of a concurrent rebuild). */
export const INVALID_ON_TABLE = `
select ci.relname as index_name
  from pg_index i join pg_class ci on ci.oid = i.indexrelid
 where i.indrelid = $1::oid and not i.indisvalid and ci.relkind = 'i'`

export const BUILD_IN_PROGRESS = `
select pid from pg_stat_progress_create_index where relid = $1::oid and pid <> $2 limit 1`

export const PROGRESS = `
select phase, blocks_total::int8, blocks_done::int8, tuples_total::int8, tuples_done::int8,
       lockers_total::int8, lockers_done::int8, current_locker_pid::int8
  from pg_stat_progress_create_index where pid = $1`

/** pgstatindex's figures as float8, which pg reads as numbers (a PgstatindexRow as it is). */
export const PGSTATINDEX = (schema: string) => `
select index_size::float8, internal_pages::float8, leaf_pages::float8, empty_pages::float8, deleted_pages::float8, avg_leaf_density::float8
  from ${quoteIdent(schema)}.pgstatindex($1::regclass)`

export const BT_INDEX_CHECK = (schema: string) =>
  `select ${quoteIdent(schema)}.bt_index_check($1::regclass, $2::boolean)`

/** Tables whose statistics or dead rows pass the thresholds of `reindex:analyze`. */
export const TABLES_TO_MAINTAIN = `
select st.schemaname as schema, st.relname as table_name, st.relid::int8 as table_oid,
       greatest(c.reltuples, 0)::float8 as rows, st.n_mod_since_analyze::float8 as modified, st.n_dead_tup::float8 as dead,
       st.last_analyze is null and st.last_autoanalyze is null as never_analyzed,
       c.relpages::int8 * current_setting('block_size')::int as bytes
  from pg_stat_user_tables st join pg_class c on c.oid = st.relid
 where c.relkind in ('r', 'm') and ($1::text[] is null or st.schemaname = any($1::text[]))
 order by st.schemaname, st.relname`
