// A small HTTP proxy in front of a real MLflow server, for the faults the server cannot
// produce on demand: error bursts, 429 with Retry-After, dropped connections, hung answers.
// Requests pass through unless the fault plan says otherwise.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { Socket } from 'node:net'

export type Fault =
  | { readonly kind: 'pass' }
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  /** Close the connection without answering, before the server sees the request. */
  | { readonly kind: 'drop' }
  /** Forward the request, let the server act on it, then close without answering. */
  | { readonly kind: 'drop-after'; readonly delayMs?: number }
  /** Never answer. */
  | { readonly kind: 'hang' }

export interface FaultProxy {
  readonly url: string
  /** Every request seen, as `METHOD path` (query removed), in order. */
  readonly seen: Array<string>
  /** How many TCP connections clients opened. */
  readonly connections: () => number
  readonly close: () => Promise<void>
}

const collect = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((ok, fail) => {
    const chunks: Array<Buffer> = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => ok(Buffer.concat(chunks)))
    req.on('error', fail)
  })

export const startFaultProxy = async (
  target: string,
  plan: (endpoint: string, n: number) => Fault,
  options: { readonly tls?: import('node:https').ServerOptions } = {}
): Promise<FaultProxy> => {
  const upstream = new URL(target)
  const seen: Array<string> = []
  const sockets = new Set<Socket>()
  let connections = 0
  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((ok, fail) => {
      const headers = { ...req.headers, host: upstream.host }
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        async (res) => {
          const data = await collect(res)
          const h: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v
          // hop-by-hop headers describe the proxy's own upstream connection
          for (const hop of ['transfer-encoding', 'connection', 'keep-alive']) delete h[hop]
          h['content-length'] = String(data.length)
          ok({ status: res.statusCode ?? 502, headers: h, body: data })
        }
      )
      out.on('error', fail)
      out.end(body)
    })

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const endpoint = `${req.method} ${(req.url ?? '').replace(/\?.*$/, '')}`
    seen.push(endpoint)
    const fault = plan(endpoint, seen.filter((e) => e === endpoint).length)
    const body = await collect(req)
    switch (fault.kind) {
      case 'drop':
        req.socket.destroy()
        return
      case 'hang':
        return
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        res.end(fault.body ?? JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected fault' }))
        return
      case 'drop-after':
        await forward(req, body)
        if (fault.delayMs !== undefined) await new Promise((ok) => setTimeout(ok, fault.delayMs))
        req.socket.destroy()
        return
      case 'pass': {
        const answer = await forward(req, body)
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body)
      }
    }
  }
  const server = options.tls === undefined ? createServer(handler) : createTlsServer(options.tls, handler)
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    connections++
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy()
        server.close(() => ok())
      })
  }
}
