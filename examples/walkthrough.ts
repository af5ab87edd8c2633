/**
 * The walkthrough of Armory's experiment-tracking guide, rewritten for charmory-track:
 * a model loader and a dataset class whose arguments become params, a param recorded by
 * hand, an evaluation that streams metrics into its run, then the run reopened to add a
 * custom metric and a text artifact. It prints what it recorded.
 *
 * Run it with `npm run demo`.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Errors, evaluate, fromRecorded, getParams, openSink, reopen, run, sinkFromEnv, Track, VERSION, trackParam, withInitParams, withParams, type RunHandle } from 'charmory-track'

// -------------------------------------------------------------------------------------
// ordinary code that knows nothing about tracking
// -------------------------------------------------------------------------------------

interface Model {
  readonly name: string
  readonly predict: (x: number) => number
}

/** A "model" that labels a number by comparing it with a threshold. */
const loadModel = (o: { name: string; threshold: number; optimizer: { lr: number; betas: Array<number> } }): Model => ({
  name: o.name,
  predict: (x) => (x >= o.threshold ? 1 : 0)
})

/** A tiny labelled dataset, served in batches. */
class TheDataset {
  constructor(readonly o: { split: 'train' | 'test'; batchSize: number }) {}
  batches(): Array<Array<{ x: number; label: number }>> {
    const samples = Array.from({ length: 12 }, (_, i) => ({ x: i, label: i % 3 === 0 ? 0 : i >= 5 ? 1 : 0 }))
    const out: Array<Array<{ x: number; label: number }>> = []
    for (let i = 0; i < samples.length; i += this.o.batchSize) out.push(samples.slice(i, i + this.o.batchSize))
    return out
  }
}

// -------------------------------------------------------------------------------------
// the tracked pipeline
// -------------------------------------------------------------------------------------

const printed: Array<string> = []

/** Logs a metric point and remembers it for the summary printed at the end. */
const logMetric = async (r: RunHandle, key: string, value: number, step?: number, note = ''): Promise<void> => {
  await r.logMetric(key, value, { step })
  printed.push(`  ${key}${step === undefined ? '' : `[step ${step}]`} = ${value}${note}`)
}

const evaluateModel = (model: Model, dataset: TheDataset) =>
  evaluate({ experiment: 'walkthrough', description: 'the charmory-track walkthrough' }, async (r) => {
    let correct = 0
    let seen = 0
    for (const [step, batch] of dataset.batches().entries()) {
      for (const { x, label } of batch) {
        seen++
        if (model.predict(x) === label) correct++
      }
      await logMetric(r, 'running_accuracy', correct / seen, step)
    }
    await r.setTag('model', model.name)
    const results = { accuracy: correct / seen, samples: seen }
    for (const [key, value] of Object.entries(results)) printed.push(`  ${key} = ${value}`)
    return results
  })

const program = pipe(
  Track.Do,
  Track.bind('model', () =>
    fromRecorded(withParams(loadModel)({ name: 'threshold-5', threshold: 5, optimizer: { lr: 0.001, betas: [0.9, 0.999] } }))
  ),
  Track.bind('dataset', () => fromRecorded(withInitParams(TheDataset)({ split: 'test', batchSize: 4 }))),
  Track.tap(() => trackParam('seed', 42)),
  Track.bind('params', () => getParams),
  Track.bind('evaluation', ({ model, dataset }) => evaluateModel(model, dataset)),
  // Armory's "resume the run" recipe: add to the run after it ended
  Track.tap(({ evaluation }) =>
    reopen(evaluation.runId, async (r) => {
      await logMetric(r, 'custom_metric', 42, undefined, ' (added after the run ended)')
      await r.logArtifact({ path: 'notes/summary.txt', text: `accuracy ${evaluation.results.accuracy}\n` })
    })
  )
)

// The local store under $ARMORY_HOME (~/.armory), or the MLflow server that
// MLFLOW_TRACKING_URI names: built once here (to print where it is), closed at the end
const opened = await openSink(sinkFromEnv())
if (E.isLeft(opened)) {
  process.stderr.write(`walkthrough failed: ${Errors.describeError(opened.left)}\n`)
  process.exit(1)
}
const sink = opened.right
const result = await run(program, { sink })
await sink.close()

if (E.isLeft(result)) {
  process.stderr.write(`walkthrough failed: ${Errors.describeError(result.left)}\n`)
  process.exit(1)
}
const { evaluation, params } = result.right
console.log(`sink: ${sink.name}`)
console.log(`run id: ${evaluation.runId}`)
console.log(`experiment id: ${evaluation.experimentId}`)
console.log('params:')
for (const [key, value] of Object.entries(params)) console.log(`  ${key} = ${value}`)
console.log(`  charmory-track.version = ${VERSION} (added by evaluate)`)
console.log('metrics:')
for (const line of printed) console.log(line)
console.log('artifacts:')
console.log('  notes/summary.txt (added after the run ended)')
console.log('  results.json (the results, stored by evaluate)')
if (sink.name.startsWith('local:')) {
  console.log('browse it in the MLflow UI: npx charmory-track server')
  console.log('  (from a clone of this repository: npm run cli -- server)')
}
