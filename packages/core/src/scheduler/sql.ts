import { RUN_COLUMNS } from './run-columns.ts'

/**
 * The scheduler's tables, in a small `dbops` schema of the target database, created on
 * first use. One query, one name; values always go in as parameters.
 *
 * - `dbops.schedule_ticks`: one row per (schedule, tick) that some watcher claimed. The
 *   primary key is what makes a tick run once however many watchers are up.
 * - `dbops.runs`: the history: one row per run with its status, times, error and the
 *   watcher (host, pid) that ran it. `lease_until` is renewed while the run is alive; a
 *   row still `running` after its lease is a run whose watcher died: `lost`.
 */

// Two watchers starting together would race on `create ... if not exists`.
export const CREATE_SCHEMA = `
select pg_advisory_xact_lock(hashtextextended('dbops.scheduler.schema', 0));
create schema if not exists dbops;
create table if not exists dbops.schedule_ticks (
  schedule    text not null,
  tick        timestamptz not null,
  claimed_by  text not null,
  claimed_at  timestamptz not null default now(),
  primary key (schedule, tick)
);
create table if not exists dbops.runs (
  id           uuid primary key,
  schedule     text not null,
  tick         timestamptz not null,
  pipelines    text[] not null,
  tags         text[] not null default '{}',
  status       text not null check (status in ('queued', 'running', 'success', 'failed', 'aborted', 'lost')),
  queued_at    timestamptz not null default now(),
  started_at   timestamptz,
  ended_at     timestamptz,
  duration_ms  integer,
  error        text,
  host         text not null,
  pid          integer not null,
  watcher      text not null,
  lease_until  timestamptz not null
);
create index if not exists runs_schedule_recent on dbops.runs (schedule, queued_at desc);
create index if not exists runs_active on dbops.runs (schedule) where status in ('queued', 'running');
-- Added after the first release: each step's status, duration, summary and figures (run-steps.ts).
-- Checked first, so a watcher start takes no table lock when the column is there.
do $$ begin
  if not exists (select 1 from pg_attribute where attrelid = 'dbops.runs'::regclass and attname = 'steps' and not attisdropped) then
    alter table dbops.runs add column steps jsonb;
  end if;
end $$;
`

/** Serialises claims of one schedule across watchers for the rest of the transaction. */
export const LOCK_SCHEDULE = `select pg_advisory_xact_lock(hashtextextended('dbops.scheduler.schedule:' || $1, 0))`

/** Runs whose watcher stopped renewing the lease. */
export const MARK_LOST = `
update dbops.runs
   set status = 'lost', ended_at = lease_until,
       error = 'the watcher ' || watcher || ' stopped renewing its lease (killed, or cut off from the database); the run''s outcome is unknown'
 where status in ('queued', 'running') and lease_until < now() and ($1::text is null or schedule = $1)
returning id, schedule, tick, pipelines, host, pid, watcher, started_at, ended_at, error`

export const CLAIM_TICK = `
insert into dbops.schedule_ticks (schedule, tick, claimed_by) values ($1, $2, $3)
on conflict do nothing
returning tick`

export const ACTIVE_RUNS = `
select id, status, host, pid, started_at, queued_at from dbops.runs
 where schedule = $1 and status in ('queued', 'running')
 order by queued_at`

export const INSERT_RUN = `
insert into dbops.runs (id, schedule, tick, pipelines, tags, status, started_at, host, pid, watcher, lease_until)
values ($1, $2, $3, $4, $5, $6, case when $6 = 'running' then now() end, $7, $8, $9, now() + $10 * interval '1 millisecond')`

/** A queued run starts once nothing of its schedule is running. */
export const START_QUEUED = `
update dbops.runs set status = 'running', started_at = now(), lease_until = now() + $2 * interval '1 millisecond'
 where id = $1 and status = 'queued'
   and not exists (select 1 from dbops.runs r where r.schedule = runs.schedule and r.status = 'running')
returning id`

export const RENEW_LEASES = `
update dbops.runs set lease_until = now() + $2 * interval '1 millisecond'
 where id = any($1::uuid[]) and status in ('queued', 'running')`

export const FINISH_RUN = `
update dbops.runs
   set status = $2, ended_at = now(), error = $3, steps = $4,
       duration_ms = case when started_at is null then null else (extract(epoch from now() - started_at) * 1000)::integer end
 where id = $1`

/** The outcome before this run, for "recovery" (first success after a failure). */
export const PREVIOUS_OUTCOME = `
select status from dbops.runs
 where schedule = $1 and id <> $2 and status in ('success', 'failed', 'lost')
 order by coalesce(ended_at, queued_at) desc limit 1`

export const LATEST_CLAIMED_TICK = `select max(tick) as tick from dbops.schedule_ticks where schedule = $1`

/** Claims matter only around their tick; the newest per schedule stays for catch-up. */
export const PRUNE_TICKS = `
delete from dbops.schedule_ticks t
 where t.tick < now() - interval '1 day'
   and t.tick < (select max(tick) from dbops.schedule_ticks m where m.schedule = t.schedule)`

export const PRUNE_RUNS = `delete from dbops.runs where status not in ('queued', 'running') and queued_at < now() - $1 * interval '1 day'`

export const RECENT_RUNS = `
select ${RUN_COLUMNS}, watcher
  from dbops.runs
 where ($1::text is null or schedule = $1)
 order by queued_at desc
 limit $2`

export const HISTORY_EXISTS = `select to_regclass('dbops.runs') is not null as exists`
