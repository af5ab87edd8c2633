import t from 'tap'
import fc from 'fast-check'
import assert from 'node:assert'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as RA from 'fp-ts/lib/ReadonlyArray.js'
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { sequenceS } from 'fp-ts/lib/Apply.js'
import { Errors, Runtime, Context, fork, fromRecorded, getParams, memorySink, Params, resetParams, run, Track, trackParam, withParams } from 'charmory-track'
import { captureLogger } from './support/behaviour.js'

const env = (): Runtime.EnvInput & { readonly warnings: Array<string> } => {
  const { logger, warnings } = captureLogger()
  return { sink: memorySink(), logger, warnings }
}

const boom = Errors.notFound('run', 'r-404')

/** The params a pipeline ends with, and its result. */
const finalParams = <A>(p: Track.Track<A>): Track.Track<Readonly<Record<string, string>>> =>
  pipe(
    Track.either(p),
    Track.flatMap(() => getParams)
  )

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

t.test('of, fail, fromEither, fromTaskEither', async (t) => {
  t.strictSame(await run(Track.of(1), env()), E.right(1))
  t.strictSame(await run(Track.fail(boom), env()), E.left(boom))
  t.strictSame(await run(Track.fromEither(E.right('x')), env()), E.right('x'))
  t.strictSame(await run(Track.fromEither(E.left(boom)), env()), E.left(boom))
  t.strictSame(await run(Track.fromTaskEither(TE.right(2)), env()), E.right(2))
  t.strictSame(await run(Track.fromTaskEither(TE.left(boom)), env()), E.left(boom))
})

t.test('fromPromise awaits the thunk; a throw or a rejection is TaskFailed', async (t) => {
  t.strictSame(await run(Track.fromPromise(async () => 3), env()), E.right(3))
  t.strictSame(await run(Track.fromPromise(() => 4), env()), E.right(4))
  const cause = new Error('disk full')
  t.strictSame(
    await run(
      Track.fromPromise(() => Promise.reject(cause)),
      env()
    ),
    E.left({ _tag: 'TaskFailed', message: 'disk full', cause })
  )
  t.strictSame(
    await run(
      Track.fromPromise(() => {
        throw cause
      }),
      env()
    ),
    E.left({ _tag: 'TaskFailed', message: 'disk full', cause })
  )
})

t.test('ask gives the environment, getContext and modifyContext the context', async (t) => {
  const e = env()
  const seen = await run(Track.ask, e)
  // the sink is the one given, as `run` builds it (registering the runs it opens)
  t.ok(E.isRight(seen) && seen.right.sink.name === e.sink.name && seen.right.logger === e.logger)
  const start = Context.fromParams(Params.fromEntries([['a', '1']]))
  const got = await run(Track.getContext, e, start)
  t.ok(E.isRight(got) && got.right === start)
  const modified = await run(
    pipe(
      Track.modifyContext((c, environment) => ({ ...c, params: Params.set('sink', environment.sink.name)(c.params) })),
      Track.flatMap(() => getParams)
    ),
    e
  )
  t.strictSame(modified, E.right({ sink: 'memory' }))
})

// -------------------------------------------------------------------------------------
// laziness
// -------------------------------------------------------------------------------------

t.test('nothing runs before run: building a pipeline has no effect', async (t) => {
  let calls = 0
  const e = env()
  const program = pipe(
    trackParam('a', 1),
    Track.flatMap(() => trackParam('a', 2)),
    Track.flatMap(() => Track.fromPromise(async () => ++calls)),
    Track.map((n) => n * 10)
  )
  t.equal(calls, 0)
  t.strictSame(e.warnings, [])
  t.strictSame(await run(program, e), E.right(10))
  t.strictSame(await run(program, e), E.right(20), 'a pipeline is a description: it runs again from the start')
  t.equal(calls, 2)
})

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

t.test('map, as, flatMap thread the context from step to step', async (t) => {
  const program = pipe(
    trackParam('a', 1),
    Track.as(5),
    Track.map((n) => n + 1),
    Track.flatMap((n) => pipe(trackParam('b', n), Track.as(n * 2))),
    Track.flatMap((n) => pipe(getParams, Track.map((p) => ({ n, p }))))
  )
  t.strictSame(await run(program, env()), E.right({ n: 12, p: { a: '1', b: '6' } }))
})

