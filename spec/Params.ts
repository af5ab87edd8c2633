import t from 'tap'
import fc from 'fast-check'
import assert from 'node:assert'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Params, type ParamValue } from 'charmory-track'

t.test('set, lookup, size and toRecord', async (t) => {
  const p = pipe(Params.empty, Params.set('f.x', '1'), Params.set('g.y', '2'))
  t.strictSame(Params.lookup('f.x')(p), O.some('1'))
  t.strictSame(Params.lookup('nope')(p), O.none)
  t.equal(Params.size(p), 2)
  t.strictSame(Params.toRecord(p), { 'f.x': '1', 'g.y': '2' })
  t.strictSame(Params.toEntries(Params.empty), [])
})

t.test('an overwritten key keeps its place; a removed and re-added key goes last', async (t) => {
  const p = pipe(Params.empty, Params.set('a', '1'), Params.set('b', '2'), Params.set('c', '3'))
  t.strictSame(Params.toEntries(Params.set('a', '9')(p)), [['a', '9'], ['b', '2'], ['c', '3']])
  t.strictSame(Params.toEntries(pipe(p, Params.remove('a'), Params.set('a', '1'))), [['b', '2'], ['c', '3'], ['a', '1']])
})

t.test('setting a key to the value it has changes nothing', async (t) => {
  const p = pipe(Params.empty, Params.set('a', '1'), Params.set('b', '2'))
  t.strictSame(Params.toEntries(Params.set('a', '1')(p)), [['a', '1'], ['b', '2']])
})

t.test('remove a key; removing a missing key changes nothing', async (t) => {
  const p = Params.fromEntries([['a', '1'], ['b', '2']])
  t.strictSame(Params.toRecord(Params.remove('a')(p)), { b: '2' })
  t.strictSame(Params.toRecord(Params.remove('zzz')(p)), { a: '1', b: '2' })
})

t.test('removePrefix and keysUnder see only keys under "prefix."', async (t) => {
  const p = Params.fromEntries([
    ['f.x', '1'],
    ['f.y.z', '2'],
    ['f', '3'],
    ['fx', '4'],
    ['g.f.x', '5']
  ])
  t.strictSame(Params.keysUnder('f')(p), ['f.x', 'f.y.z'])
  t.strictSame(Params.keysUnder('f.y')(p), ['f.y.z'])
  t.strictSame(Params.keysUnder('h')(p), [])
  t.strictSame(Params.toEntries(Params.removePrefix('f')(p)), [['f', '3'], ['fx', '4'], ['g.f.x', '5']])
})

t.test('setAll sets entries in order; fromEntries starts from nothing', async (t) => {
  const p = Params.fromEntries([['a', '1']])
  t.strictSame(Params.toEntries(Params.setAll([['b', '2'], ['a', '3'], ['c', '4']])(p)), [['a', '3'], ['b', '2'], ['c', '4']])
  t.strictSame(Params.toEntries(Params.fromEntries([['x', '1'], ['x', '2']])), [['x', '2']])
})

t.test('every version stays as it was: writes to an old version do not touch newer ones', async (t) => {
  const v0 = Params.empty
  const v1 = Params.set('a', '1')(v0)
  const v2 = Params.set('b', '2')(v1)
  const v1b = Params.set('c', '3')(v1)
  const v2b = Params.remove('a')(v2)
  t.strictSame(Params.toRecord(v0), {})
  t.strictSame(Params.toRecord(v1), { a: '1' })
  t.strictSame(Params.toRecord(v2), { a: '1', b: '2' })
  t.strictSame(Params.toRecord(v1b), { a: '1', c: '3' })
  t.strictSame(Params.toRecord(v2b), { b: '2' })
  t.strictSame(Params.toRecord(v1), { a: '1' })
})

t.test('a long chain of versions: the first and the last are both intact', async (t) => {
  const versions = [Params.empty]
  for (let i = 0; i < 5000; i++) versions.push(Params.set(`k${i % 50}`, String(i))(versions[versions.length - 1] as Params.Params))
  const last = versions[versions.length - 1] as Params.Params
  t.equal(Params.size(last), 50)
  t.strictSame(Params.lookup('k0')(last), O.some('4950'))
  t.strictSame(Params.toEntries(versions[1] as Params.Params), [['k0', '0']])
  t.strictSame(Params.lookup('k49')(last), O.some('4999'))
  t.strictSame(Params.keysUnder('k1')(versions[2500] as Params.Params), [])
})

t.test('empty and fresh hold nothing, and fresh tables are independent', async (t) => {
  const a = Params.empty
  const b = Params.empty
  Params.set('x', '1')(a)
  t.equal(Params.size(a), 0)
  t.equal(Params.size(b), 0)
  t.equal(Params.size(Params.empty), 0)
})

// -------------------------------------------------------------------------------------
// model-based: any sequence of operations, each applied to any earlier version, behaves like
// a naive copy-on-write Map (JS Maps keep insertion order and an overwritten key's place)
// -------------------------------------------------------------------------------------

type Op =
  | { readonly op: 'set'; readonly from: number; readonly key: string; readonly value: string }
  | { readonly op: 'remove'; readonly from: number; readonly key: string }
  | { readonly op: 'removePrefix'; readonly from: number; readonly prefix: string }
  | { readonly op: 'setAll'; readonly from: number; readonly entries: ReadonlyArray<ParamValue.Entry> }
  | { readonly op: 'check'; readonly from: number }

const keys = ['a', 'b', 'a.b', 'a.c', 'a.b.c', 'ab', 'b.a', 'a.']
const key = fc.constantFrom(...keys)
const prefix = fc.constantFrom('a', 'a.b', 'b', 'ab', 'c')
const value = fc.constantFrom('1', '2', '3')
const from = fc.nat()
const entry = fc.tuple(key, value).map((e): ParamValue.Entry => e)

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), from, key, value }),
  fc.record({ op: fc.constant('remove' as const), from, key }),
  fc.record({ op: fc.constant('removePrefix' as const), from, prefix }),
  fc.record({ op: fc.constant('setAll' as const), from, entries: fc.array(entry, { maxLength: 4 }) }),
  fc.record({ op: fc.constant('check' as const), from })
)

type Model = ReadonlyMap<string, string>

const applyModel = (m: Model, o: Op): Model => {
  const next = new Map(m)
  switch (o.op) {
    case 'set':
      next.set(o.key, o.value)
      break
    case 'remove':
      next.delete(o.key)
      break
    case 'removePrefix':
      for (const k of m.keys()) if (k.startsWith(`${o.prefix}.`)) next.delete(k)
      break
    case 'setAll':
      for (const [k, v] of o.entries) next.set(k, v)
      break
    case 'check':
      break
  }
  return next
}

const applyParams = (p: Params.Params, o: Op): Params.Params => {
  switch (o.op) {
    case 'set':
      return Params.set(o.key, o.value)(p)
    case 'remove':
      return Params.remove(o.key)(p)
    case 'removePrefix':
      return Params.removePrefix(o.prefix)(p)
    case 'setAll':
      return Params.setAll(o.entries)(p)
    case 'check':
      return p
  }
}

const same = (p: Params.Params, m: Model): void => {
  assert.deepStrictEqual(Params.toEntries(p), [...m])
  assert.strictEqual(Params.size(p), m.size)
  for (const k of keys) {
    assert.deepStrictEqual(Params.lookup(k)(p), O.fromNullable(m.get(k)))
  }
  assert.deepStrictEqual(
    Params.keysUnder('a')(p).slice().sort(),
    [...m.keys()].filter((k) => k.startsWith('a.')).sort()
  )
}

t.test('persistence: random operations on random older versions match a copy-on-write Map', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const versions: Array<Params.Params> = [Params.empty]
        const models: Array<Model> = [new Map()]
        for (const o of ops) {
          const i = o.from % versions.length
          if (o.op === 'check') {
            same(versions[i] as Params.Params, models[i] as Model)
            continue
          }
          versions.push(applyParams(versions[i] as Params.Params, o))
          models.push(applyModel(models[i] as Model, o))
        }
        versions.forEach((v, i) => same(v, models[i] as Model))
        // and again in reverse, so that every version is reached from every side
        for (let i = versions.length - 1; i >= 0; i--) same(versions[i] as Params.Params, models[i] as Model)
      }),
      { numRuns: 300 }
    )
  )
})
