import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Recorded, Errors, withInitParams, withParams } from 'charmory-track'

const loadModel = (o: { name: string; batchSize: number; device?: string }): string => `model ${o.name}`

t.test('withParams gives the result with the params of the options object, under the function name', async (t) => {
  const tracked = withParams(loadModel)({ name: 'resnet', batchSize: 16, device: undefined })
  t.strictSame(tracked.result, E.right('model resnet'))
  t.strictSame(Recorded.paramsOf(tracked), { 'loadModel.name': 'resnet', 'loadModel.batchSize': '16' })
  t.strictSame(tracked.patch, O.some({ prefix: 'loadModel', entries: [['loadModel.name', 'resnet'], ['loadModel.batchSize', '16']] }))
})

t.test('options: prefix replaces the name, ignore skips exact argument names', async (t) => {
  const f = (o: { b: number; c: string; cc: string }): number => o.b
  t.strictSame(Recorded.paramsOf(withParams(f, { prefix: 'model' })({ b: 7, c: 'x', cc: 'y' })), {
    'model.b': '7',
    'model.c': 'x',
    'model.cc': 'y'
  })
  t.strictSame(Recorded.paramsOf(withParams(f, { ignore: ['c'] })({ b: 7, c: 'x', cc: 'y' })), { 'f.b': '7', 'f.cc': 'y' })
  t.strictSame(Recorded.paramsOf(withParams(f, { prefix: 'a.b', ignore: ['b', 'cc'] })({ b: 7, c: 'x', cc: 'y' })), { 'a.b.c': 'x' })
})

t.test('options.names names positional arguments', async (t) => {
  const scale = (x: number, factor: number, label?: string): string => `${label ?? ''}${x * factor}`
  const tracked = withParams(scale, { names: ['x', 'factor', 'label'] as const })(3, 2)
  t.strictSame(tracked.result, E.right('6'))
  t.strictSame(Recorded.paramsOf(tracked), { 'scale.x': '3', 'scale.factor': '2' })
  const ignored = withParams(scale, { names: ['x', 'factor', 'label'] as const, ignore: ['x'] })(3, 2, 'n=')
  t.strictSame(Recorded.paramsOf(ignored), { 'scale.factor': '2', 'scale.label': 'n=' })
  t.strictSame(ignored.result, E.right('n=6'))
})

t.test('a function called without an options object records no params', async (t) => {
  const seed = (o?: { value: number }): number => o?.value ?? 42
  const tracked = withParams(seed)(undefined)
  t.strictSame(tracked.result, E.right(42))
  t.strictSame(tracked.patch, O.some({ prefix: 'seed', entries: [] }))
})

t.test('an argument that is not one options object is refused, and f is not called', async (t) => {
  let calls = 0
  const f = (o: unknown): number => {
    calls++
    return o === null ? 0 : 1
  }
  const reason = 'expected one options object; name positional arguments with the option `names`'
  for (const arg of [5, 'text', null, [1, 2]]) {
    const tracked = withParams(f)(arg)
    t.strictSame(tracked.patch, O.none, JSON.stringify(arg))
    t.strictSame(tracked.result, E.left({ _tag: 'InvalidValue', key: 'f', reason }))
    t.strictSame(Recorded.paramsOf(tracked), {})
  }
  t.equal(calls, 0)
})

t.test('a bad key or value is refused before f runs, naming the key', async (t) => {
  let calls = 0
  const f = (o: Record<string, unknown>): void => {
    calls++
    void o
  }
  const badKey = withParams(f)({ 'has,comma': 1 })
  t.strictSame(badKey.patch, O.none)
  t.match(badKey.result, E.left({ _tag: 'InvalidKey', key: 'f.has,comma' }))
  const badValue = withParams(f)({ when: new Date(NaN) })
  t.strictSame(badValue.result, E.left({ _tag: 'InvalidValue', key: 'f.when', reason: 'the Date is invalid' }))
  t.equal(calls, 0)
})

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

t.test('an anonymous function or class without prefix is refused when wrapped, not when called', async (t) => {
  const fn = thrown(() => withParams((o: { a: number }) => o.a))
  t.ok(fn instanceof Errors.TrackException)
  t.strictSame((fn as Errors.TrackException).error, { _tag: 'MissingName', what: 'function' })
  const cls = thrown(() =>
    withInitParams(
      class {
        constructor(readonly o: { a: number }) {}
      }
    )
  )
  t.ok(cls instanceof Errors.TrackException)
  t.strictSame((cls as Errors.TrackException).error, { _tag: 'MissingName', what: 'class' })
  t.strictSame((thrown(() => withParams(loadModel, { prefix: '' })) as Errors.TrackException).error, {
    _tag: 'MissingName',
    what: 'function'
  })
  const named = withParams((o: { a: number }) => o.a, { prefix: 'inline' })
  t.strictSame(Recorded.paramsOf(named({ a: 1 })), { 'inline.a': '1' })
})

t.test('what is not a function, or options that are not what they say, are refused when wrapped too: one rule', async (t) => {
  // as a JavaScript caller passes them
  const fn = (u: unknown) => u as (o: { a: number }) => number
  const cls = (u: unknown) => u as new (o: { a: number }) => object
  const opts = (u: unknown) => u as { prefix?: string }
  const cases: ReadonlyArray<readonly [string, () => unknown, string, string]> = [
    ['withParams(null)', () => withParams(fn(null)), 'f', 'withParams takes f as a function, not null'],
    ['withParams(42)', () => withParams(fn(42)), 'f', 'withParams takes f as a function, not a number'],
    ['withInitParams({})', () => withInitParams(cls({})), 'C', 'withInitParams takes C as a function, not an object'],
    ['withInitParams(null)', () => withInitParams(cls(null)), 'C', 'withInitParams takes C as a function, not null'],
    ['options null', () => withParams(loadModel, opts(null)), 'options', 'withParams takes options as options ({ prefix, ignore, names }), not null'],
    ['prefix 1', () => withParams(loadModel, opts({ prefix: 1 })), 'prefix', 'withParams takes prefix as a string, not a number'],
    ["ignore 'x'", () => withParams(loadModel, opts({ ignore: 'name' })), 'ignore', 'withParams takes ignore as an array of strings, not a string'],
    ['names [1]', () => withInitParams(cls(class Named {}), opts({ names: [1] })), 'names.0', 'withInitParams takes names.0 as a string, not a number']
  ]
  for (const [what, wrap, key, reason] of cases) {
    const e = thrown(wrap)
    t.ok(e instanceof Errors.TrackException, `${what}: a TrackException, no TypeError`)
    t.strictSame((e as Errors.TrackException).error, { _tag: 'InvalidValue', key, reason }, what)
  }
})

t.test('when f throws, the params are still there and the failure is TaskFailed', async (t) => {
  const boom = new Error('CUDA out of memory')
  const train = (o: { epochs: number }): number => {
    if (o.epochs > 0) throw boom
    return 0
  }
  const tracked = withParams(train)({ epochs: 3 })
  t.strictSame(Recorded.paramsOf(tracked), { 'train.epochs': '3' })
  t.strictSame(tracked.result, E.left({ _tag: 'TaskFailed', message: 'CUDA out of memory', cause: boom }))
})

t.test('a Errors.TrackException thrown by f keeps its typed error', async (t) => {
  const inner = { _tag: 'NotFound', what: 'run', id: 'r1' } as const
  const f = (o: { id: string }): void => {
    throw new Errors.TrackException({ ...inner, id: o.id })
  }
  t.strictSame(withParams(f)({ id: 'r1' }).result, E.left(inner))
})

t.test('later mutation of an argument does not change what was recorded', async (t) => {
  const options = { layers: [64, 64], optimizer: { lr: 0.1 }, name: 'mlp' }
  const tracked = withParams((o: typeof options) => o.name, { prefix: 'build' })(options)
  options.layers.push(10)
  options.optimizer.lr = 0.9
  options.name = 'changed'
  t.strictSame(Recorded.paramsOf(tracked), { 'build.layers': '[64,64]', 'build.optimizer.lr': '0.1', 'build.name': 'mlp' })
})

