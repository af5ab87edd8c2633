// One of the bench's concurrent writer processes: loads the library, says `ready`, waits for a
// line on standard input (so that every writer starts at once, their start-up off the clock),
// then streams `points` points into one run through `mlflowSink(url)` (journal off, as the
// ingest rows) and prints one JSON line: when it started and ended (epoch milliseconds), and
// the run id.
//
// Usage: writer.ts <url> <experiment> <points> <writer>
// BENCH_CONCURRENCY=n pins the number of requests in flight (adaptive by default).
import * as E from 'fp-ts/lib/Either.js'
import { Errors, evaluate, mlflowSink, run } from 'charmory-track'
import { keyOf, valueOf } from '../support/workload.js'

const [url = '', experiment = 'bench-writers', pointsArg = '1000', writer = '0'] = process.argv.slice(2)
const points = Number(pointsArg)
const pinned = Number(process.env['BENCH_CONCURRENCY'] ?? 'NaN')
const sink = mlflowSink(url, { journal: false, ...(Number.isInteger(pinned) ? { queue: { concurrency: pinned } } : {}) })
process.stdout.write('ready\n')
await new Promise<void>((ok) => process.stdin.setEncoding('utf8').once('data', () => ok()))
process.stdin.pause()
const start = Date.now()
const result = await run(
  evaluate({ experiment, runName: `writer-${writer}-${points}`, resultsArtifact: false }, async (r) => {
    for (let i = 0; i < points; i++) await r.logMetric(keyOf(i), valueOf(i), { step: i })
  }),
  { sink, signals: false, logger: { warn: () => undefined, info: () => undefined } }
)
const end = Date.now()
if (E.isLeft(result)) throw new Error(Errors.describeError(result.left))
process.stdout.write(`${JSON.stringify({ start, end, points, runId: result.right.runId })}\n`)
