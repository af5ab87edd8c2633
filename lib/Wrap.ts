/**
 * `withParams` and `withInitParams`: wrap a function or a class so that each call returns its
 * result together with the params the call produced, as a plain value (a `Recorded`).
 *
 * The params are converted when the call is made (see `ParamValue`), so mutating an argument
 * afterwards cannot change them. Nothing global is touched: the `Recorded` value is applied to
 * a context only when a pipeline lifts it with `fromRecorded`.
 *
 * @example
 * import { Recorded, withParams } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const loadModel = (o: { name: string; batchSize: number }) => `model ${o.name}`
 * const recorded = withParams(loadModel)({ name: 'resnet', batchSize: 16 })
 *
 * assert.deepStrictEqual(recorded.result, E.right('model resnet'))
 * assert.deepStrictEqual(Recorded.paramsOf(recorded), { 'loadModel.name': 'resnet', 'loadModel.batchSize': '16' })
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { Callable, decodeArgument, optional, options as optionsOf, Text, Texts } from './Arguments.js'
import { invalidValue, missingName, taskFailed, TrackException, type TrackError } from './Errors.js'
import { fieldsRecorder } from './ParamValue.js'
import type { Recorded } from './Recorded.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `withParams` / `withInitParams`.
 * @category model
 * @since 0.1.0
 */
export interface WrapOptions<K extends string = string> {
  /** Replaces the function's or class's name as the key prefix. */
  readonly prefix?: string
  /** Argument names not to record (exact names). */
  readonly ignore?: ReadonlyArray<K>
}

/**
 * Options for a function that takes positional arguments: `names` names each of them.
 * @category model
 * @since 0.1.0
 */
export interface PositionalOptions<P extends ReadonlyArray<unknown>> extends WrapOptions {
  readonly names: { readonly [I in keyof P]: string }
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const WrapOptionsCodec = optional(optionsOf('options ({ prefix, ignore, names })', { prefix: Text, ignore: Texts, names: Texts }))

/**
 * The prefix of a wrapped function or class, once the wrapper's arguments are known to be
 * usable. One rule for what cannot be wrapped: it throws a `TrackException` when it is
 * wrapped, whether it has no name (`MissingName`) or is not a function, or its options are not
 * what they say (`InvalidValue` naming the argument), so that no call of the wrapper ever runs.
 */
const prefixOf = (wrapper: string, name: 'f' | 'C', wrapped: unknown, options: unknown, what: 'function' | 'class'): string => {
  const checked = E.flatMap(() => decodeArgument(wrapper, 'options', WrapOptionsCodec, options))(decodeArgument(wrapper, name, Callable, wrapped))
  if (E.isLeft(checked)) throw new TrackException(checked.left)
  const prefix = checked.right?.prefix ?? (wrapped as { readonly name: string }).name
  if (prefix === '') throw new TrackException(missingName(what))
  return prefix
}

const fieldsOf = (
  prefix: string,
  args: ReadonlyArray<unknown>,
  names: ReadonlyArray<string> | undefined
): E.Either<TrackError, Readonly<Record<string, unknown>>> => {
  if (names !== undefined) return E.right(Object.fromEntries(names.map((n, i) => [n, args[i]])))
  const [options] = args
  if (options === undefined) return E.right({})
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return E.left(invalidValue(prefix, 'expected one options object; name positional arguments with the option `names`'))
  }
  // read at once by the recorder, before `f` runs: no copy needed to keep it as it was
  return E.right(options as Readonly<Record<string, unknown>>)
}

type Recorder = ReturnType<typeof fieldsRecorder>

