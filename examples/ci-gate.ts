/**
 * A regression gate in CI: every night the evaluation runs again, and the pipeline fails when
 * the new run is worse than the best earlier one beyond a tolerance. The threshold the
 * evaluation tunes on the fly is logged from the run handle (`logParam`).
 *
 * In a CI script the gate is one command after the evaluation; its exit code fails the job:
 *
 *   npx tsx eval.ts
 *   npx charmory-track gate --experiment nightly --metric accuracy --tolerance 0.01
 *
 * Here the same gate runs in the program: as a pipeline step (`Gate.gateStep`) after each
 * evaluation, and as a task over the sink's queries (`Gate.gate`).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { randomUUID } from 'node:crypto'
import { Errors, evaluate, Gate, openSink, Query, run, sinkFromEnv, Track } from 'charmory-track'

// one sink for the whole program: built once from the environment, closed at the end
const opened = await openSink(sinkFromEnv())
if (E.isLeft(opened)) {
  console.error(Errors.describeError(opened.left))
  process.exit(2)
}
const sink = opened.right
const experiment = `ci-gate ${randomUUID().slice(0, 8)}`

/** One night's evaluation: it tunes a threshold, logs it as a param, and scores `accuracy`. */
const nightly = (accuracy: number) =>
  evaluate({ experiment }, async (r) => {
    const threshold = accuracy > 0.92 ? 0.4 : 0.5
    await r.logParam('threshold', threshold)
    return { accuracy }
  })

/** An evaluation, then the gate on it: a regression fails the pipeline. */
const gated = (accuracy: number) =>
  pipe(
    nightly(accuracy),
    Track.tap(({ runId }) => Track.fromPromise(async () => console.log(`run id: ${runId}`))),
    Track.flatMap(() => Gate.gateStep({ experiment, metric: 'accuracy', tolerance: 0.01 }))
  )

for (const accuracy of [0.91, 0.94, 0.935, 0.9]) {
  const verdict = await run(gated(accuracy), { sink })
  console.log(E.isRight(verdict) ? `gate: ${verdict.right.reason}` : `gate failed: ${Errors.describeError(verdict.left)}`)
}

// outside a pipeline: the gate as a task over the sink's queries, with a wider tolerance
const query = Query.queryOf(sink)
const verdict = E.isLeft(query) ? query : await Gate.gate(query.right, { experiment, metric: 'accuracy', tolerance: 0.05 })()
console.log(E.isRight(verdict) ? `wider gate: ${verdict.right.reason}` : `wider gate failed: ${Errors.describeError(verdict.left)}`)
if (E.isLeft(verdict)) process.exitCode = 1
await sink.close()
