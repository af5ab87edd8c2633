import t from 'tap'
import fc from 'fast-check'
import assert from 'node:assert'
import { isDeepStrictEqual } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { ParamValue } from 'charmory-track'
import { fieldsRecorder } from '../lib/ParamValue.js'

const one = (value: unknown): string => {
  const entries = ParamValue.toEntries('f', value)
  if (E.isLeft(entries)) throw new Error(`refused: ${JSON.stringify(entries.left)}`)
  if (entries.right.length !== 1 || entries.right[0]?.[0] !== 'f') throw new Error(`not one entry: ${JSON.stringify(entries.right)}`)
  return entries.right[0][1]
}

t.test('scalars', async (t) => {
  t.equal(one('resnet 18'), 'resnet 18')
  t.equal(one(''), '')
  t.equal(one(42), '42')
  t.equal(one(0.5), '0.5')
  t.equal(one(-3), '-3')
  t.equal(one(1e21), '1e+21')
  t.equal(one(NaN), 'NaN')
  t.equal(one(Infinity), 'Infinity')
  t.equal(one(-Infinity), '-Infinity')
  t.equal(one(true), 'true')
  t.equal(one(false), 'false')
  t.equal(one(null), 'null')
  t.equal(one(12345678901234567890123n), '12345678901234567890123')
})

t.test('undefined alone is an InvalidValue naming the key; a field that is undefined was not given', async (t) => {
  t.strictSame(
    ParamValue.toEntries('seed', undefined),
    E.left({ _tag: 'InvalidValue', key: 'seed', reason: 'the value is undefined: record null to say "none", or leave the param out' })
  )
  t.strictSame(ParamValue.toEntries('f', { a: undefined, b: 1 }), E.right([['f.b', '1']]))
})

t.test('a symbol is an InvalidValue naming the key where it was found, alone or nested', async (t) => {
  const reason = 'a symbol (Symbol(seed)) cannot be recorded: record a string'
  t.strictSame(ParamValue.toEntries('seed', Symbol('seed')), E.left({ _tag: 'InvalidValue', key: 'seed', reason }))
  t.strictSame(ParamValue.toEntries('f', { opt: { s: Symbol('seed') } }), E.left({ _tag: 'InvalidValue', key: 'f.opt.s', reason }))
  t.strictSame(ParamValue.toEntries('f', [1, Symbol('seed')]), E.left({ _tag: 'InvalidValue', key: 'f.1', reason }))
  t.strictSame(ParamValue.fieldsToEntries('f', { s: Symbol('seed') }), E.left({ _tag: 'InvalidValue', key: 'f.s', reason }))
})

t.test('a function records its name, alone as inside an options object', async (t) => {
  function relu(): number {
    return 0
  }
  t.equal(one(relu), 'relu')
  t.strictSame(ParamValue.toEntries('f', { activation: relu }), E.right([['f.activation', 'relu']]))
  const anonymous = [(): number => 0][0]
  t.equal(one(anonymous), 'anonymous')
  t.strictSame(ParamValue.toEntries('f', { activation: anonymous }), E.right([['f.activation', 'anonymous']]))
})

t.test('a Date is ISO 8601; an invalid Date is InvalidValue naming where it was found', async (t) => {
  t.equal(one(new Date(Date.UTC(2024, 1, 29, 13, 5, 7, 9))), '2024-02-29T13:05:07.009Z')
  t.strictSame(ParamValue.toEntries('f', new Date(NaN)), E.left({ _tag: 'InvalidValue', key: 'f', reason: 'the Date is invalid' }))
  t.strictSame(
    ParamValue.toEntries('f', { schedule: { start: new Date('not a date') } }),
    E.left({ _tag: 'InvalidValue', key: 'f.schedule.start', reason: 'the Date is invalid' })
  )
  t.strictSame(
    ParamValue.toEntries('f', { dates: [new Date(0), new Date(NaN)] }),
    E.left({ _tag: 'InvalidValue', key: 'f.dates.1', reason: 'the Date is invalid' })
  )
})

