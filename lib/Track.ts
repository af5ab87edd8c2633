/**
 * `Track<A>`: a lazy description of a tracking pipeline.
 *
 * A `Track<A>` reads an environment (`Env`: sink, clock, logger, ...), threads an immutable
 * `Context` from step to step, and ends with an `A` or a typed `TrackError`. Nothing runs until
 * `run`. Unlike `StateReaderTaskEither`, a failed step still returns the context it reached:
 * params recorded by a call that then threw stay recorded (as in the original), and `orElse`
 * recovers with them.
 *
 * @example
 * import { Track, trackParam, getParams, run, memorySink } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('batch_size', 16),
 *   Track.flatMap(() => getParams)
 * )
 * // nothing has run yet
 * const result = await run(program, { sink: memorySink() })
 * assert.deepStrictEqual(result, E.right({ batch_size: '16' }))
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Applicative1 } from 'fp-ts/lib/Applicative.js'
import type { Apply1 } from 'fp-ts/lib/Apply.js'
import type { Chain1 } from 'fp-ts/lib/Chain.js'
import type { FromEither1 } from 'fp-ts/lib/FromEither.js'
import type { FromIO1 } from 'fp-ts/lib/FromIO.js'
import type { FromTask1 } from 'fp-ts/lib/FromTask.js'
import { identity } from 'fp-ts/lib/function.js'
import type { Functor1 } from 'fp-ts/lib/Functor.js'
import type { IO } from 'fp-ts/lib/IO.js'
import type { Monad1 } from 'fp-ts/lib/Monad.js'
import type { MonadIO1 } from 'fp-ts/lib/MonadIO.js'
import type { MonadTask1 } from 'fp-ts/lib/MonadTask.js'
import type { Pointed1 } from 'fp-ts/lib/Pointed.js'
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
import type * as T from 'fp-ts/lib/Task.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as C from './Context.js'
import type { Env } from './Env.js'
import { isTrackError, taskFailed, type TrackError } from './Errors.js'
import * as P from './Params.js'
import { toEntries } from './ParamValue.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where a pipeline got to: the context it reached and how it ended.
 * @category model
 * @since 0.1.0
 */
export interface Step<A> {
  readonly context: C.Context
  readonly result: E.Either<TrackError, A>
}

/**
 * A pipeline: given the context so far and the environment, it does its work and answers
 * the context it reached with its outcome. Nothing runs until `run`.
 * @category model
 * @since 0.1.0
 */
