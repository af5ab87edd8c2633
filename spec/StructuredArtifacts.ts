// The bytes of structured artifacts: JSON and YAML dictionaries, tables in log_table's
// layout, the mlflow.loggedArtifacts tag, extension checks.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { StructuredArtifacts as S } from 'charmory-track'

t.test('toJson: plain JSON, bigints and non-finite numbers as strings, failures named', async (t) => {
  t.strictSame(S.toJson('k', { a: 1n, b: NaN, c: -Infinity, d: new Date(0), e: undefined }), E.right({ a: '1', b: 'NaN', c: '-Infinity', d: '1970-01-01T00:00:00.000Z' }))
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  t.match(S.toJson('cfg.json', cyclic), { left: { _tag: 'InvalidValue', key: 'cfg.json', reason: /cannot be written as JSON/ } })
  t.match(S.toJson('f', () => 1), { left: { _tag: 'InvalidValue', key: 'f', reason: /function has no JSON form/ } })
  t.match(S.toJson('s', Symbol('x')), { left: { _tag: 'InvalidValue' } })
  // JSON.stringify drops a function or symbol field without a word; refused, naming the field
  t.match(S.toJson('cfg.json', { a: 1, cb: () => 1 }), { left: { key: 'cfg.json', reason: /the field "cb" is a function/ } })
  t.match(S.toJson('cfg.json', { nested: { s: Symbol('x') } }), { left: { key: 'cfg.json', reason: /the field "s" is a symbol/ } })
  t.match(S.toJson('cfg.json', [1, () => 1]), { left: { reason: /the field "1" is a function/ } })
  const throwing = { toJSON: () => { throw 'nope' } }
  t.match(S.toJson('t', throwing), { left: { reason: 'cannot be written as JSON: nope' } })
})

t.test('YAML: block style, quoted where a plain scalar would be misread', async (t) => {
  t.equal(S.yamlOf(null), 'null\n')
  t.equal(S.yamlOf([]), '[]\n')
  t.equal(S.yamlOf({ a: { b: [1, 'two', 'yes', { c: [] }, [true]] }, 'x y': {}, s: '' }), [
    'a:',
    '  b:',
    '    - 1',
    '    - two',
    '    - "yes"',
    '    -',
    '      c: []',
    '    -',
    '      - true',
    '"x y": {}',
    's: ""',
    ''
  ].join('\n'))
  t.strictSame(S.dictText('conf/a.YML', { k: 'v' }), E.right('k: v\n'))
  t.strictSame(S.dictText('conf/a.yaml', { k: 'v' }), E.right('k: v\n'))
  t.strictSame(S.dictText('conf/a.json', { k: 'v' }), E.right('{\n  "k": "v"\n}'))
  t.strictSame(S.dictText('conf/.yaml', { k: 'v' }), E.right('{\n  "k": "v"\n}'), 'a dot file has no extension')
  t.strictSame(S.dictText('noext', [1]), E.right('[\n  1\n]'))
  t.ok(E.isLeft(S.dictText('x.yaml', () => 1)))
})

t.test('tables: rows or columns, in pandas split layout', async (t) => {
  t.strictSame(S.tableJson([{ a: 1, b: 'x' }, { b: 'y', c: null }]), E.right('{"columns":["a","b","c"],"data":[[1,"x",null],[null,"y",null]]}'))
  t.strictSame(S.tableJson({ a: [1, 2], b: ['x', undefined] }), E.right('{"columns":["a","b"],"data":[[1,"x"],[2,null]]}'))
  t.strictSame(S.tableJson({}), E.right('{"columns":[],"data":[]}'))
  t.strictSame(S.tableJson([]), E.right('{"columns":[],"data":[]}'))
  t.match(S.tableJson([{ a: 1 }, 3 as unknown as Record<string, unknown>]), { left: { _tag: 'InvalidValue', key: 'rows/1' } })
  t.match(S.tableJson([null as unknown as Record<string, unknown>]), { left: { key: 'rows/0' } })
  t.match(S.tableJson([[1] as unknown as Record<string, unknown>]), { left: { key: 'rows/0' } })
  t.match(S.tableJson({ a: [1], b: [1, 2] }), { left: { _tag: 'InvalidValue', key: 'columns' } })
  t.match(S.tableJson({ a: 1 } as unknown as Record<string, Array<unknown>>), { left: { key: 'columns' } })
  t.strictSame(S.tableJson([{ a: 1n }]), E.right('{"columns":["a"],"data":[["1"]]}'))
  // JSON.stringify would write a function cell as null: refused, as README says
  t.match(S.tableJson([{ a: 1n, f: () => 1 }]), { left: { _tag: 'InvalidValue', key: 'table', reason: /is a function/ } })
  t.strictSame(
    S.tableJson([{ constructor: 1 }, { toString: 2 }]),
    E.right('{"columns":["constructor","toString"],"data":[[1,null],[null,2]]}'),
    'a row without a prototype-named column has no cell there'
  )
})

