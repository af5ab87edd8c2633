// The MLflow-sink program a browser app would write: params, an evaluation streaming a
// metric history and a text artifact into a real MLflow server through `mlflowSink`, which
// in a browser speaks with the browser's own fetch. Bundled for spec/browser/mlflow.ts and
// measured by the bench's bundle sizes.
import { pipe } from 'fp-ts/lib/function.js'
import { evaluate, mlflowSink, run, Track, trackParam } from 'charmory-track'

interface Input {
  readonly mlflow: string
  readonly experiment: string
}
const input = (window as unknown as { __input: Input }).__input

const program = pipe(
  trackParam('model', 'resnet18'),
  Track.flatMap(() => trackParam('optimizer', { lr: 0.001, momentum: 0.9 })),
  Track.flatMap(() =>
    evaluate({ experiment: input.experiment, runName: 'in-chromium', tags: { page: 'mlflow' } }, async (r) => {
      for (const [step, loss] of [0.9, 0.5, 0.25, 0.125].entries()) await r.logMetric('loss', loss, { step })
      await r.logArtifact({ path: 'notes/summary.txt', text: 'written by a page in Chromium ✓\n' })
      return { accuracy: 0.875 }
    })
  )
)

const main = async () => {
  const result = await run(program, { sink: mlflowSink(input.mlflow) })
  // which requests the page made to the server, and by what (fetch, or XMLHttpRequest)
  const requests = performance
    .getEntriesByType('resource')
    .filter((e): e is PerformanceResourceTiming => e instanceof PerformanceResourceTiming && e.name.startsWith(input.mlflow))
    .map((e) => e.initiatorType)
  return result._tag === 'Right'
    ? { runId: result.right.runId, results: result.right.results, requests }
    : { error: JSON.stringify(result.left), requests }
}

;(window as unknown as { __result: Promise<unknown> }).__result = main()
