/**
 * Relations of this database that another session holds or waits for with ACCESS
 * EXCLUSIVE (no `granted` filter: a queued request blocks readers too). Checks that must
 * touch a relation (read a sequence, amcheck an index) skip these instead of queueing.
 */
export const LOCKED_RELATIONS_CTE = `locked as materialized (
  select relation from pg_locks
  where locktype = 'relation' and mode = 'AccessExclusiveLock' and pid <> pg_backend_pid()
    and database = (select oid from pg_database where datname = current_database())
)`
