// Dataset inputs as sinks receive them: sources as JSON, the context tag, every field checked.
import t from 'tap'
import { DatasetRecordCodec } from '../lib/Records.js'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, Dataset } from 'charmory-track'

const base: Dataset.DatasetInput = { name: 'cifar10-test', digest: '1a2b3c4d', sourceType: 'local', source: '/data/test.npz' }

t.test('a dataset input becomes the record MLflow stores', async (t) => {
  t.strictSame(Dataset.datasetRecord(base), E.right({ name: 'cifar10-test', digest: '1a2b3c4d', sourceType: 'local', source: '{"uri":"/data/test.npz"}', tags: [] }))
  t.strictSame(
    Dataset.datasetRecord({
      ...base,
      source: { repo: 'uoft-cs/cifar10', split: 'test' },
      schema: '{"mlflow_colspec": []}',
      profile: { num_rows: 10000 },
      context: 'eval',
      tags: { owner: 'vision' }
    }),
    E.right({
      name: 'cifar10-test',
      digest: '1a2b3c4d',
      sourceType: 'local',
      source: '{"repo":"uoft-cs/cifar10","split":"test"}',
      schema: '{"mlflow_colspec": []}',
      profile: '{"num_rows":10000}',
      tags: [
        ['mlflow.data.context', 'eval'],
        ['owner', 'vision']
      ]
    })
  )
  t.ok(DatasetRecordCodec.is(E.isRight(Dataset.datasetRecord(base)) ? (Dataset.datasetRecord(base) as E.Right<unknown>).right : undefined))
})

t.test('every bad field is named', async (t) => {
  const bad = (input: unknown, key: string): void => {
    const r = Dataset.datasetRecord(input as Dataset.DatasetInput)
    t.match(r, { left: { _tag: 'InvalidValue', key } }, key)
    if (E.isLeft(r)) t.match(Errors.describeError(r.left), key)
  }
  bad(null, 'dataset')
  bad('x', 'dataset')
  bad({ ...base, name: '' }, 'dataset.name')
  bad({ ...base, digest: 3 }, 'dataset.digest')
  bad({ ...base, sourceType: ' ' }, 'dataset.sourceType')
  bad({ ...base, source: undefined }, 'dataset.source')
  bad({ ...base, source: 3 }, 'dataset.source')
  bad({ ...base, schema: null }, 'dataset.schema')
  bad({ ...base, profile: ['a'] }, 'dataset.profile')
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  bad({ ...base, profile: cyclic }, 'dataset.profile')
  bad({ ...base, profile: { n: 1n } }, 'dataset.profile')
  bad({ ...base, profile: { toJSON: () => { throw 'no' } } }, 'dataset.profile')
  bad({ ...base, name: 'n'.repeat(501) }, 'dataset.name')
  bad({ ...base, digest: 'd'.repeat(37) }, 'dataset.digest')
  bad({ ...base, source: 's'.repeat(70000) }, 'dataset.source')
  bad({ ...base, context: 'c'.repeat(501) }, 'dataset.tags.mlflow.data.context')
  bad({ ...base, tags: { ['k'.repeat(256)]: 'v' } }, 'dataset.tags')
  bad({ ...base, tags: { k: 1 } }, 'dataset.tags.k')
  t.ok(E.isRight(Dataset.datasetRecord({ ...base, schema: 's'.repeat(1000) })))
})