t.test('arrays are JSON text, their items converted by the same rules', async (t) => {
  t.equal(one([64, 64, 10]), '[64,64,10]')
  t.equal(one([]), '[]')
  t.equal(one(['a', true, null, [1, [2]]]), '["a",true,null,[1,[2]]]')
  t.equal(one([NaN, Infinity, -Infinity]), '["NaN","Infinity","-Infinity"]')
  t.equal(one([undefined, 1]), '[null,1]', 'a hole is null, as JSON has it')
  t.equal(one([new Date(0)]), '["1970-01-01T00:00:00.000Z"]')
  t.equal(one([{ lr: 0.1, name: 'adam', skip: undefined }]), '[{"lr":0.1,"name":"adam"}]')
  t.equal(one([{}]), '[{}]')
  t.equal(one([7n]), '["7"]')
  t.equal(one([function relu() {}]), '["relu"]')
  t.equal(one([new Float32Array(3)]), '["Float32Array(3)"]')
  class Layer {}
  t.equal(one([new Layer()]), '["Layer"]')
  t.equal(one([{ toJSON: () => ({ units: 3 }) }]), '[{"units":3}]')
  t.equal(one([{ toJSON: () => 'dense' }]), '["dense"]')
  t.equal(one([{ toJSON: () => undefined }]), '[null]', 'as JSON.stringify has it')
})

t.test('arrays of JSON data are recorded exactly as JSON.stringify writes them', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), (value) => {
        assert.deepStrictEqual(ParamValue.toEntries('k', value), E.right([['k', JSON.stringify(value)]]))
      })
    )
  )
})

t.test('plain objects flatten into dotted keys, in field order', async (t) => {
  t.strictSame(
    ParamValue.toEntries('load_model', { name: 'resnet', optimizer: { lr: 0.001, betas: [0.9, 0.999], kind: { name: 'adam' } } }),
    E.right([
      ['load_model.name', 'resnet'],
      ['load_model.optimizer.lr', '0.001'],
      ['load_model.optimizer.betas', '[0.9,0.999]'],
      ['load_model.optimizer.kind.name', 'adam']
    ])
  )
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { depth: 3 })
  t.strictSame(ParamValue.toEntries('f', bare), E.right([['f.depth', '3']]), 'an object without prototype is plain too')
})

t.test('an empty object records {} rather than vanishing', async (t) => {
  t.strictSame(ParamValue.toEntries('f', {}), E.right([['f', '{}']]))
  t.strictSame(ParamValue.toEntries('f', { options: {}, n: 1 }), E.right([['f.options', '{}'], ['f.n', '1']]))
  t.strictSame(ParamValue.toEntries('f', { only: undefined }), E.right([['f', '{}']]))
})

t.test('an object with toJSON records its JSON, a string result as is', async (t) => {
  class Money {
    constructor(readonly cents: number) {}
    toJSON(): string {
      return `${(this.cents / 100).toFixed(2)} EUR`
    }
  }
  t.equal(one(new Money(150)), '1.50 EUR')
  t.equal(one(new URL('https://example.org/data?split=test')), 'https://example.org/data?split=test')
  t.equal(one({ toJSON: () => ({ a: 1, b: [true], c: { toJSON: () => 2 } }) }), '{"a":1,"b":[true],"c":2}')
  t.equal(one({ toJSON: () => 5 }), '5')
  t.equal(one({ toJSON: () => null }), 'null')
  t.equal(one({ toJSON: () => undefined }), 'null')
})

t.test('any other class instance records its class name', async (t) => {
  class TheDataset {
    readonly rows = [1, 2, 3]
  }
  t.equal(one(new TheDataset()), 'TheDataset')
  t.equal(one(new Map([['a', 1]])), 'Map')
  t.equal(one(new Set()), 'Set')
  t.equal(one(/ab+c/), 'RegExp')
  t.equal(one(new (class {})()), 'Object', 'an anonymous class has no name to give')
  t.equal(one(Object.create({ constructor: 'not a function' })), 'Object')
  t.equal(one([Object.create({ constructor: 'not a function' })]), '["Object"]')
})

t.test('a function records its name', async (t) => {
  function loadModel(): void {}
  const relu = (x: number): number => Math.max(0, x)
  t.equal(one(loadModel), 'loadModel')
  t.equal(one(relu), 'relu')
  t.equal(one(class Net {}), 'Net')
  t.equal(one([(() => () => 0)()]), '["anonymous"]')
  t.equal(one((() => () => 0)()), 'anonymous')
})

