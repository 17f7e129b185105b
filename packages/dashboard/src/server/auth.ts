import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'

export const TOKEN_COOKIE = 'dbops_dashboard_token'

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Compares in constant time (over digests, so lengths do not leak either). */
export function sameToken(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token))
}

/**
 * Every request needs the token: `Authorization: Bearer <token>`, the cookie set by a first
 * visit to `/?token=<token>` (which then redirects to the address without it, so it stays
 * out of the history and the Referer), or `?token=` on an API call. Otherwise 401.
 */
export function requireToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
    const query = c.req.query('token')
    if (sameToken(bearer, token) || sameToken(getCookie(c, TOKEN_COOKIE), token)) return next()
    if (sameToken(query, token)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' })
      if (!c.req.path.startsWith('/api/') && c.req.method === 'GET') {
        const url = new URL(c.req.url)
        url.searchParams.delete('token')
        return c.redirect(url.pathname + url.search, 303)
      }
      return next()
    }
    c.header('www-authenticate', 'Bearer realm="dbops dashboard"')
    return c.json(
      {
        error: {
          code: 'UNAUTHORIZED',
          message:
            'this dashboard needs its token: open /?token=<token> once, or send Authorization: Bearer <token>',
        },
      },
      401,
    )
  }
}

/** Loopback addresses: the only ones served without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}
