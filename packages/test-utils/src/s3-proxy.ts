import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the S3 server saw it, with the status it answered. */
export interface SeenRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  status?: number
  /** The response body, for small XML answers (CreateMultipartUpload's UploadId). */
  body: string
}

/**
 * A pass-through HTTP proxy in front of the real test S3 server: it records every request
 * and the server's answer, so a test can prove what reached the server (the abort of a
 * multipart upload, the storage-class header). `cut` drops matching requests' connections
 * before they reach the server, `cutAnswerAfter` drops them after that many bytes of the
 * server's answer, `hold` keeps matching requests (unanswered, connection open) until the
 * promise it returns settles, or for good: network faults, not fake S3 answers.
 */
const open = new Set<{ close(): Promise<void> }>()

/** Closes every proxy still open: for a suite's `after`, so a failed assertion cannot hang it. */
export async function closeProxies(): Promise<void> {
  for (const proxy of open) await proxy.close()
}

export interface ProxyOptions {
  cut?: (req: http.IncomingMessage) => boolean
  cutAnswerAfter?: (req: http.IncomingMessage) => number | undefined
  /** A promise: the request waits for it (then goes on); `'forever'`: the network swallows it. */
  hold?: (req: http.IncomingMessage) => Promise<void> | 'forever' | undefined
}

export async function recordingProxy(target: string, options: ProxyOptions = {}) {
  const seen: SeenRequest[] = []
  const upstream = new URL(target)
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const entry: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: '',
    }
    seen.push(entry)
    if (options.cut?.(req)) {
      req.socket.destroy()
      return
    }
    const held = options.hold?.(req)
    if (held === 'forever') return void req.resume()
    if (held !== undefined) {
      req.pause()
      await held
      if (req.destroyed) return
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        entry.status = answer.statusCode
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        const limit = options.cutAnswerAfter?.(req)
        let passed = 0
        answer.on('data', (chunk: Buffer) => {
          if (entry.body.length < 4096) entry.body += chunk.toString('utf8')
          passed += chunk.length
          if (limit !== undefined && passed >= limit) {
            answer.destroy()
            res.socket?.destroy() // the connection drops mid-answer
          }
        })
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.on('aborted', () => forward.destroy())
    req.pipe(forward)
  }
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    /** Requests whose query has `name` (e.g. 'uploads', 'uploadId'). */
    withQuery: (name: string) =>
      seen.filter((r) => new URL(r.url, 'http://x').searchParams.has(name)),
    close: () =>
      new Promise<void>((resolve) => {
        open.delete(proxy)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  open.add(proxy)
  return proxy
}

/** The upload id in a CreateMultipartUpload answer. */
export function uploadIdOf(request: SeenRequest | undefined): string | undefined {
  return /<UploadId>([^<]+)<\/UploadId>/.exec(request?.body ?? '')?.[1]
}
