/**
 * The tracking steps: recording params in the current context (`trackParam`, `resetParams`,
 * the patch of a wrapped call with `fromRecorded`), reading them (`getParams`), and running a
 * sub-pipeline in a child context (`fork`).
 *
 * A context remembers, privately, the prefixes that wrapped calls recorded params under: the
 * first call with a prefix leaves the params of other wrapped calls under it alone, a repeated
 * one replaces everything under it.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { decodeArgument, described, Flag, isRecord, optional, options as optionsOf } from './Arguments.js'
import * as C from './Context.js'
import { NO_PREFIXES, WRAPPED } from './internal/context.js'
import type { Env } from './Env.js'
import { taskFailed, type TrackError } from './Errors.js'
import * as P from './Params.js'
import { toEntries } from './ParamValue.js'
import { fail, fromPromise, getContext, isTrack, map, modifyContext, primitive, type Step, type Track } from './Track.js'
import type { Recorded } from './Recorded.js'

// -------------------------------------------------------------------------------------
// params
// -------------------------------------------------------------------------------------

/**
 * The params of the current context, as a plain object in insertion order.
 * @category constructors
 * @since 0.1.0
 */
export const getParams: Track<Readonly<Record<string, string>>> = map((c: C.Context) => P.toRecord(c.params))(
  getContext
)

/**
 * Records one param in the current context. The value is converted now (a plain object
 * flattens into `key.field` entries); a bad key or value fails here, naming it. Overwriting
 * a key with a different value warns through the environment's logger.
 *
 * @example
 * import { trackParam, getParams, run, memorySink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('batch_size', 16),
 *   Track.flatMap(() => trackParam('optimizer', { name: 'adam', lr: 0.001 })),
 *   Track.flatMap(() => getParams)
 * )
 * assert.deepStrictEqual(
 *   await run(program, { sink: memorySink() }),
 *   E.right({ batch_size: '16', 'optimizer.name': 'adam', 'optimizer.lr': '0.001' })
 * )
 * const refused = await run(trackParam('a//b', 1), { sink: memorySink() })
 * assert.ok(E.isLeft(refused) && refused.left._tag === 'InvalidKey')
 *
 * @category constructors
 * @since 0.1.0
 */
export const trackParam = (key: string, value: unknown): Track<void> => {
  const entries = toEntries(key, value)
  return E.isLeft(entries) ? fail(entries.left) : modifyContext((c, env) => setEntries(c, env, entries.right))
}

const setEntries = (c: C.Context, env: Env, entries: ReadonlyArray<readonly [string, string]>): C.Context => {
  let params = c.params
  for (const [k, v] of entries) {
    const old = P.lookup(k)(params)
    if (O.isSome(old) && old.value !== v) {
      env.logger.warn(`param ${JSON.stringify(k)} overwritten: ${JSON.stringify(old.value)} -> ${JSON.stringify(v)}`)
    }
    params = P.set(k, v)(params)
  }
  return { ...c, params }
}

/**
 * Clears the current context's params (an enclosing context, outside a `fork`, keeps its own).
 *
 * @example
 * import { trackParam, resetParams, getParams, run, memorySink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('seed', 1),
 *   Track.flatMap(() => resetParams),
 *   Track.flatMap(() => trackParam('seed', 2)),
 *   Track.flatMap(() => getParams)
 * )
 * assert.deepStrictEqual(await run(program, { sink: memorySink() }), E.right({ seed: '2' }))
 *
 * @category constructors
 * @since 0.1.0
 */
export const resetParams: Track<void> = modifyContext((c) => ({ ...c, params: P.empty, [WRAPPED]: NO_PREFIXES }))

/**
 * The keys a wrapped call with `prefix` replaces: every key under `prefix.` when a call with
 * this prefix already recorded here; the first time, all but those under the prefix of
 * another wrapped call (`a.b` then `a` keeps both, a second `a` removes `a.b.*` too).
 */
const replacedKeys = (c: C.Context, prefix: string): ReadonlyArray<string> => {
  const under = P.keysUnder(prefix)(c.params)
  if (c[WRAPPED].has(prefix)) return under
  const others = [...c[WRAPPED]]
  return under.filter((k) => !others.some((q) => k.startsWith(`${q}.`)))
}

