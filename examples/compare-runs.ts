/**
 * Reading runs back: three evaluations of an experiment, then one that compares itself with
 * the best earlier run (a pipeline step, `Query.bestRun`), then a search with MLflow's filter
 * syntax outside the pipeline (`sink.query`). The same code reads an MLflow server when
 * MLFLOW_TRACKING_URI names one.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { randomUUID } from 'node:crypto'
import { Errors, evaluate, fork, openSink, Query, run, sinkFromEnv, Track, trackParam } from 'charmory-track'

// one sink for the whole program: built once from the environment, closed at the end
const opened = await openSink(sinkFromEnv())
if (E.isLeft(opened)) {
  console.error(Errors.describeError(opened.left))
  process.exit(2)
}
const sink = opened.right
const experiment = `compare-runs ${randomUUID().slice(0, 8)}`

/** An evaluation of `model` that scores `accuracy`, in a context of its own. */
const evaluation = (model: string, accuracy: number) =>
  fork(
    pipe(
      trackParam('model', model),
      Track.flatMap(() => evaluate({ experiment, runName: model, tags: { stage: model === 'vit' ? 'dev' : 'prod' } }, async () => ({ accuracy })))
    )
  )

// a new evaluation that records how far it is from the best earlier run
const compared = pipe(
  Query.bestRun({ experiment, metric: 'accuracy', filter: "tags.stage = 'prod'" }),
  Track.tap((best) => Track.fromPromise(async () => console.log(`best earlier run: ${best?.runName} (accuracy ${best?.metrics['accuracy']})`))),
  Track.flatMap((best) =>
    fork(
      pipe(
        trackParam('model', 'resnet34'),
        Track.flatMap(() =>
          evaluate({ experiment, runName: 'resnet34', tags: { stage: 'prod' } }, async () => {
            const accuracy = 0.93
            return { accuracy, gain_over_best: Math.round((accuracy - (best?.metrics['accuracy'] ?? 0)) * 1000) / 1000 }
          })
        )
      )
    )
  )
)

const program = pipe(
  evaluation('resnet18', 0.91),
  Track.flatMap(() => evaluation('resnet50', 0.94)),
  Track.flatMap(() => evaluation('vit', 0.96)),
  Track.flatMap(() => compared)
)

const result = await run(program, { sink })
if (E.isLeft(result)) {
  console.error(Errors.describeError(result.left))
  process.exit(1)
}
console.log(`run id: ${result.right.runId}`)
console.log(`gain over the best: ${result.right.results.gain_over_best}`)

// outside a pipeline: the prod runs above 0.9, best first
const query = Query.queryOf(sink)
const found = E.isRight(query)
  ? await query.right.searchRuns({ experiments: [experiment], filter: "metrics.accuracy > 0.9 and tags.stage = 'prod'", orderBy: ['metrics.accuracy DESC'] })()
  : query
if (E.isLeft(found)) {
  console.error(Errors.describeError(found.left))
  process.exit(1)
}
for (const r of found.right.runs) console.log(`${r.runName}: accuracy ${r.metrics['accuracy']}, model ${r.params['model']}`)
await sink.close()
