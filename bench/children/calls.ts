// Makes `calls` wrapped calls (`withParams(loadModel)` with a 5-key options object), for the
// CPU profile of the tracking overhead. Usage: calls.ts <calls>; BENCH_LIB as in stream.ts.
import * as E from 'fp-ts/lib/Either.js'

const lib = (await import(process.env['BENCH_LIB'] ?? 'charmory-track')) as typeof import('charmory-track')

const calls = Number(process.argv[2] ?? '1000000')
const loadModel = (o: { name: string; lr: number; layers: number; device: string; pretrained: boolean }): number => o.layers + o.lr
const wrapped = lib.withParams(loadModel)
let sink = 0
const cpu = process.cpuUsage()
const start = process.hrtime.bigint()
for (let i = 0; i < calls; i++) {
  const r = wrapped({ name: 'resnet18', lr: 0.001, layers: i, device: 'cpu', pretrained: true })
  if (E.isRight(r.result)) sink += r.result.right
}
const ns = Number(process.hrtime.bigint() - start) / calls
const used = process.cpuUsage(cpu)
process.stdout.write(`${JSON.stringify({ calls, nsPerCall: ns, cpuNsPerCall: ((used.user + used.system) * 1000) / calls, sink })}\n`)
