/**
 * The columns of a `dbops.runs` row as every reader shows it (`dbops runs`, the dashboard): a
 * queued or running run whose lease has expired reads as lost.
 */
export const RUN_COLUMNS = `id, schedule, tick, pipelines, tags,
       case when status in ('queued', 'running') and lease_until < now() then 'lost' else status end as status,
       queued_at, started_at, ended_at, duration_ms, error, host, pid`
