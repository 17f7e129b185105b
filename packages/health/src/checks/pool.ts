import { defineCheck } from './define-check.ts'

export const poolCheck = defineCheck({
  id: 'pool',
  title: "dbops' own connection pool",
  unit: 'count',
  local: true,
  defaults: { warning: 1, critical: 10 },
  source:
    'dbops: clients waiting for a pool connection (pgbouncer cl_waiting is the analogue); 1 / 10',
  hint: "Tasks wait for a connection: raise pool.max (within the server's max_connections) or run fewer things in parallel.",
  run: async ({ ctx }) => {
    const s = ctx.db.stats()
    return {
      value: s.waiting,
      message: `${s.total} of ${s.max} connections open, ${s.idle} idle, ${s.waiting} waiting; ${s.queries} queries (${s.errors} failed), slowest ${Math.round(s.slowestQueryMs)} ms`,
    }
  },
})