t.test('flatMap stops at the first failure', async (t) => {
  let later = 0
  const program = pipe(
    Track.fail<number>(boom),
    Track.flatMap(() => Track.fromPromise(() => ++later)),
    Track.map(() => ++later)
  )
  t.strictSame(await run(program, env()), E.left(boom))
  t.equal(later, 0)
})

t.test('tap keeps the value and the effect on the context', async (t) => {
  const program = pipe(
    Track.of('kept'),
    Track.tap((s) => trackParam('seen', s)),
    Track.flatMap((s) => pipe(getParams, Track.map((p) => [s, p] as const)))
  )
  t.strictSame(await run(program, env()), E.right(['kept', { seen: 'kept' }]))
  t.strictSame(await run(pipe(Track.of(1), Track.tap(() => Track.fail(boom))), env()), E.left(boom))
})

t.test('mapError changes a failure and leaves a success alone', async (t) => {
  const other = Errors.invalidKey('k', 'why')
  t.strictSame(await run(pipe(Track.fail(boom), Track.mapError(() => other)), env()), E.left(other))
  t.strictSame(await run(pipe(Track.of(1), Track.mapError(() => other)), env()), E.right(1))
})

t.test('orElse recovers from the context the failed step reached', async (t) => {
  const program = pipe(
    trackParam('before', 1),
    Track.flatMap(() => trackParam('at_failure', 2)),
    Track.flatMap(() => Track.fail<string>(boom)),
    Track.orElse((e) => pipe(getParams, Track.map((p) => `${e._tag}: ${JSON.stringify(p)}`)))
  )
  t.strictSame(await run(program, env()), E.right('NotFound: {"before":"1","at_failure":"2"}'))
  let called = false
  const untouched = pipe(
    Track.of('fine'),
    Track.orElse(() => {
      called = true
      return Track.of('recovered')
    })
  )
  t.strictSame(await run(untouched, env()), E.right('fine'))
  t.notOk(called)
})

t.test('orElse sees the params of a wrapped call that threw', async (t) => {
  const train = (o: { epochs: number }): number => {
    throw new Error(`diverged after ${o.epochs} epochs`)
  }
  const program = pipe(
    fromRecorded(withParams(train)({ epochs: 3 })),
    Track.map(String),
    Track.orElse((e) => pipe(getParams, Track.map((p) => `${e._tag} ${JSON.stringify(p)}`)))
  )
  t.strictSame(await run(program, env()), E.right('TaskFailed {"train.epochs":"3"}'))
})

t.test('either turns the outcome into a value and keeps the context', async (t) => {
  const program = pipe(
    trackParam('x', 1),
    Track.flatMap(() => Track.fail<number>(boom)),
    Track.either,
    Track.flatMap((outcome) => pipe(getParams, Track.map((p) => ({ outcome, p }))))
  )
  t.strictSame(await run(program, env()), E.right({ outcome: E.left(boom), p: { x: '1' } }))
  t.strictSame(await run(Track.either(Track.of(2)), env()), E.right(E.right(2)))
})

t.test('traverseArray runs in order, threading the context, and stops at the first failure', async (t) => {
  const order: Array<number> = []
  const step = (n: number, i: number): Track.Track<number> =>
    pipe(
      Track.fromPromise(async () => void order.push(n)),
      Track.flatMap(() => trackParam(`step.${i}`, n)),
      Track.as(n * n)
    )
  const program = pipe([3, 1, 2], Track.traverseArray(step), Track.flatMap((squares) => pipe(getParams, Track.map((p) => ({ squares, p })))))
  t.strictSame(await run(program, env()), E.right({ squares: [9, 1, 4], p: { 'step.0': '3', 'step.1': '1', 'step.2': '2' } }))
  t.strictSame(order, [3, 1, 2])
  t.strictSame(await run(Track.traverseArray(step)([]), env()), E.right([]))
  order.length = 0
  const failing = Track.traverseArray((n: number, i: number) => (n === 2 ? Track.fail<number>(boom) : step(n, i)))([1, 2, 3])
  t.strictSame(await run(failing, env()), E.left(boom))
  t.strictSame(order, [1])
})

t.test('traverseArray takes arrays of any length: 100,000 trackParam steps record 100,000 params', async (t) => {
  const n = 100_000
  const program = pipe(
    Array.from({ length: n }, (_, i) => i),
    Track.traverseArray((i) => pipe(trackParam(`p${i}`, i), Track.as(i))),
    Track.bindTo('results'),
    Track.bind('params', () => getParams)
  )
  const result = await run(program, env())
  if (E.isLeft(result)) return t.fail(JSON.stringify(result.left))
  t.equal(result.right.results.length, n)
  t.equal(result.right.results[n - 1], n - 1)
  t.equal(Object.keys(result.right.params).length, n)
  t.equal(result.right.params[`p${n - 1}`], String(n - 1))
})

t.test('traverseArray turns a step that throws into TaskFailed, keeping the context reached', async (t) => {
  const program = pipe(
    [1, 2, 3],
    Track.traverseArray((n: number) => {
      if (n === 2) throw new Error('no two')
      return pipe(trackParam(`n${n}`, n), Track.as(n))
    }),
    Track.either,
    Track.bindTo('outcome'),
    Track.bind('params', () => getParams)
  )
  const result = await run(program, env())
  if (E.isLeft(result)) return t.fail(JSON.stringify(result.left))
  t.match(result.right.outcome, E.left({ _tag: 'TaskFailed' }))
  t.strictSame(result.right.params, { n1: '1' })
})

t.test('Do, bindTo, bind, let, apS', async (t) => {
  const program = pipe(
    Track.Do,
    Track.bind('a', () => Track.of(2)),
    Track.let('b', ({ a }) => a * 10),
    Track.apS('c', Track.of('c')),
    Track.bind('params', ({ a }) => pipe(trackParam('a', a), Track.flatMap(() => getParams)))
  )
  t.strictSame(await run(program, env()), E.right({ a: 2, b: 20, c: 'c', params: { a: '2' } }))
  t.strictSame(await run(pipe(Track.of(1), Track.bindTo('one')), env()), E.right({ one: 1 }))
})

t.test('exceptions thrown inside callbacks become TaskFailed, keeping the context', async (t) => {
  const cause = new Error('bug in user code')
  const failed = E.left({ _tag: 'TaskFailed', message: 'bug in user code', cause })
  const throwing = (): never => {
    throw cause
  }
  const after = <A>(p: Track.Track<A>) => pipe(trackParam('kept', 1), Track.flatMap(() => p))
  t.strictSame(await run(after(pipe(Track.of(1), Track.map(throwing))), env()), failed, 'map')
  t.strictSame(await run(after(pipe(Track.of(1), Track.flatMap(throwing))), env()), failed, 'flatMap')
  t.strictSame(await run(after(pipe(Track.of(1), Track.tap(throwing))), env()), failed, 'tap')
  t.strictSame(await run(after(pipe(Track.fail(boom), Track.orElse(throwing))), env()), failed, 'orElse')
  t.strictSame(await run(pipe(Track.of(1), Track.bind('x', throwing)), env()), failed, 'bind')
  const rejecting: Track.Track<number> = async () => {
    throw cause
  }
  t.strictSame(await run(after(pipe(Track.of(1), Track.flatMap(() => rejecting))), env()), failed, 'a step that rejects')
  t.strictSame(
    await run(finalParams(after(pipe(Track.of(1), Track.map(throwing)))), env()),
    E.right({ kept: '1' }),
    'the params recorded before the throw stay'
  )
  const typed = (): never => {
    throw new Errors.TrackException(boom)
  }
  t.strictSame(await run(pipe(Track.of(1), Track.map(typed)), env()), E.left(boom), 'a TrackException keeps its error')
})

// -------------------------------------------------------------------------------------
// params
// -------------------------------------------------------------------------------------

t.test('trackParam records a value converted now; an object flattens', async (t) => {
  const options = { lr: 0.1, layers: [64] }
  const program = pipe(
    trackParam('batch_size', 16),
    Track.flatMap(() => trackParam('opt', options)),
    Track.flatMap(() =>
      Track.fromPromise(async () => {
        options.lr = 0.9 // after it was recorded
        options.layers.push(10)
      })
    ),
    Track.flatMap(() => getParams)
  )
  t.strictSame(await run(program, env()), E.right({ batch_size: '16', 'opt.lr': '0.1', 'opt.layers': '[64]' }))
})

t.test('trackParam with a bad key or value fails at that step, naming it', async (t) => {
  const program = pipe(
    trackParam('ok', 1),
    Track.flatMap(() => trackParam('a//b', 1)),
    Track.flatMap(() => trackParam('never', 1))
  )
  t.strictSame(
    await run(program, env()),
    E.left({ _tag: 'InvalidKey', key: 'a//b', reason: 'a key cannot start or end with "/" or contain "//"' })
  )
  t.strictSame(await run(finalParams(program), env()), E.right({ ok: '1' }))
  t.strictSame(
    await run(trackParam('when', { at: new Date(NaN) }), env()),
    E.left({ _tag: 'InvalidValue', key: 'when.at', reason: 'the Date is invalid' })
  )
})

t.test('trackParam of undefined or a symbol is an InvalidValue naming the key; a function records its name', async (t) => {
  t.match(await run(trackParam('seed', undefined), env()), E.left({ _tag: 'InvalidValue', key: 'seed', reason: /undefined/ }))
  t.match(await run(trackParam('seed', Symbol('s')), env()), E.left({ _tag: 'InvalidValue', key: 'seed', reason: /symbol/ }))
  const relu = (x: number): number => Math.max(0, x)
  t.strictSame(await run(finalParams(trackParam('activation', relu)), env()), E.right({ activation: 'relu' }))
})

t.test('overwriting a param warns through the logger, naming old and new value; the key keeps its place', async (t) => {
  const e = env()
  const program = pipe(
    trackParam('a', 1),
    Track.flatMap(() => trackParam('b', 2)),
    Track.flatMap(() => trackParam('a', 3)),
    Track.flatMap(() => trackParam('b', 2)),
    Track.flatMap(() => getParams),
    Track.map((p) => Object.entries(p))
  )
  t.strictSame(await run(program, e), E.right([['a', '3'], ['b', '2']]))
  t.strictSame(e.warnings, ['param "a" overwritten: "1" -> "3"'], 'the same value again is not an overwrite')
})

t.test('resetParams clears the current context', async (t) => {
  const program = pipe(
    trackParam('a', 1),
    Track.flatMap(() => resetParams),
    Track.flatMap(() => trackParam('b', 2)),
    Track.flatMap(() => getParams)
  )
  t.strictSame(await run(program, env()), E.right({ b: '2' }))
})

t.test('fromRecorded replaces every key under the prefix and warns when it does', async (t) => {
  const e = env()
  const f = (o: Record<string, unknown>): number => Object.keys(o).length
  const program = pipe(
    trackParam('f.x', 1),
    Track.flatMap(() => trackParam('g', 1)),
    Track.flatMap(() => fromRecorded(withParams(f)({ name: 'a', extra: true }))),
    Track.flatMap(() => fromRecorded(withParams(f)({ name: 'b' }))),
    Track.flatMap((n) => pipe(getParams, Track.map((p) => ({ n, p }))))
  )
  t.strictSame(await run(program, e), E.right({ n: 1, p: { g: '1', 'f.name': 'b' } }))
  t.strictSame(e.warnings, [
    'params under "f." replaced (1 old keys removed)',
    'params under "f." replaced (2 old keys removed)'
  ])
})

t.test('a first call keeps the params of other wrapped calls under its prefix; a repeated one replaces all', async (t) => {
  const f = (o: Record<string, unknown>): number => Object.keys(o).length
  const program = pipe(
    fromRecorded(withParams(f, { prefix: 'a.b' })({ x: 1 })),
    Track.flatMap(() => trackParam('a.manual', 1)),
    Track.flatMap(() => fromRecorded(withParams(f, { prefix: 'a' })({ y: 2 }))),
    Track.bind('first', () => getParams),
    Track.tap(() => fromRecorded(withParams(f, { prefix: 'a' })({ z: 3 }))),
    Track.bind('second', () => getParams)
  )
  t.strictSame(
    await run(program, env()),
    E.right({ first: { 'a.b.x': '1', 'a.y': '2' }, second: { 'a.z': '3' } })
  )
})

t.test('resetParams and a fresh fork forget which prefixes wrapped calls used; a nested fork keeps them', async (t) => {
  const f = (o: Record<string, unknown>): number => Object.keys(o).length
  const ab = fromRecorded(withParams(f, { prefix: 'a.b' })({ x: 1 }))
  // `a.b.x` set by hand: a first `a` call removes it unless `a.b` is known as a wrapped prefix
  const thenA = pipe(
    trackParam('a.b.x', 'manual'),
    Track.flatMap(() => fromRecorded(withParams(f, { prefix: 'a' })({ y: 2 }))),
    Track.flatMap(() => getParams)
  )
  t.strictSame(await run(pipe(ab, Track.flatMap(() => resetParams), Track.flatMap(() => thenA)), env()), E.right({ 'a.y': '2' }))
  t.strictSame(await run(pipe(ab, Track.flatMap(() => fork(thenA))), env()), E.right({ 'a.y': '2' }))
  t.strictSame(
    await run(pipe(ab, Track.flatMap(() => fork(thenA, { nested: true }))), env()),
    E.right({ 'a.b.x': 'manual', 'a.y': '2' })
  )
})

t.test('fromRecorded awaits a promise result; a rejection is TaskFailed with the params recorded', async (t) => {
  const load = async (o: { path: string }): Promise<string> => `loaded ${o.path}`
  t.strictSame(await run(fromRecorded(withParams(load)({ path: '/m' })), env()), E.right('loaded /m'))
  const cause = new Error('404 from the model hub')
  const fetchModel = (o: { id: string }): Promise<string> => Promise.reject(Object.assign(cause, { id: o.id }))
  const program = fromRecorded(withParams(fetchModel)({ id: 'bert' }))
  t.strictSame(await run(program, env()), E.left({ _tag: 'TaskFailed', message: '404 from the model hub', cause }))
  t.strictSame(await run(finalParams(program), env()), E.right({ 'fetchModel.id': 'bert' }))
})

t.test('fromRecorded of a refused call fails and records nothing', async (t) => {
  const f = (o: { when: Date }): Date => o.when
  const program = pipe(trackParam('f.old', 1), Track.flatMap(() => fromRecorded(withParams(f)({ when: new Date(NaN) }))))
  t.strictSame(await run(program, env()), E.left({ _tag: 'InvalidValue', key: 'f.when', reason: 'the Date is invalid' }))
  t.strictSame(await run(finalParams(program), env()), E.right({ 'f.old': '1' }))
})

t.test('fork: a fresh child starts empty, a nested one from the parent; the parent is untouched', async (t) => {
  const program = pipe(
    trackParam('outer', 1),
    Track.bind('fresh', () => fork(pipe(trackParam('inner', 2), Track.flatMap(() => getParams)))),
    Track.bind('nested', () => fork(pipe(trackParam('inner', 3), Track.flatMap(() => getParams)), { nested: true })),
    Track.bind('after', () => getParams)
  )
  t.strictSame(
    await run(program, env()),
    E.right({ fresh: { inner: '2' }, nested: { outer: '1', inner: '3' }, after: { outer: '1' } })
  )
})

t.test('fork: a child that fails or throws leaves the parent as it was and passes the error on', async (t) => {
  const cause = new Error('child crashed')
  const throwing: Track.Track<never> = () => {
    throw cause
  }
  for (const child of [pipe(trackParam('outer', 'changed'), Track.flatMap(() => Track.fail(boom))), throwing]) {
    const program = pipe(
      trackParam('outer', 1),
      Track.flatMap(() => fork(child, { nested: true })),
      Track.either,
      Track.flatMap((outcome) => pipe(getParams, Track.map((p) => ({ outcome, p }))))
    )
    const result = await run(program, env())
    t.ok(E.isRight(result) && E.isLeft(result.right.outcome))
    t.match(result, E.right({ p: { outer: '1' } }))
  }
})

t.test('pipelines run concurrently, in any interleaving of their awaits, never see each other\'s params', async (t) => {
  await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.nat({ max: 4 }), { minLength: 2, maxLength: 4 }), async (s, sizes) => {
        const yieldNow = (label: string): Track.Track<void> => Track.fromPromise(() => s.schedule(Promise.resolve(), label))
        const pipeline = (who: number, size: number): Track.Track<Readonly<Record<string, string>>> => {
          const steps = Array.from({ length: size }, (_, i) => i)
          return pipe(
            steps,
            Track.traverseArray((i) =>
              pipe(
                yieldNow(`${who}.${i}`),
                Track.flatMap(() => trackParam(`p${who}.k${i}`, who)),
                Track.flatMap(() => fork(pipe(yieldNow(`${who}.${i} child`), Track.flatMap(() => trackParam('child', who))), { nested: true }))
              )
            ),
            Track.flatMap(() => getParams)
          )
        }
        const e = env()
        const results = await s.waitFor(Promise.all(sizes.map((size, who) => run(pipeline(who, size), e))))
        results.forEach((r, who) => {
          const own = Object.fromEntries(Array.from({ length: sizes[who] ?? 0 }, (_, i) => [`p${who}.k${i}`, String(who)]))
          assert.deepStrictEqual(r, E.right(own))
        })
      })
  )
  t.pass('every interleaving kept the params apart')
})

// -------------------------------------------------------------------------------------
// stack safety
// -------------------------------------------------------------------------------------

t.test('1,000,000 left-nested flatMaps complete, and so does a recursion as deep', async (t) => {
  let left: Track.Track<number> = Track.of(0)
  for (let i = 0; i < 1_000_000; i++) left = pipe(left, Track.flatMap((n) => Track.of(n + 1)))
  t.strictSame(await run(left, env()), E.right(1_000_000))
  const down = (n: number): Track.Track<number> =>
    n === 0 ? Track.of(0) : pipe(Track.of(n - 1), Track.flatMap(down), Track.map((m) => m + 1))
  t.strictSame(await run(down(1_000_000), env()), E.right(1_000_000))
  let recovered: Track.Track<number> = Track.fail(boom)
  for (let i = 0; i < 200_000; i++) recovered = pipe(recovered, Track.mapError((e) => e), Track.orElse(() => Track.fail(boom)))
  t.strictSame(await run(pipe(recovered, Track.orElse(() => Track.of(7))), env()), E.right(7))
})

t.test('a long chain of asynchronous steps completes, threading the context', async (t) => {
  let p: Track.Track<number> = Track.fromPromise(async () => 0)
  for (let i = 0; i < 20_000; i++) p = pipe(p, Track.tap((n) => trackParam('last', n)), Track.flatMap((n) => Track.fromPromise(async () => n + 1)))
  t.strictSame(await run(pipe(p, Track.bindTo('n'), Track.bind('params', () => getParams)), env()), E.right({ n: 20_000, params: { last: '19999' } }))
})

t.test('a throw in map, flatMap or orElse callbacks is TaskFailed at that step', async (t) => {
  const cause = new Error('bad callback')
  const thrower = (): never => {
    throw cause
  }
  for (const program of [
    pipe(Track.of(1), Track.map(thrower)),
    pipe(Track.of(1), Track.flatMap(thrower)),
    pipe(Track.fail(boom), Track.orElse(thrower))
  ]) {
    t.strictSame(await run(program, env()), E.left({ _tag: 'TaskFailed', message: 'bad callback', cause }))
  }
})

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

/** A small language of pipelines: values, failures and params, so that the laws see the context too. */
const arbTrack: fc.Arbitrary<Track.Track<number>> = fc.oneof(
  fc.integer().map((n) => Track.of(n)),
  fc.constant(Track.fail<number>(boom)),
  fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer()).map(([k, n]) => pipe(trackParam(k, n), Track.as(n))),
  fc.integer().map((n) => Track.fromPromise(async () => n))
)
const arbK: fc.Arbitrary<(n: number) => Track.Track<number>> = fc
  .tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: -3, max: 3 }), fc.boolean())
  .map(([k, d, fails]) => (n: number) => (fails && n % 2 === 0 ? Track.fail(boom) : pipe(trackParam(k, n + d), Track.as(n + d))))

const outcome = <A>(p: Track.Track<A>) => run(pipe(Track.either(p), Track.bindTo('result'), Track.bind('params', () => getParams)), env())
const same = async <A>(x: Track.Track<A>, y: Track.Track<A>): Promise<boolean> => {
  assert.deepStrictEqual(await outcome(x), await outcome(y))
  return true
}

