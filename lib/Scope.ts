/**
 * `Scope`: what was acquired, released together. Whoever acquires a resource (a connection, a
 * timer, an open journal) registers how to release it with `addFinalizer`; `close` runs every
 * finalizer in the reverse order of registration, each once, whatever the others did, and
 * answers the failures it met. A `fork`ed scope is closed with its parent (before the parent's
 * earlier finalizers), or on its own when what it was made for fails: building a sink happens
 * in a child scope that is closed when the build fails, so that what the build had opened is
 * released (the shape of Effect's `Scope` and `Layer.fromBuild`).
 *
 * `run` builds its sink in a scope and closes it when the pipeline ends, in every outcome;
 * `openSink` hands the scope's `close` to the sink's owner.
 *
 * @example
 * import { Scope } from 'charmory-track'
 *
 * const log: Array<string> = []
 * const scope = Scope.make()
 * scope.addFinalizer(() => void log.push('connection'))
 * const child = scope.fork()
 * child.addFinalizer(() => void log.push('journal'))
 * scope.addFinalizer(() => {
 *   throw new Error('timer already gone')
 * })
 * const failures = await scope.close()
 * assert.deepStrictEqual(log, ['journal', 'connection']) // reverse order, every one of them
 * assert.deepStrictEqual(failures.map((e) => e._tag), ['TaskFailed'])
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { isTrackError, taskFailed, type TrackError } from './Errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * How one resource is released. It may be asynchronous; a throw or a rejection is collected
 * by `close` as a `TrackError` (a `TaskFailed` unless it is one already).
 * @category model
 * @since 0.3.0
 */
export type Finalizer = () => unknown

/**
 * A set of finalizers, run together by `close`.
 * @category model
 * @since 0.3.0
 */
export interface Scope {
  /** Registers `finalizer`, run by `close` before every finalizer registered earlier; on a closed scope, runs it at once. */
  readonly addFinalizer: (finalizer: Finalizer) => void
  /** A child scope: closed by this scope's `close` in its turn, or earlier by its own. */
  readonly fork: () => Scope
  /**
   * Runs the finalizers, last registered first, every one of them, and answers their failures
   * in the order met. A second `close` answers the first one's failures and runs nothing.
   */
  readonly close: () => Promise<ReadonlyArray<TrackError>>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const failureOf = (e: unknown): TrackError => (isTrackError(e) ? e : taskFailed(e))

/** Runs one finalizer; its failures (a child scope may have several) are collected. */
type Step = () => Promise<ReadonlyArray<TrackError>>

const step =
  (finalizer: Finalizer): Step =>
  async () => {
    try {
      await finalizer()
      return []
    } catch (e) {
      return [failureOf(e)]
    }
  }

interface Internal extends Scope {
  readonly isClosed: () => boolean
}

const scopeOf = ({ addFinalizer, fork, close }: Internal): Scope => ({ addFinalizer, fork, close })

const makeInternal = (): Internal => {
  const steps: Array<Step> = []
  let closed: Promise<ReadonlyArray<TrackError>> | undefined
  const add = (s: Step): void => {
    if (closed === undefined) steps.push(s)
    else void s()
  }
  const close = (): Promise<ReadonlyArray<TrackError>> =>
    (closed ??= (async () => {
      const failures: Array<TrackError> = []
      for (let s = steps.pop(); s !== undefined; s = steps.pop()) failures.push(...(await s()))
      return failures
    })())
  return {
    addFinalizer: (finalizer) => add(step(finalizer)),
    fork: () => {
      const child = makeInternal()
      // a child closed on its own has answered its failures to whoever closed it
      add(async () => (child.isClosed() ? [] : child.close()))
      return scopeOf(child)
    },
    close,
    isClosed: () => closed !== undefined
  }
}

/**
 * An open, empty scope.
 * @category constructors
 * @since 0.3.0
 */
export const make = (): Scope => scopeOf(makeInternal())

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Acquires a resource in `scope`: once `acquire` succeeds, `release` is registered with what
 * it acquired. A failed `acquire` registers nothing.
 * @category combinators
 * @since 0.3.0
 */
export const acquireRelease =
  <A>(scope: Scope, acquire: TE.TaskEither<TrackError, A>, release: (a: A) => unknown): TE.TaskEither<TrackError, A> =>
  async () => {
    const acquired = await acquire()
    if (E.isRight(acquired)) scope.addFinalizer(() => release(acquired.right))
    return acquired
  }

/**
 * Runs `f` in a child scope of `scope` that is closed at once when `f` fails (releasing what
 * `f` had acquired), and kept, to close with `scope`, when it succeeds: how a sink is built.
 * A build that throws is a failure too.
 * @category combinators
 * @since 0.3.0
 */
export const fromBuild =
  <A>(scope: Scope, f: (child: Scope) => TE.TaskEither<TrackError, A>): TE.TaskEither<TrackError, A> =>
  async () => {
    const child = scope.fork()
    let built: E.Either<TrackError, A>
    try {
      built = await f(child)()
    } catch (e) {
      built = E.left(failureOf(e))
    }
    if (E.isLeft(built)) await child.close()
    return built
  }

/**
 * Runs `f` in a fresh scope and closes it whatever `f` did. `f`'s failure wins; when `f`
 * succeeded, the first failure of a finalizer is the result. `onLost` gets every failure that
 * is not the result (for a warning).
 * @category combinators
 * @since 0.3.0
 */
export const scoped =
  <A>(f: (scope: Scope) => TE.TaskEither<TrackError, A>, onLost: (e: TrackError) => void): TE.TaskEither<TrackError, A> =>
  async () => {
    const scope = make()
    let result: E.Either<TrackError, A>
    try {
      result = await f(scope)()
    } catch (e) {
      result = E.left(failureOf(e))
    }
    const failures = await scope.close()
    const [first, ...rest] = failures
    if (E.isRight(result) && first !== undefined) {
      rest.forEach(onLost)
      return E.left(first)
    }
    failures.forEach(onLost)
    return result
  }