t.test('binary values record a summary, never their contents', async (t) => {
  t.equal(one(new Float32Array(1024)), 'Float32Array(1024)')
  t.equal(one(new Uint8Array([1, 2, 3])), 'Uint8Array(3)')
  t.equal(one(new BigInt64Array(2)), 'BigInt64Array(2)')
  t.equal(one(Buffer.from('secret weights')), 'Buffer(14)')
  t.equal(one(new ArrayBuffer(16)), 'ArrayBuffer(16)')
  t.equal(one(new SharedArrayBuffer(8)), 'SharedArrayBuffer(8)')
  t.equal(one(new DataView(new ArrayBuffer(12), 4)), 'DataView(8)', 'a view without length gives its byte length')
  t.equal(one({ weights: new Float64Array(5) }.weights), 'Float64Array(5)')
  t.strictSame(ParamValue.toEntries('f', { weights: new Float64Array(5) }), E.right([['f.weights', 'Float64Array(5)']]))
})

t.test('a cycle is InvalidValue naming the path where it closes', async (t) => {
  const reason = 'the value contains a cycle at this path'
  const self: Record<string, unknown> = { name: 'x' }
  self['self'] = self
  t.strictSame(ParamValue.toEntries('f', self), E.left({ _tag: 'InvalidValue', key: 'f.self', reason }))

  const deep: Record<string, unknown> = {}
  deep['a'] = { b: { back: deep } }
  t.strictSame(ParamValue.toEntries('f', deep), E.left({ _tag: 'InvalidValue', key: 'f.a.b.back', reason }))

  const list: Array<unknown> = [1]
  list.push(list)
  t.strictSame(ParamValue.toEntries('f', { list }), E.left({ _tag: 'InvalidValue', key: 'f.list.1', reason }))

  const inArray: Record<string, unknown> = {}
  inArray['items'] = [{ parent: inArray }]
  t.strictSame(ParamValue.toEntries('f', inArray), E.left({ _tag: 'InvalidValue', key: 'f.items.0.parent', reason }))

  const selfJSON = { toJSON: (): unknown => selfJSON }
  t.strictSame(ParamValue.toEntries('f', selfJSON), E.left({ _tag: 'InvalidValue', key: 'f', reason }))
})

t.test('the same object twice is not a cycle', async (t) => {
  const shared = { lr: 0.1 }
  t.strictSame(
    ParamValue.toEntries('f', { a: shared, b: shared, c: [shared, shared] }),
    E.right([['f.a.lr', '0.1'], ['f.b.lr', '0.1'], ['f.c', '[{"lr":0.1},{"lr":0.1}]']])
  )
})

t.test('every key produced is checked against MLflow rules', async (t) => {
  t.strictSame(
    ParamValue.toEntries('f', { 'bad//name': 1 }),
    E.left({ _tag: 'InvalidKey', key: 'f.bad//name', reason: 'a key cannot start or end with "/" or contain "//"' })
  )
  t.match(ParamValue.toEntries('f', { nested: { ['x'.repeat(250)]: 1 } }), E.left({ _tag: 'InvalidKey', key: `f.nested.${'x'.repeat(250)}` }))
  t.match(ParamValue.toEntries('a,b', 1), E.left({ _tag: 'InvalidKey', key: 'a,b' }))
  t.match(ParamValue.toEntries('a,b', undefined), E.left({ _tag: 'InvalidValue', key: 'a,b' }), 'undefined is refused before the key')
})

t.test('a value that throws while it is read is InvalidValue, not an exception', async (t) => {
  const getter = {
    get broken(): number {
      throw new Error('lazy field failed')
    }
  }
  t.strictSame(
    ParamValue.toEntries('f', { inner: getter }),
    E.left({ _tag: 'InvalidValue', key: 'f', reason: 'reading the value threw: lazy field failed' })
  )
  t.strictSame(
    ParamValue.toEntries('g', {
      toJSON: () => {
        throw 'no JSON today'
      }
    }),
    E.left({ _tag: 'InvalidValue', key: 'g', reason: 'reading the value threw: no JSON today' })
  )
})

t.test('the recorded strings do not follow later mutation of the value', async (t) => {
  const options = { layers: [64, 64], optimizer: { lr: 0.1 } }
  const recorded = ParamValue.toEntries('f', options)
  options.layers.push(10)
  options.optimizer.lr = 0.5
  t.strictSame(recorded, E.right([['f.layers', '[64,64]'], ['f.optimizer.lr', '0.1']]))
})