t.test('monad laws: left identity, right identity, associativity', async (t) => {
  await fc.assert(fc.asyncProperty(fc.integer(), arbK, (a, f) => same(pipe(Track.of(a), Track.flatMap(f)), f(a))))
  await fc.assert(fc.asyncProperty(arbTrack, (m) => same(pipe(m, Track.flatMap(Track.of)), m)))
  await fc.assert(
    fc.asyncProperty(arbTrack, arbK, arbK, (m, f, g) =>
      same(pipe(m, Track.flatMap(f), Track.flatMap(g)), pipe(m, Track.flatMap((x) => pipe(f(x), Track.flatMap(g)))))
    )
  )
  t.pass('held for every generated case')
})

t.test('functor laws, and ap agrees with flatMap', async (t) => {
  const double = (n: number): number => n * 2
  const inc = (n: number): number => n + 1
  await fc.assert(fc.asyncProperty(arbTrack, (m) => same(pipe(m, Track.map((x) => x)), m)))
  await fc.assert(fc.asyncProperty(arbTrack, (m) => same(pipe(m, Track.map(double), Track.map(inc)), pipe(m, Track.map((x) => inc(double(x)))))))
  await fc.assert(
    fc.asyncProperty(arbTrack, arbTrack, (mf, ma) => {
      const fab = pipe(mf, Track.map((n) => (x: number) => x * n))
      return same(pipe(fab, Track.ap(ma)), pipe(fab, Track.flatMap((f) => pipe(ma, Track.map(f)))))
    })
  )
  t.pass('held for every generated case')
})

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

t.test('the fp-ts instances work with sequenceS, traverse and the Monad helpers', async (t) => {
  const record = (k: string, n: number): Track.Track<number> => pipe(trackParam(k, n), Track.as(n))
  const program = pipe(
    sequenceS(Track.Apply)({ x: record('x', 1), y: record('y', 2) }),
    Track.bindTo('s'),
    Track.bind('all', () => RA.traverse(Track.Applicative)((n: number) => record(`n${n}`, n))([3, 4])),
    Track.bind('seq', () => Track.sequenceArray([Track.of('a'), Track.of('b')])),
    Track.bind('flat', () => Track.flatten(Track.of(Track.of(5)))),
    Track.bind('chained', () => Track.Monad.chain(Track.Pointed.of(6), (n) => Track.Functor.map(Track.of(n), (m) => m + 1))),
    Track.bind('io', () => Track.MonadIO.fromIO(() => 'io')),
    Track.bind('task', () => Track.MonadTask.fromTask(async () => 'task')),
    Track.bind('fromTask', () => Track.FromTask.fromTask(async () => 'ft')),
    Track.bind('fromIO', () => Track.FromIO.fromIO(() => 'fi')),
    Track.bind('chain', () => Track.Chain.chain(Track.Applicative.of(1), (n) => Track.of(n + 1))),
    Track.bind('params', () => getParams)
  )
  t.strictSame(
    await run(program, env()),
    E.right({
      s: { x: 1, y: 2 },
      all: [3, 4],
      seq: ['a', 'b'],
      flat: 5,
      chained: 7,
      io: 'io',
      task: 'task',
      fromTask: 'ft',
      fromIO: 'fi',
      chain: 2,
      params: { x: '1', y: '2', n3: '3', n4: '4' }
    })
  )
  t.equal(Track.URI, 'charmory-track/Track')
})

t.test('FromEither keeps a TrackError and wraps any other Left as TaskFailed', async (t) => {
  t.strictSame(await run(Track.FromEither.fromEither(E.left(boom)), env()), E.left(boom))
  t.strictSame(await run(Track.FromEither.fromEither(E.right(1)), env()), E.right(1))
  t.strictSame(await run(Track.FromEither.fromEither(E.left('nope')), env()), E.left({ _tag: 'TaskFailed', message: 'nope', cause: 'nope' }))
  t.strictSame(await run(Track.FromEither.fromEither(E.left({ _tag: 'Mine' })), env()), E.left({ _tag: 'TaskFailed', message: '[object Object]', cause: { _tag: 'Mine' } }))
})