t.test('a wrapped call is a pure value: each call stands alone, nothing global changes', async (t) => {
  const wrapped = withParams(loadModel)
  const a = wrapped({ name: 'a', batchSize: 1 })
  const b = wrapped({ name: 'b', batchSize: 2 })
  t.strictSame(Recorded.paramsOf(a), { 'loadModel.name': 'a', 'loadModel.batchSize': '1' })
  t.strictSame(Recorded.paramsOf(b), { 'loadModel.name': 'b', 'loadModel.batchSize': '2' })
})

class TheDataset {
  static readonly kind = 'images'
  constructor(readonly o: { batchSize: number; split: string }) {}
  size(): number {
    return this.o.batchSize * 10
  }
}

t.test('withInitParams gives a real instance with the constructor params, under the class name', async (t) => {
  const tracked = withInitParams(TheDataset)({ batchSize: 16, split: 'test' })
  t.strictSame(Recorded.paramsOf(tracked), { 'TheDataset.batchSize': '16', 'TheDataset.split': 'test' })
  const instance = E.getOrElseW(() => undefined)(tracked.result)
  t.ok(instance instanceof TheDataset)
  t.equal(instance?.size(), 160)
})

t.test('withInitParams options: prefix, ignore, names', async (t) => {
  t.strictSame(Recorded.paramsOf(withInitParams(TheDataset, { prefix: 'data', ignore: ['split'] })({ batchSize: 8, split: 'x' })), {
    'data.batchSize': '8'
  })
  class Point {
    constructor(
      readonly x: number,
      readonly y: number
    ) {}
  }
  const p = withInitParams(Point, { names: ['x', 'y'] as const })(1, 2)
  t.strictSame(Recorded.paramsOf(p), { 'Point.x': '1', 'Point.y': '2' })
  t.match(p.result, E.right({ x: 1, y: 2 }))
})

t.test('withInitParams does not modify the class', async (t) => {
  const before = {
    name: TheDataset.name,
    kind: TheDataset.kind,
    protoKeys: Object.getOwnPropertyNames(TheDataset.prototype),
    staticKeys: Object.getOwnPropertyNames(TheDataset)
  }
  const wrapped = withInitParams(TheDataset)
  wrapped({ batchSize: 1, split: 'a' })
  t.strictSame(
    {
      name: TheDataset.name,
      kind: TheDataset.kind,
      protoKeys: Object.getOwnPropertyNames(TheDataset.prototype),
      staticKeys: Object.getOwnPropertyNames(TheDataset)
    },
    before
  )
  t.not(wrapped as unknown, TheDataset as unknown)
  const plain = new TheDataset({ batchSize: 2, split: 'b' })
  t.equal(plain.size(), 20)
})

t.test('a constructor that throws: params kept, TaskFailed', async (t) => {
  class Broken {
    constructor(o: { path: string }) {
      throw new Error(`cannot open ${o.path}`)
    }
  }
  const tracked = withInitParams(Broken)({ path: '/data' })
  t.strictSame(Recorded.paramsOf(tracked), { 'Broken.path': '/data' })
  t.match(tracked.result, E.left({ _tag: 'TaskFailed', message: 'cannot open /data' }))
})

t.test('Tracked.map maps the result and keeps the params', async (t) => {
  const tracked = pipe(withParams(loadModel)({ name: 'r', batchSize: 2 }), Recorded.map((s) => s.length))
  t.strictSame(tracked.result, E.right(7))
  t.strictSame(Recorded.paramsOf(tracked), { 'loadModel.name': 'r', 'loadModel.batchSize': '2' })
  const failed = pipe(withParams(loadModel)({ name: 'r', batchSize: new Date(NaN) as unknown as number }), Recorded.map(() => 1))
  t.ok(E.isLeft(failed.result))
  t.strictSame(failed.patch, O.none)
})
