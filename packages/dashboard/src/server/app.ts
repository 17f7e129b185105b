import type { ScheduleConfig } from 'dbops/plugin'
import { Hono, type Context as HonoContext } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { Collector } from '../collect/collector.ts'
import { parseSince, type DashboardOptions } from '../options.ts'
import * as views from '../views/api.ts'
import { loadAssets } from './assets.ts'
import { requireToken } from './auth.ts'

export interface AppEnv {
  collector: Collector
  options: DashboardOptions
  schedules: Record<string, ScheduleConfig>
  /** Set: every request must carry it. */
  token?: string
}

// The page runs its own script and styles only; no frame, no referrer, nothing cached.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/**
 * The dashboard's HTTP app: the page, its assets, the JSON endpoints and the event stream.
 * Read-only: GET and HEAD only; every answer comes from what the collector last read.
 */
export function createApp(env: AppEnv): Hono {
  const app = new Hono()
  const view = (): views.ViewEnv => ({
    state: env.collector.state,
    options: env.options,
    schedules: env.schedules,
  })
  const since = (c: HonoContext) => {
    const text = c.req.query('since')
    if (!text) return undefined
    try {
      return new Date(Date.now() - parseSince(text))
    } catch (error) {
      throw Object.assign(new Error((error as Error).message), { status: 400 })
    }
  }

  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
      return c.json(
        { error: { code: 'READ_ONLY', message: 'the dashboard is read-only: only GET and HEAD' } },
        405,
      )
    await next()
    for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v)
  })
  if (env.token) app.use('*', requireToken(env.token))
  app.onError((error, c) => {
    const status = (error as { status?: number }).status === 400 ? 400 : 500
    return c.json(
      {
        error: {
          code: status === 400 ? 'BAD_REQUEST' : 'INTERNAL',
          message: status === 400 ? error.message : 'the dashboard failed to answer; see its log',
        },
      },
      status,
    )
  })

  const assets = loadAssets()
  app.get('/', (c) => c.html(assets.html))
  app.get('/index.html', (c) => c.html(assets.html))
  app.get('/assets/style.css', (c) =>
    c.body(assets.styleCss, 200, { 'content-type': 'text/css; charset=utf-8' }),
  )
  app.get('/assets/uplot.js', (c) =>
    c.body(assets.uplotJs, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  )
  app.get('/assets/uplot.css', (c) =>
    c.body(assets.uplotCss, 200, { 'content-type': 'text/css; charset=utf-8' }),
  )
  // The page's own modules (app.js imports the others): only files the package ships.
  app.get('/assets/*', (c, next) => {
    const source = assets.modules.get(c.req.path.slice('/assets/'.length))
    if (source === undefined) return next()
    return c.body(source, 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })

  app.get('/favicon.ico', (c) => c.body(null, 204))
  app.get('/api', (c) => c.json({ endpoints: ENDPOINTS }))
  app.get('/api/overview', (c) => c.json(views.overview(view())))
  app.get('/api/health', (c) => c.json(views.health(view())))
  app.get('/api/health/history', (c) =>
    c.json(
      views.healthHistory(view(), {
        since: since(c),
        check: c.req.query('check'),
        database: c.req.query('database'),
      }),
    ),
  )
  app.get('/api/backups', (c) =>
    c.json(
      views.backups(view(), {
        since: since(c),
        database: c.req.query('database'),
        destination: c.req.query('destination'),
      }),
    ),
  )
  app.get('/api/backups/:destination/:id', (c) => {
    const found = views.backupSet(view(), c.req.param('destination'), c.req.param('id'))
    return found
      ? c.json(found)
      : c.json(
          {
            error: {
              code: 'NOT_FOUND',
              message: `no backup set ${c.req.param('id')} in ${c.req.param('destination')} (as last read)`,
            },
          },
          404,
        )
  })
  app.get('/api/runs', (c) => {
    const limit = c.req.query('limit') === undefined ? 500 : Number(c.req.query('limit'))
    if (!Number.isInteger(limit) || limit < 1)
      throw Object.assign(new Error(`limit must be a positive whole number`), { status: 400 })
    return c.json(
      views.runs(view(), {
        since: since(c),
        schedule: c.req.query('schedule'),
        status: c.req.query('status'),
        limit,
      }),
    )
  })
  app.get('/api/runs/:id', (c) => {
    const found = views.run(view(), c.req.param('id'))
    return found
      ? c.json(found)
      : c.json(
          { error: { code: 'NOT_FOUND', message: `no run ${c.req.param('id')} (as last read)` } },
          404,
        )
  })
  app.get('/api/reindex', (c) => c.json(views.reindex(view(), { since: since(c) })))
  app.get('/api/migrations', (c) => c.json(views.migrations(view())))
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const send = () =>
        stream.writeSSE({
          event: 'update',
          data: JSON.stringify({
            refreshedAt: env.collector.state.refreshedAt,
            database: env.collector.state.database,
          }),
        })
      await send()
      const off = env.collector.onUpdate(() => void send().catch(() => {}))
      const heartbeat = setInterval(
        () => void stream.write(': keep-alive\n\n').catch(() => {}),
        25_000,
      )
      await new Promise<void>((resolve) => stream.onAbort(resolve))
      off()
      clearInterval(heartbeat)
    }),
  )
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'NOT_FOUND',
          message: `no such page: ${c.req.path} (see /api for the endpoints)`,
        },
      },
      404,
    ),
  )
  return app
}

export const ENDPOINTS = [
  'GET /api/overview',
  'GET /api/health',
  'GET /api/health/history?since=&check=&database=',
  'GET /api/backups?since=&database=&destination=',
  'GET /api/backups/:destination/:id',
  'GET /api/runs?since=&schedule=&status=&limit=',
  'GET /api/runs/:id',
  'GET /api/reindex?since=',
  'GET /api/migrations',
  'GET /api/events (server-sent events: update)',
]
