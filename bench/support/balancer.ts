// One address in front of several MLflow server replicas, as a team's load balancer gives
// them: each TCP connection goes to the next replica in turn (layer 4, round robin), so a
// client's keep-alive connections spread over the replicas.
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface Balancer {
  readonly url: string
  readonly close: () => Promise<void>
}

export const balancer = (targets: ReadonlyArray<{ readonly port: number }>): Promise<Balancer> =>
  new Promise((ok, fail) => {
    let next = 0
    const sockets = new Set<Socket>()
    const server: Server = createServer((client) => {
      const target = targets[next++ % targets.length] as { port: number }
      const upstream = connect(target.port, '127.0.0.1')
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.once('close', () => sockets.delete(s))
        s.setNoDelay(true)
      }
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      ok({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })
