import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * For the benchmark only, never for tests: an HTTP server that reads and discards every
 * request body and answers just enough S3 for an upload to complete. It shows what the
 * client side of an upload costs when the server is not the bottleneck.
 */
export async function startSink(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sink')
      res.setHeader('content-type', 'application/xml')
      if (req.method === 'POST' && url.searchParams.has('uploads'))
        return res.end(
          '<InitiateMultipartUploadResult><UploadId>sink</UploadId></InitiateMultipartUploadResult>',
        )
      if (req.method === 'POST')
        return res.end(
          '<CompleteMultipartUploadResult><ETag>"sink"</ETag></CompleteMultipartUploadResult>',
        )
      res.setHeader('ETag', '"sink"')
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
