// Streams `points` metric points into one run of the MLflow server at `url` through this
// library, point by point, and prints one JSON line: the time taken and the process's peak
// resident memory (process.resourceUsage().maxRSS) before streaming, at checkpoints and at the
// end. Run by the bench's memory row and, under `node --cpu-prof`, by its profile.
//
// Usage: stream.ts <url> <experiment> <points>
// BENCH_LIB may name another build of the library (the profile uses a tsc build, whose
// function names survive into the profile).
import * as E from 'fp-ts/lib/Either.js'
import { keyOf, valueOf } from '../support/workload.js'
import { built } from '../../spec/support/sinks.js'

const lib = (await import(process.env['BENCH_LIB'] ?? 'charmory-track')) as typeof import('charmory-track')

const [url, experiment, pointsArg] = process.argv.slice(2)
if (url === undefined || experiment === undefined || pointsArg === undefined) {
  throw new Error('usage: stream.ts <url> <experiment> <points>')
}
const points = Number(pointsArg)
const mb = (): number => process.resourceUsage().maxRSS / 1024

const warnings: Array<string> = []
const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined }
// the journal (on by default) is measured by the ingest section; this row is the client's memory
const sink = await built(lib.mlflowSink(url, { journal: false }), { logger })
const baselineMb = mb()
const checkpoints: Array<{ points: number; peakMb: number }> = []
const every = Math.max(1, Math.floor(points / 10))
const start = performance.now()
const cpu = process.cpuUsage()
const result = await lib.run(
  lib.evaluate({ experiment, runName: `stream-${points}` }, async (r) => {
    for (let i = 0; i < points; i++) {
      await r.logMetric(keyOf(i), valueOf(i), { step: i })
      if ((i + 1) % every === 0) checkpoints.push({ points: i + 1, peakMb: mb() })
    }
  }),
  { sink, logger }
)
const seconds = (performance.now() - start) / 1000
const used = process.cpuUsage(cpu)
sink.close()
if (E.isLeft(result)) throw new Error(lib.Errors.describeError(result.left))
process.stdout.write(
  `${JSON.stringify({
    points,
    seconds,
    cpuMicros: used.user + used.system,
    baselineMb,
    peakMb: mb(),
    checkpoints,
    warnings: warnings.length,
    runId: result.right.runId
  })}\n`
)
