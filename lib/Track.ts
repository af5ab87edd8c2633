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
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('batch_size', 16),
 *   Track.flatMap(() => getParams)
 * )
 * // nothing has run yet
 * const result = await run(program, { sink: memorySink() })
 * // result: right({ batch_size: '16' })
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as C from './Context.js'
import type { Env } from './Env.js'
import { taskFailed, type TrackError } from './Errors.js'
import * as P from './Params.js'
import { toEntries } from './ParamValue.js'
import type { Tracked } from './Tracked.js'

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
 * @category model
 * @since 0.1.0
 */
export interface Track<A> {
  (context: C.Context, env: Env): Promise<Step<A>>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * @category constructors
 * @since 0.1.0
 */
export const of =
  <A>(a: A): Track<A> =>
  async (context) => ({ context, result: E.right(a) })

/**
 * @category constructors
 * @since 0.1.0
 */
export const fail =
  <A = never>(e: TrackError): Track<A> =>
  async (context) => ({ context, result: E.left(e) })

/**
 * @category constructors
 * @since 0.1.0
 */
export const fromEither = <A>(ma: E.Either<TrackError, A>): Track<A> => (E.isLeft(ma) ? fail(ma.left) : of(ma.right))

/**
 * @category constructors
 * @since 0.1.0
 */
export const fromTaskEither =
  <A>(ma: TE.TaskEither<TrackError, A>): Track<A> =>
  async (context) => ({ context, result: await ma() })

/**
 * Runs `thunk` when the pipeline gets there; a rejection becomes `TaskFailed`.
 * @category constructors
 * @since 0.1.0
 */
export const fromPromise =
  <A>(thunk: () => PromiseLike<A> | A): Track<A> =>
  async (context) => {
    try {
      return { context, result: E.right(await thunk()) }
    } catch (e) {
      return { context, result: E.left(taskFailed(e)) }
    }
  }

/**
 * The environment.
 * @category constructors
 * @since 0.1.0
 */
export const ask: Track<Env> = async (context, env) => ({ context, result: E.right(env) })

/**
 * The current context.
 * @category constructors
 * @since 0.1.0
 */
export const getContext: Track<C.Context> = async (context) => ({ context, result: E.right(context) })

/**
 * Replaces the context.
 * @category constructors
 * @since 0.1.0
 */
export const modifyContext =
  (f: (c: C.Context, env: Env) => C.Context): Track<void> =>
  async (context, env) => ({ context: f(context, env), result: E.right(undefined) })

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

const guard = <A>(context: C.Context, f: () => Promise<Step<A>>): Promise<Step<A>> => {
  try {
    return f().catch((e: unknown) => ({ context, result: E.left(taskFailed(e)) }))
  } catch (e) {
    return Promise.resolve({ context, result: E.left(taskFailed(e)) })
  }
}

/**
 * Sequences `f` after `ma`, threading the context; stops at the first failure.
 * @category sequencing
 * @since 0.1.0
 */
export const flatMap =
  <A, B>(f: (a: A) => Track<B>) =>
  (ma: Track<A>): Track<B> =>
  async (context, env) => {
    const step = await ma(context, env)
    if (E.isLeft(step.result)) return step as Step<never>
    const a = step.result.right
    return guard(step.context, () => f(a)(step.context, env))
  }

/**
 * @category mapping
 * @since 0.1.0
 */
export const map = <A, B>(f: (a: A) => B): ((ma: Track<A>) => Track<B>) => flatMap((a) => of(f(a)))

/**
 * @category mapping
 * @since 0.1.0
 */
export const as = <B>(b: B): (<A>(ma: Track<A>) => Track<B>) => map(() => b)

/**
 * Runs `f` for its effect on the context and the sink, keeping `ma`'s value.
 * @category sequencing
 * @since 0.1.0
 */
export const tap = <A, _>(f: (a: A) => Track<_>): ((ma: Track<A>) => Track<A>) =>
  flatMap((a) => map(() => a)(f(a)))

/**
 * @category error handling
 * @since 0.1.0
 */
export const mapError =
  (f: (e: TrackError) => TrackError) =>
  <A>(ma: Track<A>): Track<A> =>
  async (context, env) => {
    const step = await ma(context, env)
    return E.isLeft(step.result) ? { context: step.context, result: E.left(f(step.result.left)) } : step
  }

/**
 * Recovers from a failure, starting from the context the failed step reached.
 * @category error handling
 * @since 0.1.0
 */
export const orElse =
  <A>(f: (e: TrackError) => Track<A>) =>
  (ma: Track<A>): Track<A> =>
  async (context, env) => {
    const step = await ma(context, env)
    if (E.isRight(step.result)) return step
    const e = step.result.left
    return guard(step.context, () => f(e)(step.context, env))
  }

/**
 * The outcome as a value: never fails.
 * @category error handling
 * @since 0.1.0
 */
export const either =
  <A>(ma: Track<A>): Track<E.Either<TrackError, A>> =>
  async (context, env) => {
    const step = await ma(context, env)
    return { context: step.context, result: E.right(step.result) }
  }

/**
 * Runs each pipeline in order, collecting the results.
 * @category traversing
 * @since 0.1.0
 */
export const traverseArray =
  <A, B>(f: (a: A, i: number) => Track<B>) =>
  (as: ReadonlyArray<A>): Track<ReadonlyArray<B>> =>
  async (context, env) => {
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
  }

// -------------------------------------------------------------------------------------
// do notation
// -------------------------------------------------------------------------------------

/**
 * @category do notation
 * @since 0.1.0
 */
export const Do: Track<{}> = of({})

/**
 * @category do notation
 * @since 0.1.0
 */
export const bindTo =
  <N extends string>(name: N) =>
  <A>(ma: Track<A>): Track<{ readonly [K in N]: A }> =>
    map((a: A) => ({ [name]: a }) as { readonly [K in N]: A })(ma)

/**
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
   * @category do notation
   * @since 0.1.0
   */
  let_ as let
}

