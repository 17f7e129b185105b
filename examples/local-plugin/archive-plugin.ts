// A team's own plugin: a file in the app's repo, typed like any published plugin.
// It archives old rows of an `events` table into `events_archive`, in batches.
import { definePlugin } from 'dbops'
import { z } from 'zod'

export default definePlugin({
  name: 'acme-archive',
  namespace: 'archive',
  options: z.object({
    olderThanDays: z.number().int().positive().default(90),
    batchSize: z.number().int().positive().default(1000),
  }),
  setup: (options) => ({
    tasks: {
      count: {
        title: 'count events to archive',
        run: async (ctx) => {
          const { rows } = await ctx.db.read.query<{ n: string }>(
            `select count(*) as n from events where at < now() - make_interval(days => $1)`,
            [options.olderThanDays],
            { signal: ctx.signal },
          )
          return { due: Number(rows[0]?.n ?? 0) }
        },
        summarize: (r) => `${r.due} events older than ${options.olderThanDays} days`,
      },
      events: {
        title: 'archive old events',
        mutates: true,
        plan: async (ctx) => {
          const { rows } = await ctx.db.query<{ n: string }>(
            `select count(*) as n from events where at < now() - make_interval(days => $1)`,
            [options.olderThanDays],
          )
          return [
            `would move ${rows[0]?.n ?? 0} events older than ${options.olderThanDays} days to events_archive`,
          ]
        },
        run: async (ctx, io) => {
          let moved = 0
          for (;;) {
            ctx.signal.throwIfAborted()
            const { rowCount } = await ctx.db.query(
              `with batch as (delete from events where id in (select id from events where at < now() - make_interval(days => $1) limit $2) returning *)
               insert into events_archive select * from batch`,
              [options.olderThanDays, options.batchSize],
              { signal: ctx.signal },
            )
            moved += rowCount ?? 0
            io.output(`${moved} moved`)
            if (!rowCount) return { moved }
          }
        },
        summarize: (r) => `${r.moved} events archived`,
      },
    },
  }),
})
