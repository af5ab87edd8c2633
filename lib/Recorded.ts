/**
 * `Recorded<A>`: the outcome of a wrapped call (`withParams`, `withInitParams`): its result and
 * the params it produced, as a patch of the context (every old key under `prefix.` goes, the new
 * ones come), applied by a pipeline with `fromRecorded`.
 *
 * @example
 * import { Recorded, withInitParams } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * class Model { constructor(readonly o: { depth: number }) {} }
 * const built = Recorded.map((m: Model) => m.o.depth * 2)(withInitParams(Model)({ depth: 18 }))
 * assert.deepStrictEqual(built.result, E.right(36))
 * assert.deepStrictEqual(Recorded.paramsOf(built), { 'Model.depth': '18' })
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { TrackError } from './Errors.js'
import type { Entry } from './Records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What one call records: every old key under `prefix.` goes (see `fromRecorded` for the
 * params of other wrapped calls), then `entries` are set.
 * @category model
 * @since 0.1.0
 */
export interface Patch {
  readonly prefix: string
  readonly entries: ReadonlyArray<Entry>
}

/**
 * The outcome of a wrapped call. `patch` is `None` only when the arguments could not be
 * recorded (a bad key or value): then the function was not called and `result` says why.
 * When the function itself threw, `patch` is still there, as in the original.
 * @category model
 * @since 0.3.0 (`Tracked` before)
 */
export interface Recorded<A> {
  readonly patch: O.Option<Patch>
  readonly result: E.Either<TrackError, A>
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Maps the result, keeping the params (`mapTracked` before 0.3.0).
 * @category combinators
 * @since 0.2.0
 */
export const map =
  <A, B>(f: (a: A) => B) =>
  (t: Recorded<A>): Recorded<B> => ({ patch: t.patch, result: E.map(f)(t.result) })

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * The params a call produced, as a plain object (empty when it was refused).
 * @category destructors
 * @since 0.1.0
 */
export const paramsOf = <A>(t: Recorded<A>): Readonly<Record<string, string>> =>
  O.isSome(t.patch) ? Object.fromEntries(t.patch.value.entries) : {}