t.test('fromTaskEither and fromReaderTaskEither map foreign errors; the environment reaches a ReaderTaskEither', async (t) => {
  const e = env()
  const onLeft = (s: string) => Errors.invalidKey(s, 'unknown')
  t.strictSame(await run(Track.fromTaskEither(TE.left('k'), onLeft), e), E.left(Errors.invalidKey('k', 'unknown')))
  t.strictSame(await run(Track.fromTaskEither(TE.right(1), onLeft), e), E.right(1))
  const sinkName: RTE.ReaderTaskEither<{ readonly sink: { readonly name: string } }, string, string> = (r) => TE.right(r.sink.name)
  t.strictSame(await run(Track.fromReaderTaskEither(sinkName, onLeft), e), E.right('memory'))
  t.strictSame(await run(Track.fromReaderTaskEither(() => TE.left('k'), onLeft), e), E.left(Errors.invalidKey('k', 'unknown')))
  t.strictSame(await run(Track.fromReaderTaskEither(() => TE.left(boom)), e), E.left(boom))
})

t.test('bracket releases after a use that succeeds, fails or throws; the use\'s failure wins', async (t) => {
  const log: Array<string> = []
  const acquire = Track.fromIO(() => {
    log.push('open')
    return 'h'
  })
  const release = (_: string, r: E.Either<unknown, unknown>) =>
    Track.fromIO(() => {
      log.push(E.isRight(r) ? 'close ok' : 'close failed')
    })
  t.strictSame(await run(Track.bracket(acquire, (h) => Track.of(h.length), release), env()), E.right(1))
  t.strictSame(await run(Track.bracket(acquire, () => Track.fail(boom), release), env()), E.left(boom))
  const cause = new Error('use threw')
  const thrown = await run(Track.bracket(acquire, () => { throw cause }, release), env())
  t.strictSame(thrown, E.left({ _tag: 'TaskFailed', message: 'use threw', cause }))
  t.strictSame(log, ['open', 'close ok', 'open', 'close failed', 'open', 'close failed'])
  const failingRelease = () => Track.fail<void>(Errors.invalidKey('release', 'broke'))
  t.strictSame(await run(Track.bracket(acquire, () => Track.of(1), failingRelease), env()), E.left(Errors.invalidKey('release', 'broke')))
  t.strictSame(await run(Track.bracket(acquire, () => Track.fail(boom), failingRelease), env()), E.left(boom))
  t.strictSame(await run(Track.bracket(Track.fail<string>(boom), () => Track.of(1), release), env()), E.left(boom), 'nothing to release')
})

t.test('trackParam, fork and fromRecorded decode their arguments: a Left naming the argument, the context kept', async (t) => {
  const js = <A>(u: unknown): A => u as A
  const after = <A>(step: Track.Track<A>) => pipe(trackParam('kept', 1), Track.flatMap(() => step))
  const cases: ReadonlyArray<readonly [string, Track.Track<unknown>, Record<string, unknown>]> = [
    ['trackParam(5, 1)', trackParam(js(5), 1), { _tag: 'InvalidKey', key: '5', reason: 'a key is a string, not a number' }],
    ['trackParam(null, 1)', trackParam(js(null), 1), { _tag: 'InvalidKey', key: 'null' }],
    ['trackParam({}, 1)', trackParam(js({}), 1), { _tag: 'InvalidKey', key: 'an object' }],
    ['fork(null)', fork(js(null)), { _tag: 'InvalidValue', key: 'pipeline', reason: 'fork takes pipeline as a pipeline (a Track), not null' }],
    ['fork(() => 1)', fork(js(() => 1)), { _tag: 'InvalidValue', key: 'pipeline', reason: /not a function$/ }],
    ["fork nested: 'yes'", fork(getParams, js({ nested: 'yes' })), { _tag: 'InvalidValue', key: 'nested', reason: 'fork takes nested as a boolean, not a string' }],
    ['fork options 1', fork(getParams, js(1)), { _tag: 'InvalidValue', key: 'options' }],
    ['fromRecorded(null)', fromRecorded(js(null)), { _tag: 'InvalidValue', key: 'recorded', reason: /^fromRecorded takes recorded as what a wrapped call returns/ }],
    ['fromRecorded(42)', fromRecorded(js(42)), { _tag: 'InvalidValue', key: 'recorded' }]
  ]
  for (const [what, step, error] of cases) {
    const e = env()
    t.match(await run(after(step), e), E.left(error), what)
    t.strictSame(await run(after(getParams), e), E.right({ kept: '1' }), `${what}: a pipeline goes on as before`)
  }
})