t.test('mlflow.loggedArtifacts: appended once per path, in Python json.dumps layout', async (t) => {
  const one = S.loggedArtifactsWith(undefined, 'eval/table.json')
  t.equal(one, '[{"path": "eval/table.json", "type": "table"}]')
  t.equal(S.loggedArtifactsWith(one, 'eval/table.json'), one)
  t.equal(S.loggedArtifactsWith(one, 'b.json'), '[{"path": "eval/table.json", "type": "table"}, {"path": "b.json", "type": "table"}]')
  t.equal(S.loggedArtifactsWith('not json', 'a.json'), '[{"path": "a.json", "type": "table"}]')
  t.equal(S.loggedArtifactsWith('{"a":1}', 'a.json'), '[{"path": "a.json", "type": "table"}]')
  t.equal(S.loggedArtifactsWith('[1, null, {"path": 2}, {"path": "i.png", "type": "image"}]', 'a.json'), '[{"path": "i.png", "type": "image"}, {"path": "a.json", "type": "table"}]')
  t.strictSame(S.checkExtension('a/b.PNG', S.IMAGE_EXTENSIONS, 'an image'), E.right('a/b.PNG'))
  t.match(S.checkExtension('a/b.csv', ['.json'], 'a table'), { left: { _tag: 'InvalidValue', key: 'a/b.csv', reason: /a table is stored at a path ending with .json/ } })
  t.equal(S.RESULTS_ARTIFACT, 'results.json')
})

t.test('an image must begin as its extension says (SVG, which is text, is not checked)', async (t) => {
  const bytes = (...b: ReadonlyArray<number | string>): Uint8Array =>
    Uint8Array.from(b.flatMap((x) => (typeof x === 'string' ? Array.from(x, (c) => c.charCodeAt(0)) : [x])))
  const good: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['a.png', bytes(0x89, 'PNG\r\n', 0x1a, '\n', 0)],
    ['a.JPG', bytes(0xff, 0xd8, 0xff, 0xe0)],
    ['a.jpeg', bytes(0xff, 0xd8, 0xff, 0xdb)],
    ['a.gif', bytes('GIF89a', 1)],
    ['a.gif', bytes('GIF87a')],
    ['a.bmp', bytes('BM', 0, 0)],
    ['a.webp', bytes('RIFF', 1, 2, 3, 4, 'WEBPVP8 ')],
    ['a.tif', bytes('II*', 0, 8)],
    ['a.tiff', bytes('MM', 0, '*')],
    ['a.svg', bytes('no signature to check')]
  ]
  for (const [path, b] of good) t.strictSame(S.checkImage(path, b), E.right(b), path)
  const bad: ReadonlyArray<readonly [string, Uint8Array, string]> = [
    ['x.png', bytes('not a png at all'), 'PNG'],
    ['x.png', bytes(0x89, 'PN'), 'PNG'],
    ['x.jpg', bytes(0x89, 'PNG\r\n', 0x1a, '\n'), 'JPEG'],
    ['x.gif', bytes('GIF90a'), 'GIF'],
    ['x.bmp', new Uint8Array(0), 'BMP'],
    ['x.webp', bytes('RIFF', 1, 2, 3, 4, 'WAVE'), 'WebP'],
    ['x.tiff', bytes('II', 0, '*'), 'TIFF']
  ]
  for (const [path, b, format] of bad) {
    t.strictSame(S.checkImage(path, b), E.left({ _tag: 'InvalidValue', key: path, reason: `the bytes are not a ${format} image (they do not begin as one)` }), `${path}: ${format}`)
  }
})
