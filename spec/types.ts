// Type tests: what the public signatures accept and refuse. `npm run typecheck` (tsc over
// lib/ and spec/) checks this file: each `@ts-expect-error` fails the type check if the line
// under it compiles, so a signature that grows too loose is caught. The runtime part only
// confirms that the accepted forms do what their types say.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Recorded, Errors, Runtime, memorySink, run, Track, withInitParams, withParams } from 'charmory-track'

// -------------------------------------------------------------------------------------
// withParams / withInitParams
// -------------------------------------------------------------------------------------

const scale = (x: number, factor: number): number => x * factor
const loadModel = (o: { name: string; batchSize: number }): string => `model ${o.name}`
class Positional {
  constructor(
    readonly name: string,
    readonly size: number
  ) {}
}
class TheDataset {
  constructor(readonly o: { batchSize: number; shuffle?: boolean }) {}
}

// positional arguments: one name per argument
const scaled: (x: number, factor: number) => Recorded.Recorded<number> = withParams(scale, { names: ['x', 'factor'] })
withParams(scale, { names: ['x', 'factor'] as const })
// @ts-expect-error one name for two arguments
withParams(scale, { names: ['x'] })
// @ts-expect-error three names for two arguments
withParams(scale, { names: ['x', 'factor', 'extra'] as const })
// @ts-expect-error a positional function needs its names
withParams(scale)
// @ts-expect-error the wrapped function keeps its argument types
scaled(3, 'two')

withInitParams(Positional, { names: ['name', 'size'] })
// @ts-expect-error one name for two constructor arguments
withInitParams(Positional, { names: ['name'] })

// one options object: `ignore` names its keys
const loaded: (o: { name: string; batchSize: number }) => Recorded.Recorded<string> = withParams(loadModel, {
  ignore: ['batchSize']
})
// @ts-expect-error not a key of the options object
withParams(loadModel, { ignore: ['batchsize'] })
// @ts-expect-error the wrapped function keeps its argument type
loaded({ name: 'resnet', batchSize: '16' })
withInitParams(TheDataset, { ignore: ['shuffle'] })
// @ts-expect-error not a key of the constructor's options object
withInitParams(TheDataset, { ignore: ['o'] })
// refused when it is wrapped at run time too, with the error naming the option
t.throws(
  () =>
    // @ts-expect-error `prefix` is a string
    withParams(loadModel, { prefix: 1 }),
  { name: 'TrackException(InvalidValue)' }
)

// -------------------------------------------------------------------------------------
// Track.bind / Track.apS
// -------------------------------------------------------------------------------------

const bound: Track.Track<{ readonly a: number; readonly b: string }> = pipe(
  Track.Do,
  Track.bind('a', () => Track.of(1)),
  Track.bind('b', ({ a }) => Track.of(String(a + 1)))
)
pipe(
  Track.Do,
  Track.bind('a', () => Track.of(1)),
  // @ts-expect-error `a` is bound already
  Track.bind('a', () => Track.of('x'))
)
pipe(
  Track.of(1),
  Track.bindTo('a'),
  // @ts-expect-error `a` is bound already
  Track.apS('a', Track.of(2))
)
pipe(
  Track.Do,
  Track.bind('a', () => Track.of(1)),
  // @ts-expect-error `b` is not bound yet
  Track.bind('c', ({ b }) => Track.of(b))
)

// -------------------------------------------------------------------------------------
// Track.fromTaskEither / Track.fromReaderTaskEither
// -------------------------------------------------------------------------------------

const foreign: TE.TaskEither<string, number> = TE.left('no such id')
const typed: TE.TaskEither<Errors.TrackError, number> = TE.right(1)

const fromTyped: Track.Track<number> = Track.fromTaskEither(typed)
const mapped: Track.Track<number> = Track.fromTaskEither(foreign, (reason) => Errors.invalidValue('id', reason))
// @ts-expect-error a foreign error type needs `onLeft`
Track.fromTaskEither(foreign)
// @ts-expect-error `onLeft` must make a TrackError
Track.fromTaskEither(foreign, (reason) => reason)
// @ts-expect-error the value type is kept
const wrong: Track.Track<string> = Track.fromTaskEither(typed)

const readsEnv: RTE.ReaderTaskEither<Runtime.Env, string, string> = (env) => TE.right(env.sink.name)
Track.fromReaderTaskEither(readsEnv, (reason) => Errors.invalidValue('env', reason))
// @ts-expect-error a foreign error type needs `onLeft`
Track.fromReaderTaskEither(readsEnv)
Track.fromReaderTaskEither(RTE.right<Runtime.Env, Errors.TrackError, number>(1))

// -------------------------------------------------------------------------------------
// what the accepted forms do
// -------------------------------------------------------------------------------------

t.test('the accepted forms do what their types say', async (t) => {
  t.strictSame(Recorded.paramsOf(scaled(3, 2)), { 'scale.x': '3', 'scale.factor': '2' })
  t.strictSame(Recorded.paramsOf(loaded({ name: 'resnet', batchSize: 16 })), { 'loadModel.name': 'resnet' })
  const sink = memorySink()
  t.strictSame(await run(bound, { sink }), E.right({ a: 1, b: '2' }))
  t.strictSame(await run(fromTyped, { sink }), E.right(1))
  t.strictSame(await run(mapped, { sink }), E.left(Errors.invalidValue('id', 'no such id')))
  t.ok(wrong !== undefined)
  t.pass('the type tests compiled (npm run typecheck)')
})