const call = <A>(
  prefix: string,
  record: Recorder,
  names: ReadonlyArray<string> | undefined,
  args: ReadonlyArray<unknown>,
  invoke: () => A
): Recorded<A> => {
  const fields = fieldsOf(prefix, args, names)
  const entries = E.isLeft(fields) ? fields : record(fields.right)
  if (E.isLeft(entries)) return { patch: O.none, result: entries }
  const patch = O.some({ prefix, entries: entries.right })
  try {
    return { patch, result: E.right(invoke()) }
  } catch (e) {
    return { patch, result: E.left(taskFailed(e)) }
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Wraps `f` so that each call returns `f`'s result together with the params the call produced
 * (`prefix.argument`, prefix = `options.prefix` or `f.name`). `f` takes one options object,
 * or positional arguments named by `options.names`. An anonymous function without a prefix
 * is refused here, when it is wrapped (a `TrackException` is thrown), and so is anything that
 * is not a function, or options that are not what they say (since 0.3.0).
 *
 * @example
 * import { Recorded, withParams } from 'charmory-track'
 *
 * const scale = (x: number, factor: number) => x * factor
 * const t = withParams(scale, { names: ['x', 'factor'] as const })(3, 2)
 * assert.deepStrictEqual(Recorded.paramsOf(t), { 'scale.x': '3', 'scale.factor': '2' })
 *
 * @example
 * import { withParams, fromRecorded, evaluate, run, memorySink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * // one options object: its fields become params (nested ones joined with `.`, secrets hidden)
 * const loadModel = (o: { name: string; optimizer: { lr: number }; apiKey: string; verbose?: boolean }) => `model ${o.name}`
 * const load = withParams(loadModel, { prefix: 'model', ignore: ['verbose'] })
 *
 * // a pipeline applies them to its context with `fromRecorded`; `evaluate` logs them
 * const program = pipe(
 *   fromRecorded(load({ name: 'resnet', optimizer: { lr: 0.001 }, apiKey: 'sk-123', verbose: true })),
 *   Track.flatMap((model) => evaluate({ experiment: 'demo' }, async () => ({ accuracy: model.length / 100 })))
 * )
 * const sink = memorySink()
 * assert.ok(E.isRight(await run(program, { sink })))
 * assert.deepStrictEqual(
 *   Object.entries(sink.snapshot().runs[0]?.params ?? {}).filter(([k]) => k.startsWith('model.')),
 *   [['model.name', 'resnet'], ['model.optimizer.lr', '0.001'], ['model.apiKey', '***']]
 * )
 *
 * @category constructors
 * @since 0.1.0
 */
export function withParams<P extends ReadonlyArray<unknown>, B>(
  f: (...args: P) => B,
  options: PositionalOptions<P>
): (...args: P) => Recorded<B>
export function withParams<A, B>(f: (args: A) => B, options?: WrapOptions<keyof A & string>): (args: A) => Recorded<B>
export function withParams<B>(
  f: (...args: Array<unknown>) => B,
  options?: WrapOptions & { readonly names?: ReadonlyArray<string> }
): (...args: Array<unknown>) => Recorded<B> {
  const prefix = prefixOf('withParams', 'f', f, options, 'function')
  const record = fieldsRecorder(prefix, options?.ignore)
  return (...args) => call(prefix, record, options?.names, args, () => f(...args))
}

/**
 * Wraps class `C` so that each construction returns the instance together with the params
 * of its constructor argument (prefix `options.prefix` or `C.name`). `C` is not modified.
 *
 * @example
 * import { Recorded, withInitParams } from 'charmory-track'
 *
 * class TheDataset { constructor(readonly o: { batchSize: number }) {} }
 * const t = withInitParams(TheDataset)({ batchSize: 16 })
 * assert.deepStrictEqual(Recorded.paramsOf(t), { 'TheDataset.batchSize': '16' })
 *
 * @category constructors
 * @since 0.1.0
 */
export function withInitParams<P extends ReadonlyArray<unknown>, B>(
  C: new (...args: P) => B,
  options: PositionalOptions<P>
): (...args: P) => Recorded<B>
export function withInitParams<A, B>(
  C: new (args: A) => B,
  options?: WrapOptions<keyof A & string>
): (args: A) => Recorded<B>
export function withInitParams<B>(
  C: new (...args: Array<unknown>) => B,
  options?: WrapOptions & { readonly names?: ReadonlyArray<string> }
): (...args: Array<unknown>) => Recorded<B> {
  const prefix = prefixOf('withInitParams', 'C', C, options, 'class')
  const record = fieldsRecorder(prefix, options?.ignore)
  return (...args) => call(prefix, record, options?.names, args, () => new C(...args))
}
