import { z } from 'zod'

/**
 * A webhook or ping URL as the config may give it: http or https (fetch sends nothing else)
 * and without a user name or password, which fetch refuses to send and which would otherwise
 * end up in its error messages. The messages never repeat the URL: it holds a token.
 */
export const endpointUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return void ctx.addIssue({ code: 'custom', message: 'not a URL (expected https://host/path)' })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({
      code: 'custom',
      message: `must be an http or https URL, not ${url.protocol.replace(/:$/, '')}:`,
    })
  }
  if (url.username || url.password) {
    ctx.addIssue({
      code: 'custom',
      message: `a URL with a user name or password cannot be sent (fetch refuses it); use the token in the path or query the service gives you (the URL is not shown here)`,
    })
  }
})
