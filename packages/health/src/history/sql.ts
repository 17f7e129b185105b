/**
 * Health history: each `health:check` run's results, kept in the small `dbops` schema the
 * scheduler also uses (the target database unless `history.url` names another). These two
 * tables are the contract readers such as `@dbops/dashboard` rely on (see the README).
 *
 * - `dbops.health_results`: one row per check per run (skipped checks are not stored).
 * - `dbops.health_checks`: the catalog as last run: title, unit, thresholds and hint of
 *   every check, so a reader needs no copy of the catalog to draw a status band.
 */

// Two runs starting together would race on `create ... if not exists`.
export const CREATE_HISTORY = `
select pg_advisory_xact_lock(hashtextextended('dbops.health.schema', 0));
create schema if not exists dbops;
create table if not exists dbops.health_results (
  at        timestamptz not null,
  database  text not null,
  check_id  text not null,
  status    text not null check (status in ('ok', 'warning', 'critical', 'unknown')),
  value     double precision,
  message   text,
  run_id    uuid,
  primary key (database, check_id, at)
);
create index if not exists health_results_at on dbops.health_results (at);
create table if not exists dbops.health_checks (
  database    text not null,
  check_id    text not null,
  title       text not null,
  unit        text not null,
  direction   text not null,
  warning     double precision,
  critical    double precision,
  hint        text,
  updated_at  timestamptz not null,
  primary key (database, check_id)
);
`

/** One run's results in one statement: arrays in, one row per check out. */
export const INSERT_RESULTS = `
insert into dbops.health_results (at, database, check_id, status, value, message, run_id)
select $1, $2, r.check_id, r.status, r.value, r.message, $7
  from unnest($3::text[], $4::text[], $5::float8[], $6::text[]) as r (check_id, status, value, message)
on conflict do nothing`

export const UPSERT_CHECKS = `
insert into dbops.health_checks (database, check_id, title, unit, direction, warning, critical, hint, updated_at)
select $1, c.check_id, c.title, c.unit, c.direction, c.warning, c.critical, c.hint, $9
  from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::text[]) as c (check_id, title, unit, direction, warning, critical, hint)
on conflict (database, check_id) do update
   set title = excluded.title, unit = excluded.unit, direction = excluded.direction, warning = excluded.warning,
       critical = excluded.critical, hint = excluded.hint, updated_at = excluded.updated_at`

export const PRUNE_RESULTS = `delete from dbops.health_results where at < now() - $1 * interval '1 day'`