export interface Track<A> {
  (context: C.Context, env: Env): Promise<Step<A>>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

// A pipeline is a function, but every one this module builds is tagged with what it is (a
// primitive step, a value, a failure, `ma` then `f`): the tag is how a pipeline is told apart
// from any other function (`isTrack`), and `interpret` runs a tagged pipeline with a loop and a
// stack of its own: a chain of a million `flatMap`s, nested either way, needs no JavaScript
// stack and no promise per pure step. An untagged `(context, env) => Promise<Step>` still runs
// as a step inside a pipeline.
const OP: unique symbol = Symbol('charmory-track/Track.op')

type Op =
  | { readonly _tag: 'Primitive' }
  | { readonly _tag: 'Of'; readonly value: unknown }
  | { readonly _tag: 'Fail'; readonly error: TrackError }
  | { readonly _tag: 'Map'; readonly ma: Track<unknown>; readonly f: (a: unknown) => unknown }
  | { readonly _tag: 'FlatMap'; readonly ma: Track<unknown>; readonly f: (a: unknown) => Track<unknown> }
  | { readonly _tag: 'OrElse'; readonly ma: Track<unknown>; readonly f: (e: TrackError) => Track<unknown> }

type Frame = Extract<Op, { readonly ma: Track<unknown> }>

interface Tagged {
  readonly [OP]?: Op
}

const make = <A>(op: Op): Track<A> => {
  const track = ((context: C.Context, env: Env) => interpret(track, context, env)) as Track<A> & { [OP]: Op }
  track[OP] = op
  return track
}

const guard = <A>(context: C.Context, f: () => Promise<Step<A>>): Promise<Step<A>> => {
  try {
    return f().catch((e: unknown) => ({ context, result: E.left(taskFailed(e)) }))
  } catch (e) {
    return Promise.resolve({ context, result: E.left(taskFailed(e)) })
  }
}

/** `f(x)`, or a failed pipeline when `f` throws. */
const attempt = <X>(f: (x: X) => Track<unknown>, x: X): Track<unknown> => {
  try {
    return f(x)
  } catch (e) {
    return fail(taskFailed(e))
  }
}

const interpret = async <A>(root: Track<A>, start: C.Context, env: Env): Promise<Step<A>> => {
  const frames: Array<Frame> = []
  let context = start
  let result: E.Either<TrackError, unknown> = E.right(undefined)
  let current: Track<unknown> | undefined = root
  for (;;) {
    while (current !== undefined) {
      const op: Op | undefined = (current as Tagged)[OP]
      if (op === undefined || op._tag === 'Primitive') {
        const primitive: Track<unknown> = current
        const step = await guard(context, () => primitive(context, env))
        context = step.context
        result = step.result
        current = undefined
      } else if (op._tag === 'Of') {
        result = E.right(op.value)
        current = undefined
      } else if (op._tag === 'Fail') {
        result = E.left(op.error)
        current = undefined
      } else {
        frames.push(op)
        current = op.ma
      }
    }
    while (current === undefined) {
      const frame = frames.pop()
      if (frame === undefined) return { context, result: result as E.Either<TrackError, A> }
      if (frame._tag === 'OrElse') {
        if (E.isLeft(result)) current = attempt(frame.f, result.left)
      } else if (E.isRight(result)) {
        if (frame._tag === 'FlatMap') current = attempt(frame.f, result.right)
        else {
          try {
            result = E.right(frame.f(result.right))
          } catch (e) {
            result = E.left(taskFailed(e))
          }
        }
      }
    }
  }
}

/**
 * A pipeline from a step: given the context and the environment, it answers the context it
 * reached and its outcome. Every pipeline of the library is built from such steps.
 *
 * @example
 * import { Track, run, memorySink } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const sinkName = Track.primitive(async (context, env) => ({ context, result: E.right(env.sink.name) }))
 * assert.ok(Track.isTrack(sinkName))
 * assert.deepStrictEqual(await run(sinkName, { sink: memorySink() }), E.right('memory'))
 *
 * @category constructors
 * @since 0.2.0
 */
export const primitive = <A>(step: (context: C.Context, env: Env) => Promise<Step<A>>): Track<A> => {
  const track = ((context: C.Context, env: Env) => step(context, env)) as Track<A> & { [OP]: Op }
  track[OP] = { _tag: 'Primitive' }
  return track
}

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

/**
 * Whether `u` is a pipeline built by this module (not merely a function).
 * @category refinements
 * @since 0.2.0
 */
export const isTrack = (u: unknown): u is Track<unknown> => typeof u === 'function' && OP in u

/**
 * A pipeline that succeeds with `a` and leaves the context as it is.
 * @category constructors
 * @since 0.1.0
 */
export const of = <A>(a: A): Track<A> => make({ _tag: 'Of', value: a })

/**
 * A pipeline that fails with `e` and leaves the context as it is.
 * @category constructors
 * @since 0.1.0
 */
export const fail = <A = never>(e: TrackError): Track<A> => make({ _tag: 'Fail', error: e })

/**
 * A pipeline that ends as `ma` says.
 * @category constructors
 * @since 0.1.0
 */
export const fromEither = <A>(ma: E.Either<TrackError, A>): Track<A> => (E.isLeft(ma) ? fail(ma.left) : of(ma.right))

/**
 * A task that may fail with a `TrackError`; with `onLeft`, one whose errors are mapped into one.
 *
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import * as TE from 'fp-ts/lib/TaskEither.js'
 * import { Errors, Track, run, memorySink } from 'charmory-track'
 *
 * const lookup = (id: string): TE.TaskEither<string, number> => (id === 'a' ? TE.right(1) : TE.left(`no ${id}`))
 * const program = Track.fromTaskEither(lookup('b'), (reason) => Errors.invalidValue('id', reason))
 * const result = await run(program, { sink: memorySink() })
 * assert.deepStrictEqual(result, E.left(Errors.invalidValue('id', 'no b')))
 *
 * @category constructors
 * @since 0.1.0
 */
export function fromTaskEither<A>(ma: TE.TaskEither<TrackError, A>): Track<A>
export function fromTaskEither<E, A>(ma: TE.TaskEither<E, A>, onLeft: (e: E) => TrackError): Track<A>
export function fromTaskEither<E, A>(ma: TE.TaskEither<E, A>, onLeft?: (e: E) => TrackError): Track<A> {
  return primitive(async (context) => {
    const result = await ma()
    return { context, result: E.isLeft(result) && onLeft !== undefined ? E.left(onLeft(result.left)) : (result as E.Either<TrackError, A>) }
  })
}

/**
 * A `ReaderTaskEither` over the environment; with `onLeft`, its errors are mapped into a
 * `TrackError`.
 * @category constructors
 * @since 0.2.0
 */
export function fromReaderTaskEither<A>(ma: RTE.ReaderTaskEither<Env, TrackError, A>): Track<A>
export function fromReaderTaskEither<E, A>(ma: RTE.ReaderTaskEither<Env, E, A>, onLeft: (e: E) => TrackError): Track<A>
export function fromReaderTaskEither<E, A>(
  ma: RTE.ReaderTaskEither<Env, E, A>,
  onLeft?: (e: E) => TrackError
): Track<A> {
  return flatMap((env: Env) => fromTaskEither(ma(env), onLeft ?? ((e: E) => e as unknown as TrackError)))(ask)
}

/**
 * A task that cannot fail.
 * @category constructors
 * @since 0.2.0
 */
export const fromTask =
  <A>(ma: T.Task<A>): Track<A> =>
    primitive(async (context) => ({ context, result: E.right(await ma()) }))

/**
 * A synchronous effect, run when the pipeline gets there.
 * @category constructors
 * @since 0.2.0
 */
export const fromIO =
  <A>(ma: IO<A>): Track<A> =>
    primitive(async (context) => ({ context, result: E.right(ma()) }))

/**
 * Runs `thunk` when the pipeline gets there; a rejection becomes `TaskFailed`.
 * @category constructors
 * @since 0.1.0
 */
export const fromPromise =
  <A>(thunk: () => PromiseLike<A> | A): Track<A> =>
    primitive(async (context) => {
      try {
        return { context, result: E.right(await thunk()) }
      } catch (e) {
        return { context, result: E.left(taskFailed(e)) }
      }
    })

/**
 * The environment.
 * @category constructors
 * @since 0.1.0
 */
export const ask: Track<Env> = primitive(async (context, env) => ({ context, result: E.right(env) }))

/**
 * The current context.
 * @category constructors
 * @since 0.1.0
 */
export const getContext: Track<C.Context> = primitive(async (context) => ({ context, result: E.right(context) }))

/**
 * Replaces the context.
 * @category constructors
 * @since 0.1.0
 */
export const modifyContext =
  (f: (c: C.Context, env: Env) => C.Context): Track<void> =>
    primitive(async (context, env) => ({ context: f(context, env), result: E.right(undefined) }))

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Sequences `f` after `ma`, threading the context; stops at the first failure. Stack-safe:
 * chains of any length run in constant stack.
 * @category combinators
 * @since 0.1.0
 */
export const flatMap =
  <A, B>(f: (a: A) => Track<B>) =>
  (ma: Track<A>): Track<B> =>
    make({ _tag: 'FlatMap', ma, f: f as (a: unknown) => Track<unknown> })

/**
 * Changes the value a pipeline yields; a throw in `f` is `TaskFailed`.
 * @category combinators
 * @since 0.1.0
 */
export const map =
  <A, B>(f: (a: A) => B) =>
  (ma: Track<A>): Track<B> =>
    make({ _tag: 'Map', ma, f: f as (a: unknown) => unknown })

/**
 * Replaces the value a pipeline yields with `b`.
 * @category combinators
 * @since 0.1.0
 */
export const as = <B>(b: B): (<A>(ma: Track<A>) => Track<B>) => map(() => b)

/**
 * Runs `f` for its effect on the context and the sink, keeping `ma`'s value.
 * @category combinators
 * @since 0.1.0
 */
export const tap = <A, _>(f: (a: A) => Track<_>): ((ma: Track<A>) => Track<A>) =>
  flatMap((a) => map(() => a)(f(a)))

/**
 * Changes the error a pipeline fails with; a success is left alone.
 * @category combinators
 * @since 0.1.0
 */
export const mapError =
  (f: (e: TrackError) => TrackError) =>
  <A>(ma: Track<A>): Track<A> =>
    orElse((e: TrackError) => fail<A>(f(e)))(ma)

/**
 * Recovers from a failure, starting from the context the failed step reached.
 * @category combinators
 * @since 0.1.0
 */
export const orElse =
  <A>(f: (e: TrackError) => Track<A>) =>
  (ma: Track<A>): Track<A> =>
    make({ _tag: 'OrElse', ma, f })

/**
 * The outcome as a value: never fails.
 * @category combinators
 * @since 0.1.0
 */
export const either = <A>(ma: Track<A>): Track<E.Either<TrackError, A>> =>
  orElse((e: TrackError) => of<E.Either<TrackError, A>>(E.left(e)))(map(E.right)(ma))

/**
 * Runs each pipeline in order, collecting the results.
 * @category combinators
 * @since 0.1.0
 */
export const traverseArray =
  <A, B>(f: (a: A, i: number) => Track<B>) =>
  (as: ReadonlyArray<A>): Track<ReadonlyArray<B>> =>
    primitive(async (context, env) => {
      // A loop rather than a chain of flatMaps: a chain as long as the array overflows the
      // stack when it runs, and copying the results at each step made it quadratic.
      const out: Array<B> = []
      let current = context
      for (let i = 0; i < as.length; i++) {
        const step = await guard(current, () => f(as[i] as A, i)(current, env))
        if (E.isLeft(step.result)) return step as Step<never>
        current = step.context
        out.push(step.result.right)
      }
      return { context: current, result: E.right(out) }
    })

/**
 * Runs each pipeline in order, collecting the results.
 * @category combinators
 * @since 0.2.0
 */
export const sequenceArray: <A>(as: ReadonlyArray<Track<A>>) => Track<ReadonlyArray<A>> = traverseArray(identity)

/**
 * Applies the function `fab` yields to the value `fa` yields; `fab` runs first, then `fa`,
 * each seeing the context the one before left.
 * @category combinators
 * @since 0.2.0
 */
export const ap =
  <A>(fa: Track<A>) =>
  <B>(fab: Track<(a: A) => B>): Track<B> =>
    flatMap((f: (a: A) => B) => map(f)(fa))(fab)

/**
 * Runs the pipeline that a pipeline yields.
 * @category combinators
 * @since 0.2.0
 */
export const flatten: <A>(mma: Track<Track<A>>) => Track<A> = flatMap(identity)

/**
 * Acquires a resource, uses it, and releases it whether the use succeeded or failed (also
 * when it threw). The use's failure wins over the release's; a failed release fails a
 * successful use.
 *
 * @example
 * import { Track, run, memorySink } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const log: Array<string> = []
 * const program = Track.bracket(
 *   Track.fromIO(() => { log.push('open'); return 'handle' }),
 *   (h) => Track.of(h.length),
 *   () => Track.fromIO(() => { log.push('close') })
 * )
 * const result = await run(program, { sink: memorySink() })
 * assert.deepStrictEqual(result, E.right(6))
 * assert.deepStrictEqual(log, ['open', 'close'])
 *
 * @category combinators
 * @since 0.2.0
 */
export const bracket = <R, A>(
  acquire: Track<R>,
  use: (r: R) => Track<A>,
  release: (r: R, result: E.Either<TrackError, A>) => Track<void>
): Track<A> =>
  flatMap((r: R) =>
    flatMap((result: E.Either<TrackError, A>) =>
      flatMap((released: E.Either<TrackError, void>) =>
        fromEither(E.isLeft(result) ? result : E.as(result.right)(released))
      )(either(release(r, result)))
    )(either(flatMap(() => use(r))(of(undefined))))
  )(acquire)

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The fp-ts type lambda of `Track`: `Kind<URI, A>` is `Track<A>`.
 * @category type lambdas
 * @since 0.2.0
 */
export const URI = 'charmory-track/Track'

/**
 * The type of `URI`.
 * @category type lambdas
 * @since 0.2.0
 */
export type URI = typeof URI

declare module 'fp-ts/HKT.js' {
  interface URItoKind<A> {
    readonly [URI]: Track<A>
  }
}

const _map: Functor1<URI>['map'] = (fa, f) => map(f)(fa)
const _ap: Apply1<URI>['ap'] = (fab, fa) => ap(fa)(fab)
const _chain: Chain1<URI>['chain'] = (ma, f) => flatMap(f)(ma)

/**
 * A `Left` that is not a `TrackError` becomes `TaskFailed` carrying it.
 * @category instances
 * @since 0.2.0
 */
export const FromEither: FromEither1<URI> = {
  URI,
  fromEither: (ma) => (E.isLeft(ma) ? fail(isTrackError(ma.left) ? ma.left : taskFailed(ma.left)) : of(ma.right))
}

/**
 * `map` for fp-ts's generic functions.
 * @category instances
 * @since 0.2.0
 */
export const Functor: Functor1<URI> = { URI, map: _map }

/**
 * `of` for fp-ts's generic functions.
 * @category instances
 * @since 0.2.0
 */
export const Pointed: Pointed1<URI> = { URI, of }

/**
 * Sequential: the context threads through `fab`, then `fa`.
 * @category instances
 * @since 0.2.0
 */
export const Apply: Apply1<URI> = { URI, map: _map, ap: _ap }

/**
 * `Apply` with `of`, for `RA.traverse(Track.Applicative)` and friends.
 * @category instances
 * @since 0.2.0
 */
export const Applicative: Applicative1<URI> = { URI, map: _map, ap: _ap, of }

/**
 * `Apply` with `chain` (`flatMap`).
 * @category instances
 * @since 0.2.0
 */
export const Chain: Chain1<URI> = { URI, map: _map, ap: _ap, chain: _chain }

/**
 * `Applicative` with `chain` (`flatMap`).
 * @category instances
 * @since 0.2.0
 */
export const Monad: Monad1<URI> = { URI, map: _map, ap: _ap, of, chain: _chain }

/**
 * Lifts a synchronous effect into a pipeline.
 * @category instances
 * @since 0.2.0
 */
export const FromIO: FromIO1<URI> = { URI, fromIO }

/**
 * Lifts a task that cannot fail into a pipeline.
 * @category instances
 * @since 0.2.0
 */
export const FromTask: FromTask1<URI> = { URI, fromIO, fromTask }

/**
 * `Monad` with `fromIO`.
 * @category instances
 * @since 0.2.0
 */
export const MonadIO: MonadIO1<URI> = { URI, map: _map, ap: _ap, of, chain: _chain, fromIO }

/**
 * `Monad` with `fromIO` and `fromTask`.
 * @category instances
 * @since 0.2.0
 */
export const MonadTask: MonadTask1<URI> = { URI, map: _map, ap: _ap, of, chain: _chain, fromIO, fromTask }

// -------------------------------------------------------------------------------------
// do notation
// -------------------------------------------------------------------------------------

/**
 * The start of do notation: a pipeline that yields `{}`.
 * @category do notation
 * @since 0.1.0
 */
export const Do: Track<{}> = of({})

/**
 * Names the value of a pipeline, starting do notation with it.
 * @category do notation
 * @since 0.1.0
 */
export const bindTo =
  <N extends string>(name: N) =>
  <A>(ma: Track<A>): Track<{ readonly [K in N]: A }> =>
    map((a: A) => ({ [name]: a }) as { readonly [K in N]: A })(ma)

/**
 * Adds the value of the pipeline `f` builds from the record so far, under `name`.
 * @category do notation
 * @since 0.1.0
 */
export const bind =
  <N extends string, A, B>(name: Exclude<N, keyof A>, f: (a: A) => Track<B>) =>
  (ma: Track<A>): Track<{ readonly [K in keyof A | N]: K extends keyof A ? A[K] : B }> =>
    flatMap((a: A) =>
      map((b: B) => ({ ...a, [name]: b }) as { readonly [K in keyof A | N]: K extends keyof A ? A[K] : B })(f(a))
    )(ma)

/**
 * Adds the value of the independent pipeline `mb` under `name`; it runs after `ma`.
 * @category do notation
 * @since 0.1.0
 */
export const apS = <N extends string, A, B>(
  name: Exclude<N, keyof A>,
  mb: Track<B>
): ((ma: Track<A>) => Track<{ readonly [K in keyof A | N]: K extends keyof A ? A[K] : B }>) => bind(name, () => mb)

const let_ = <N extends string, A, B>(
  name: Exclude<N, keyof A>,
  f: (a: A) => B
): ((ma: Track<A>) => Track<{ readonly [K in keyof A | N]: K extends keyof A ? A[K] : B }>) =>
  bind(name, (a) => of(f(a)))

export {
  /**
   * Adds `f` of the record so far under `name`.
   * @category do notation
   * @since 0.1.0
   */
  let_ as let
}