const RecordedCodec = described(
  'what a wrapped call returns ({ patch, result })',
  (u): u is Recorded<unknown> => isRecord(u) && isRecord(u['patch']) && isRecord(u['result'])
)

/**
 * Applies what a wrapped call recorded (every old key under its prefix goes, its params
 * come), then yields its result, awaiting it when it is a promise. The first call with a
 * prefix in a context keeps the params of other wrapped calls under it (`a.b.*` survives a
 * first `a` call; a second `a` call replaces them too). A call that threw fails here with
 * `TaskFailed`, its params recorded all the same.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromRecorded = <A>(t: Recorded<A>): Track<Awaited<A>> => {
  const checked = decodeArgument('fromRecorded', 'recorded', RecordedCodec, t)
  return E.isLeft(checked) ? fail(checked.left) : applied(t)
}

const applied = <A>(t: Recorded<A>): Track<Awaited<A>> =>
  primitive(async (context, env): Promise<Step<Awaited<A>>> => {
    // A refused call (no patch) always carries its reason in `result`.
    if (O.isNone(t.patch)) return { context, result: t.result as E.Left<TrackError> }
    const { prefix, entries } = t.patch.value
    const replaced = replacedKeys(context, prefix)
    if (replaced.length > 0) {
      env.logger.warn(`params under ${JSON.stringify(`${prefix}.`)} replaced (${replaced.length} old keys removed)`)
    }
    const kept = replaced.reduce((params, k) => P.remove(k)(params), context.params)
    const next: C.Context = {
      ...context,
      params: P.setAll(entries)(kept),
      [WRAPPED]: new Set(context[WRAPPED]).add(prefix)
    }
    const r = t.result
    if (E.isLeft(r)) return { context: next, result: E.left(r.left) }
    return fromPromise(() => r.right as Awaited<A>)(next, env)
  })

const PipelineCodec = described('a pipeline (a Track)', isTrack)
const ForkOptionsCodec = optional(optionsOf('options ({ nested })', { nested: Flag }))

/**
 * Runs `pipeline` in a child context: fresh by default, starting from the current params
 * with `{ nested: true }`. Afterwards the context is exactly as before, whether the child
 * succeeded or failed.
 *
 * @example
 * import { trackParam, fork, getParams, run, memorySink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('model', 'resnet'),
 *   Track.flatMap(() =>
 *     Track.sequenceArray([
 *       fork(pipe(trackParam('attack', 'pgd'), Track.flatMap(() => getParams))),
 *       fork(pipe(trackParam('attack', 'fgsm'), Track.flatMap(() => getParams)), { nested: true })
 *     ])
 *   ),
 *   Track.bindTo('children'),
 *   Track.bind('after', () => getParams)
 * )
 * assert.deepStrictEqual(
 *   await run(program, { sink: memorySink() }),
 *   E.right({
 *     children: [{ attack: 'pgd' }, { model: 'resnet', attack: 'fgsm' }],
 *     after: { model: 'resnet' } // the parent is untouched
 *   })
 * )
 *
 * @category constructors
 * @since 0.1.0
 */
export const fork = <A>(pipeline: Track<A>, options?: { readonly nested?: boolean }): Track<A> => {
  const checked = E.flatMap(() => decodeArgument('fork', 'options', ForkOptionsCodec, options))(
    decodeArgument('fork', 'pipeline', PipelineCodec, pipeline)
  )
  return E.isLeft(checked) ? fail(checked.left) : forked(pipeline, options)
}

const forked = <A>(pipeline: Track<A>, options?: { readonly nested?: boolean }): Track<A> =>
  primitive(async (context, env) => {
    const child: C.Context = options?.nested === true ? context : { ...context, params: P.empty, [WRAPPED]: NO_PREFIXES }
    const step = await Promise.resolve()
      .then(() => pipeline(child, env))
      .catch((e: unknown): Step<A> => ({ context: child, result: E.left(taskFailed(e)) }))
    return { context, result: step.result }
  })
