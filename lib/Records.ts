/**
 * The records every sink keeps, in MLflow's vocabulary: key/value entries (params and tags),
 * metric points, run statuses, the request that opens a run, dataset inputs. They sit below
 * every sink and the pure core, with the io-ts codecs the sinks share for the values JSON cannot
 * hold as such (a metric's NaN and infinities) and for a run's status.
 *
 * @since 0.3.0
 */
import * as t from 'io-ts/lib/index.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One recorded param or tag: a key and its MLflow string value.
 * @category model
 * @since 0.1.0
 */
export type Entry = readonly [key: string, value: string]

/**
 * MLflow's run statuses.
 * @category model
 * @since 0.1.0
 */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED'

/**
 * One metric point. `timestamp` is milliseconds since the epoch; `step` defaults to 0.
 * @category model
 * @since 0.1.0
 */
export interface Metric {
  readonly key: string
  readonly value: number
  readonly timestamp: number
  readonly step: number
}

/**
 * What a new run starts with. `runId` is the id the caller proposes, taken by the sinks that let
 * the caller choose (memory, local); an MLflow server makes its own.
 * @category model
 * @since 0.1.0
 */
export interface RunRequest {
  readonly experimentId: string
  readonly runName: string
  readonly startTime: number
  readonly tags: ReadonlyArray<Entry>
  /** Since 0.3.0. */
  readonly runId?: string
}

/**
 * A dataset input as sinks receive it and MLflow stores it: `source`, `schema` and `profile`
 * are JSON strings, the context is among the tags.
 * @category model
 * @since 0.2.0
 */
export interface DatasetRecord {
  readonly name: string
  readonly digest: string
  readonly sourceType: string
  readonly source: string
  readonly schema?: string
  readonly profile?: string
  readonly tags: ReadonlyArray<Entry>
}

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * A run's status, as MLflow writes it.
 * @category codecs
 * @since 0.1.0
 */
export const RunStatusCodec: t.Type<RunStatus, RunStatus, unknown> = t.keyof({ RUNNING: null, SCHEDULED: null, FINISHED: null, FAILED: null, KILLED: null })

const nonFinite: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }

/**
 * A metric value: a JSON number, or the words `"NaN"`, `"Infinity"`, `"-Infinity"` in which
 * protobuf JSON (and the local journal) write the values JSON has no number for.
 * @category codecs
 * @since 0.1.0
 */
export const MetricValue = new t.Type<number, number | string, unknown>(
  'MetricValue',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u)
    const n = typeof u === 'string' && Object.hasOwn(nonFinite, u) ? nonFinite[u] : undefined
    return n === undefined ? t.failure(u, c) : t.success(n)
  },
  (n) => (Number.isFinite(n) ? n : String(n))
)

/**
 * A key/value entry as a JSON pair `[key, value]`.
 * @category codecs
 * @since 0.3.0
 */
export const EntryCodec: t.Type<Entry, Entry, unknown> = t.readonly(t.tuple([t.string, t.string]))

/**
 * A `DatasetRecord` in JSON (the local store's journal).
 * @category codecs
 * @since 0.2.0
 */
export const DatasetRecordCodec: t.Type<DatasetRecord, DatasetRecord, unknown> = t.intersection([
  t.type({
    name: t.string,
    digest: t.string,
    sourceType: t.string,
    source: t.string,
    tags: t.readonlyArray(EntryCodec)
  }),
  t.partial({ schema: t.string, profile: t.string })
])
