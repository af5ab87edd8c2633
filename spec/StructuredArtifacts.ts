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
  t.match(S.tableJson([{ a: 1n, f: () => 1 }]), E.right('{"columns":["a","f"],"data":[["1",null]]}'))
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
