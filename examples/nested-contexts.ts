/**
 * Tracking contexts with `fork`: a fresh child starts with no params, a nested one starts
 * from its parent's; whatever a child records stays inside it, and the parent's params are
 * exactly as before afterwards, also when the child failed.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Errors, evaluate, fork, getParams, memorySink, resetParams, run, Track, trackParam } from 'charmory-track'

/** Prints the params of the current context under a label. */
const show = (label: string): Track.Track<void> =>
  pipe(
    getParams,
    Track.map((params) => console.log(`${label}: ${JSON.stringify(params)}`))
  )

const program = pipe(
  trackParam('global', 'value'),
  Track.flatMap(() => show('parent')),

  // a fresh context: the parent's params are not there
  Track.flatMap(() =>
    fork(
      pipe(
        trackParam('parent', 'value'),
        Track.flatMap(() => show('fresh child')),
        // a nested context starts from a copy of the enclosing one
        Track.flatMap(() =>
          fork(
            pipe(
              trackParam('child', 'value'),
              Track.flatMap(() => show('nested grandchild'))
            ),
            { nested: true }
          )
        ),
        Track.flatMap(() => show('fresh child after its own child'))
      )
    )
  ),
  Track.flatMap(() => show('parent after the fresh child')),

  // a nested child that evaluates: its run gets the child's params
  Track.flatMap(() =>
    fork(
      pipe(
        trackParam('chain', 'clean'),
        Track.flatMap(() => evaluate({ experiment: 'nested-contexts', runName: 'clean' }, async () => ({ accuracy: 0.9 }))),
        Track.tap(({ runId }) => Track.fromPromise(async () => console.log(`run id: ${runId}`))),
        Track.tap(() => show('params of that run (plus charmory-track.version)'))
      ),
      { nested: true }
    )
  ),

  // a nested child that resets its params and then fails: the parent is untouched
  Track.flatMap(() =>
    fork(
      pipe(
        resetParams,
        Track.flatMap(() => trackParam('global', 'changed in the child')),
        Track.flatMap(() => show('failing child')),
        Track.flatMap(() =>
          evaluate({ experiment: 'nested-contexts', runName: 'attack' }, async () => {
            throw new Error('the attack crashed')
          })
        )
      ),
      { nested: true }
    )
  ),
  Track.either,
  Track.tap((outcome) =>
    Track.fromPromise(async () => {
      if (E.isLeft(outcome)) console.log(`child failed: ${Errors.describeError(outcome.left)}`)
    })
  ),
  Track.flatMap(() => show('parent after the failed child'))
)

const sink = memorySink()
const result = await run(program, { sink })
if (E.isLeft(result)) {
  process.stderr.write(`nested-contexts failed: ${Errors.describeError(result.left)}\n`)
  process.exit(1)
}
console.log(`runs recorded in the ${sink.name} sink: ${sink.snapshot().runs.map((r) => `${r.runName} ${r.status}`).join(', ')}`)
