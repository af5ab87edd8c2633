/**
 * The arguments of the public functions, decoded where they enter, as io-ts decodes what comes
 * from the network: a JavaScript caller (or a config file) has no type checker, so a `null`,
 * a number where a key goes or a string where a list goes must be a typed error naming the
 * argument, not a `TypeError` from deep inside, nor a value taken for another.
 *
 * An argument that is a record of named arguments (an evaluation's spec, a search request, an
 * options object) names its fields by their own names (`filter`, `experiments.1`); any other
 * argument by its parameter's name (`metrics`, `table`). The reason says which function took
 * it and what it takes: `searchRuns takes filter as a string, not a number`.
 *
 * @example
 * import { memorySink } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const fromJavaScript = { filter: 5 } as unknown as { filter: string }
 * assert.deepStrictEqual(
 *   await memorySink().query.searchRuns(fromJavaScript)(),
 *   E.left({ _tag: 'InvalidValue', key: 'filter', reason: 'searchRuns takes filter as a string, not a number' })
 * )
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts/lib/index.js'
import { invalidValue, type TrackError } from './Errors.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * What a value is, for an error message: `a Date`, `a Map`, `an array`, `an object`, `null`.
 * @category utils
 * @since 0.3.0
 */
export const kindOf = (v: unknown): string => {
  if (v === null || v === undefined) return String(v)
  if (Array.isArray(v)) return 'an array'
  if (typeof v !== 'object') return `a ${typeof v}`
  const ctor: unknown = (v as { constructor?: unknown }).constructor
  if (typeof ctor !== 'function' || ctor.name === '' || ctor === Object) return 'an object'
  return `${/^[AEIO]/.test(ctor.name) ? 'an' : 'a'} ${ctor.name}`
}

/**
 * Whether `u` is a record: an object that is not an array, a `Map`, a `Date` or another built-in
 * (its `Object.prototype.toString` tag is `Object`; io-ts's `UnknownRecord` takes any object
 * but an array).
 * @category utils
 * @since 0.3.0
 */
export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && Object.prototype.toString.call(u) === '[object Object]'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * A codec that takes what `is` accepts, named after what it takes (the name goes into the
 * message: `... takes filter as a string, not a number`).
 * @category codecs
 * @since 0.3.0
 */
export const described = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)

/**
 * A string.
 * @category codecs
 * @since 0.3.0
 */
export const Text = described('a string', (u): u is string => typeof u === 'string')

/**
 * A boolean (`'false'`, a string, is not one).
 * @category codecs
 * @since 0.3.0
 */
export const Flag = described('a boolean', (u): u is boolean => typeof u === 'boolean')

/**
 * A number (any, NaN included: what a number must be is the caller's rule).
 * @category codecs
 * @since 0.3.0
 */
export const Numeric = described('a number', (u): u is number => typeof u === 'number')

/**
 * An array of strings.
 * @category codecs
 * @since 0.3.0
 */
export const Texts = t.readonlyArray(Text, 'an array of strings')

/**
 * A record (its fields are read by whoever takes it).
 * @category codecs
 * @since 0.3.0
 */
export const Fields = described('a record', isRecord)

/**
 * A function (a class too).
 * @category codecs
 * @since 0.3.0
 */
export const Callable = described('a function', (u): u is (...args: ReadonlyArray<never>) => unknown => typeof u === 'function')

/**
 * Bytes: a `Uint8Array` (a Node `Buffer` is one).
 * @category codecs
 * @since 0.3.0
 */
export const Bytes = described('bytes (a Uint8Array)', (u): u is Uint8Array => u instanceof Uint8Array)

/**
 * A record of named arguments, every one optional: left out or `undefined`, a field takes its
 * default; present, it must decode. `name` says what the record is, for the message when it is
 * not a record at all.
 * @category codecs
 * @since 0.3.0
 */
export const options = <P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.PartialC<P>>, t.OutputOf<t.PartialC<P>>, unknown> => {
  const fields = t.partial(props, name)
  return new t.Type(name, (u): u is t.TypeOf<t.PartialC<P>> => isRecord(u) && fields.is(u), (u, c) => (isRecord(u) ? fields.validate(u, c) : t.failure(u, c)), fields.encode)
}

/**
 * A record of named arguments that must be given: `options`' counterpart for io-ts's `type`.
 * @category codecs
 * @since 0.3.0
 */
export const required = <P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.TypeC<P>>, t.OutputOf<t.TypeC<P>>, unknown> => {
  const fields = t.type(props, name)
  return new t.Type(name, (u): u is t.TypeOf<t.TypeC<P>> => isRecord(u) && fields.is(u), (u, c) => (isRecord(u) ? fields.validate(u, c) : t.failure(u, c)), fields.encode)
}

/**
 * `codec`, or `undefined` (an argument that may be left out).
 * @category codecs
 * @since 0.3.0
 */
export const optional = <A>(codec: t.Type<A, A, unknown>): t.Type<A | undefined, A | undefined, unknown> =>
  new t.Type(
    codec.name,
    (u): u is A | undefined => u === undefined || codec.is(u),
    (u, c) => (u === undefined ? t.success(undefined) : codec.validate(u, c)),
    t.identity
  )

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const composite = (codec: t.Decoder<unknown, unknown> | undefined): boolean =>
  codec instanceof t.IntersectionType || codec instanceof t.UnionType

/** The first failure as an `InvalidValue` naming the field (or the argument) and what it takes. */
const argumentError = (fn: string, name: string, errors: t.Errors, key: string | undefined): TrackError => {
  // a failed decoding has at least one error, and its context at least the codec itself
  const first = errors[0]!
  // a union or an intersection numbers its members in the path: they are not fields
  const fields = first.context
    .filter((c, i) => c.key !== '' && !composite(first.context[i - 1]?.type))
    .map((c) => c.key)
  const field = fields.length === 0 ? name : fields.join('.')
  // a codec's own message is the whole reason; else its name says what it takes
  const reason = first.message ?? `${fn} takes ${field} as ${first.context[first.context.length - 1]!.type.name}, not ${kindOf(first.value)}`
  return invalidValue(key ?? field, reason)
}

/**
 * The argument `name` of `fn`, decoded with `codec`, or an `InvalidValue` naming the field at
 * fault (or the argument; `key` when given: a value is named by the key or path it would be
 * recorded under, as a metric's value is by the metric's key). A getter of the argument that
 * throws is a failure too, not an exception.
 * @category destructors
 * @since 0.3.0
 */
export const decodeArgument = <A>(
  fn: string,
  name: string,
  codec: t.Decoder<unknown, A>,
  u: unknown,
  key?: string
): E.Either<TrackError, A> => {
  let decoded: t.Validation<A>
  try {
    decoded = codec.decode(u)
  } catch (e) {
    return E.left(invalidValue(key ?? name, `${fn} could not read ${name}: ${e instanceof Error ? e.message : String(e)}`))
  }
  return E.mapLeft((errors: t.Errors) => argumentError(fn, name, errors, key))(decoded)
}
