// The memory-sink program a browser app (or its tests) would write: params from a wrapped
// call, an evaluation with a metric history, read back from the sink's snapshot. Bundled by
// spec/browser/bundle.ts and measured by the bench's bundle sizes.
import { pipe } from 'fp-ts/lib/function.js'
import { evaluate, fromRecorded, memorySink, run, Track, trackParam, withParams } from 'charmory-track'

const loadModel = (o: { name: string; optimizer: { lr: number } }) => `model ${o.name}`

const program = pipe(
  fromRecorded(withParams(loadModel)({ name: 'resnet18', optimizer: { lr: 0.001 } })),
  Track.flatMap(() => trackParam('batch_size', 16)),
  Track.flatMap(() =>
    evaluate({ experiment: 'in-memory' }, async (r) => {
      for (const [step, loss] of [0.9, 0.5, 0.25].entries()) await r.logMetric('loss', loss, { step })
      return { accuracy: 0.875 }
    })
  )
)

const main = async () => {
  const sink = memorySink()
  const result = await run(program, { sink })
  const stored = sink.snapshot().runs[0]
  return { tag: result._tag, params: stored?.params, metrics: stored?.metrics }
}

;(window as unknown as { __result: Promise<unknown> }).__result = main()
