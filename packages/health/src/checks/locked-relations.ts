/**
 * Relations of this database that another session holds or waits for with ACCESS
 * EXCLUSIVE (no `granted` filter: a queued request blocks readers too). Checks that must
 * touch a relation (amcheck an index, deparse an expression with pg_get_expr) skip these
 * instead of queueing: ACCESS SHARE, which those take, conflicts with nothing else.
 */
export const LOCKED_RELATIONS_CTE = `locked as materialized (
  select relation from pg_locks
  where locktype = 'relation' and mode = 'AccessExclusiveLock' and pid <> pg_backend_pid()
    and database = (select oid from pg_database where datname = current_database())
)`

/**
 * Sequences another session holds or waits for in a mode that conflicts with the ROW
 * EXCLUSIVE lock pg_sequence_last_value() takes: ALTER SEQUENCE (SHARE ROW EXCLUSIVE) as
 * well as DROP or RENAME (ACCESS EXCLUSIVE).
 */
export const LOCKED_SEQUENCES_CTE = `locked as materialized (
  select relation from pg_locks
  where locktype = 'relation' and mode in ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
    and pid <> pg_backend_pid()
    and database = (select oid from pg_database where datname = current_database())
)`