t.test('fieldsToEntries records each field under the prefix, skipping ignored names exactly', async (t) => {
  const expected: ReadonlyArray<ParamValue.Entry> = [['f.b', '7']]
  t.strictSame(ParamValue.fieldsToEntries('f', { b: 7, c: 'x' }, ['c']), E.right(expected))
  t.strictSame(
    ParamValue.fieldsToEntries('f', { c: 1, cc: 2, c_1: 3 }, ['c']),
    E.right([['f.cc', '2'], ['f.c_1', '3']]),
    'an ignored name removes only that exact field'
  )
  t.strictSame(ParamValue.fieldsToEntries('f', { a: undefined, b: null }), E.right([['f.b', 'null']]))
  t.strictSame(ParamValue.fieldsToEntries('f', {}), E.right([]))
  t.strictSame(
    ParamValue.fieldsToEntries('f', { ok: 1, when: new Date(NaN), later: 2 }),
    E.left({ _tag: 'InvalidValue', key: 'f.when', reason: 'the Date is invalid' })
  )
})

t.test('secrets are recorded as *** under their own name, and everything under them', async (t) => {
  t.strictSame(
    ParamValue.toEntries('connect', { host: 'db', password: 'hunter2', hf_token: 'hf_x', apiKey: 'k', max_tokens: 256, tokenizer: 'bpe' }),
    E.right([
      ['connect.host', 'db'],
      ['connect.password', '***'],
      ['connect.hf_token', '***'],
      ['connect.apiKey', '***'],
      ['connect.max_tokens', '256'],
      ['connect.tokenizer', 'bpe']
    ])
  )
  t.strictSame(
    ParamValue.toEntries('f', { credentials: { user: 'ann', pass: 'x' }, private_key: ['a', 'b'], authToken: null }),
    E.right([
      ['f.credentials.user', '***'],
      ['f.credentials.pass', '***'],
      ['f.private_key', '***'],
      ['f.authToken', '***']
    ])
  )
  t.strictSame(ParamValue.toEntries('db_password', 'hunter2'), E.right([['db_password', '***']]), 'a manual param by its key')
  t.strictSame(ParamValue.toEntries('get_token.name', 'x'), E.right([['get_token.name', 'x']]), 'only the last part of a key counts')
  for (const name of ['password', 'DB_PASSWORD', 'dbPassword', 'hf-token', 'secret', 'client_secret', 'access key', 'passwd']) {
    t.ok(ParamValue.isSecretName(name), name)
  }
  for (const name of ['max_tokens', 'tokenizer', 'tokens', 'key', 'api', 'passes', 'author']) {
    t.notOk(ParamValue.isSecretName(name), name)
  }
})

t.test('a recorder (what a wrapped function uses) answers exactly as ParamValue.fieldsToEntries, call after call', async (t) => {
  // It remembers what it learnt of each field name; that must never change an answer, for
  // valid, invalid, ignored and secret names alike, nor once it has stopped remembering.
  const name = fc.constantFrom('lr', 'api_token', 'skip', 'bad,name', 'nested', 'n0', 'n1')
  const value = fc.oneof(
    fc.integer(),
    fc.string(),
    fc.constant(undefined),
    fc.constant(new Date(NaN)),
    fc.record({ x: fc.integer(), password: fc.string() })
  )
  const calls = fc.array(fc.dictionary(name, value, { maxKeys: 4 }), { maxLength: 12 })
  const same = fc.property(calls, (cs) => {
    const record = fieldsRecorder('f', ['skip'])
    return cs.every((c) => isDeepStrictEqual(record(c), ParamValue.fieldsToEntries('f', c, ['skip'])))
  })
  t.doesNotThrow(() => fc.assert(same, { numRuns: 300 }))

  const record = fieldsRecorder('f')
  const manyNames = Array.from({ length: 300 }, (_, i) => `n${i}`)
  for (const round of [1, 2]) {
    const answers = manyNames.map((n, i) => record({ [n]: i, 'bad,key': i === 299 ? 1 : undefined }))
    t.strictSame(answers.slice(0, 299), manyNames.slice(0, 299).map((n, i) => E.right([[`f.${n}`, String(i)]])), `round ${round}`)
    t.strictSame(answers[299], E.left({ _tag: 'InvalidKey', key: 'f.bad,key', reason: 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed' }))
  }
})
