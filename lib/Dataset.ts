/**
 * Dataset inputs: which data a run read, recorded through MLflow's `runs/log-inputs` so that
 * the MLflow UI lists them in the run's Datasets column. A dataset is known by its name and
 * digest (a short hash of its content, `digestOf` in `lib/system/nodeDigest.ts`); its source
 * says where it came from; the input tag `mlflow.data.context` says what the run did with it
 * (`eval`, `train`, ...).
 *
 * @example
 * import { evaluate, run, memorySink } from 'charmory-track'
 *
 * await run(
 *   evaluate({ experiment: 'cifar10' }, async (r) => {
 *     await r.logInput({ name: 'cifar10-test', digest: '1a2b3c4d', sourceType: 'local', source: '/data/cifar10/test.npz', context: 'eval' })
 *     return { accuracy: 0.9 }
 *   }),
 *   { sink: memorySink() }
 * )
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isRecord, kindOf } from './Arguments.js'
import { describeUnknown, invalidValue, type TrackError } from './Errors.js'
import type { DatasetRecord, Entry } from './Records.js'

export type { DatasetRecord } from './Records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A dataset as a task describes it.
 * @category model
 * @since 0.2.0
 */
export interface DatasetInput {
  /** Up to 500 characters. */
  readonly name: string
  /** Up to 36 characters; MLflow's own digests are 8 hex digits (`digestOf`). */
  readonly digest: string
  /** MLflow's source types: `local`, `http`, `s3`, `gs`, `hugging_face`, `code`, ... */
  readonly sourceType: string
  /** Where it came from: a URI (stored as `{"uri": ...}`, as MLflow's file sources store it), or a record stored as JSON. */
  readonly source: string | Readonly<Record<string, unknown>>
  /** MLflow's schema (a JSON string, or a record stored as JSON). */
  readonly schema?: string | Readonly<Record<string, unknown>>
  /** Summary figures such as `{ "num_rows": 10000 }` (a JSON string, or a record stored as JSON). */
  readonly profile?: string | Readonly<Record<string, unknown>>
  /** The input tag `mlflow.data.context`: what the run did with the data (`eval`, `train`). */
  readonly context?: string
  /** More input tags. */
  readonly tags?: Readonly<Record<string, string>>
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * The input tag saying what a run did with a dataset.
 * @category constants
 * @since 0.2.0
 */
export const CONTEXT_TAG = 'mlflow.data.context'

/**
 * The server's limits on a dataset input (mlflow/utils/validation.py), in characters.
 * @category constants
 * @since 0.2.0
 */
export const DATASET_LIMITS = {
  name: 500,
  digest: 36,
  source: 65535,
  schema: 1048575,
  profile: 16777215,
  tagKey: 255,
  tagValue: 500
} as const

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const jsonField = (
  field: 'source' | 'schema' | 'profile',
  v: string | Readonly<Record<string, unknown>>
): E.Either<TrackError, string> => {
  if (typeof v === 'string') return E.right(field === 'source' ? JSON.stringify({ uri: v }) : v)
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return E.left(invalidValue(`dataset.${field}`, `a ${field} is a string or a record, not ${v === null ? 'null' : typeof v}`))
  }
  try {
    return E.right(JSON.stringify(v))
  } catch (e) {
    return E.left(invalidValue(`dataset.${field}`, `cannot be written as JSON: ${describeUnknown(e)}`))
  }
}

const within = (field: string, value: string, max: number): E.Either<TrackError, void> =>
  value.length > max
    ? E.left(invalidValue(`dataset.${field}`, `at most ${max} characters, got ${value.length}`))
    : E.right(undefined)

/**
 * The record a `DatasetInput` is stored as, or an `InvalidValue` naming the field at fault
 * (`dataset.name`, `dataset.source`, ...): fields must be non-empty strings within the
 * server's limits.
 * @category utils
 * @since 0.2.0
 */
export const datasetRecord = (input: DatasetInput): E.Either<TrackError, DatasetRecord> => {
  if (typeof input !== 'object' || input === null) {
    return E.left(invalidValue('dataset', 'a dataset input is a record with name, digest, sourceType and source'))
  }
  for (const field of ['name', 'digest', 'sourceType'] as const) {
    const v: unknown = input[field]
    if (typeof v !== 'string' || v.trim() === '') {
      return E.left(invalidValue(`dataset.${field}`, `a dataset's ${field} is a non-empty string`))
    }
  }
  const out: { -readonly [K in keyof DatasetRecord]?: DatasetRecord[K] } = {
    name: input.name,
    digest: input.digest,
    sourceType: input.sourceType
  }
  for (const field of ['source', 'schema', 'profile'] as const) {
    const v = input[field]
    if (v === undefined) continue
    const encoded = jsonField(field, v)
    if (E.isLeft(encoded)) return encoded
    out[field] = encoded.right
  }
  if (out.source === undefined) return E.left(invalidValue('dataset.source', "a dataset's source is a URI or a record"))
  const tags: Array<Entry> = []
  if (input.context !== undefined) tags.push([CONTEXT_TAG, input.context])
  const more: unknown = input.tags ?? {}
  if (!isRecord(more)) return E.left(invalidValue('dataset.tags', `a dataset's tags are a record of names to strings, not ${kindOf(more)}`))
  for (const [k, v] of Object.entries(more)) tags.push([k, v as string])
  const record: DatasetRecord = { ...(out as DatasetRecord), tags }
  for (const field of ['name', 'digest', 'source', 'schema', 'profile'] as const) {
    const v = record[field]
    if (v === undefined) continue
    const checked = within(field, v, DATASET_LIMITS[field])
    if (E.isLeft(checked)) return checked
  }
  for (const [k, v] of tags) {
    if (typeof v !== 'string') return E.left(invalidValue(`dataset.tags.${k}`, "an input tag's value is a string"))
    const checked = E.flatMap(() => within(`tags.${k}`, v, DATASET_LIMITS.tagValue))(within('tags', k, DATASET_LIMITS.tagKey))
    if (E.isLeft(checked)) return checked
  }
  return E.right(record)
}