// -------------------------------------------------------------------------------------
// params
// -------------------------------------------------------------------------------------

/**
 * The params of the current context, as a plain object in insertion order.
 * @category params
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
 * @category params
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
 * @category params
 * @since 0.1.0
 */
export const resetParams: Track<void> = modifyContext((c) => ({ ...c, params: P.fresh(), prefixes: new Set() }))

/**
 * The keys a wrapped call with `prefix` replaces: every key under `prefix.` when a call with
 * this prefix already recorded here; the first time, all but those under the prefix of
 * another wrapped call (`a.b` then `a` keeps both, a second `a` removes `a.b.*` too).
 */
const replacedKeys = (c: C.Context, prefix: string): ReadonlyArray<string> => {
  const under = P.keysUnder(prefix)(c.params)
  if (c.prefixes.has(prefix)) return under
  const others = [...c.prefixes]
  return under.filter((k) => !others.some((q) => k.startsWith(`${q}.`)))
}

/**
 * Applies what a wrapped call recorded (every old key under its prefix goes, its params
 * come), then yields its result, awaiting it when it is a promise. The first call with a
 * prefix in a context keeps the params of other wrapped calls under it (`a.b.*` survives a
 * first `a` call; a second `a` call replaces them too). A call that threw fails here with
 * `TaskFailed`, its params recorded all the same.
 *
 * @category params
 * @since 0.1.0
 */
export const fromTracked =
  <A>(t: Tracked<A>): Track<Awaited<A>> =>
  async (context, env): Promise<Step<Awaited<A>>> => {
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
      prefixes: new Set(context.prefixes).add(prefix)
    }
    const r = t.result
    if (E.isLeft(r)) return { context: next, result: E.left(r.left) }
    return fromPromise(() => r.right as Awaited<A>)(next, env)
  }

/**
 * Runs `pipeline` in a child context: fresh by default, starting from the current params
 * with `{ nested: true }`. Afterwards the context is exactly as before, whether the child
 * succeeded or failed.
 *
 * @category params
 * @since 0.1.0
 */
export const fork =
  <A>(pipeline: Track<A>, options?: { readonly nested?: boolean }): Track<A> =>
  async (context, env) => {
    const child: C.Context =
      options?.nested === true ? context : { ...context, params: P.fresh(), prefixes: new Set() }
    const step = await guard(child, () => pipeline(child, env))
    return { context, result: step.result }
  }
