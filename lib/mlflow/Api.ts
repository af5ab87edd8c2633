/**
 * The MLflow REST endpoints the sink uses, each with the io-ts codec of its answer. Empty
 * fields are omitted by the server, so arrays are optional and read as empty; int64 fields
 * are accepted as numbers or decimal strings; metric values as numbers or the protobuf-JSON
 * words `NaN`, `Infinity`, `-Infinity`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import type { TrackError } from '../Errors.js'
import type { DatasetRecord } from '../Dataset.js'
import type { Entry } from '../ParamValue.js'
import type { Metric, RunStatus } from '../Sink.js'
import type { HttpClient } from './Http.js'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Decodes an int64 field (a timestamp, a step), which protobuf JSON may write as a number or
 * as decimal text.
 * @category codecs
 * @since 0.1.0
 */
export const Int64 = new t.Type<number, number, unknown>(
  'int64',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^-?\d+$/.test(u) ? Number(u) : u
    return typeof n === 'number' && Number.isInteger(n) ? t.success(n) : t.failure(u, c)
  },
  (n) => n
)

/**
 * Decodes and encodes a metric value: a number, or the words `NaN`, `Infinity` and
 * `-Infinity` in which protobuf JSON writes the values JSON cannot hold.
 * @category codecs
 * @since 0.1.0
 */
export const Double = new t.Type<number, number | string, unknown>(
  'double',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u)
    if (u === 'NaN') return t.success(NaN)
    if (u === 'Infinity') return t.success(Infinity)
    if (u === '-Infinity') return t.success(-Infinity)
    return t.failure(u, c)
  },
  (n) => (Number.isFinite(n) ? n : String(n))
)

/**
 * Decodes a run's status as the server writes it: `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED`
 * or `KILLED`.
 * @category codecs
 * @since 0.1.0
 */
export const RunStatusCodec = t.keyof({ RUNNING: null, SCHEDULED: null, FINISHED: null, FAILED: null, KILLED: null })

/**
 * Decodes a param or a tag as the server writes it: `{ key, value }`.
 * @category codecs
 * @since 0.1.0
 */
export const KeyValue = t.type({ key: t.string, value: t.string })

/**
 * Decodes one metric point as the server writes it; a left-out `step` means step 0.
 * @category codecs
 * @since 0.1.0
 */
export const MetricCodec = t.intersection([
  t.type({ key: t.string, value: Double, timestamp: Int64 }),
  t.partial({ step: Int64 })
])

/**
 * Decodes a run's `info`: its id, experiment, status, name, artifact location and times.
 * @category codecs
 * @since 0.1.0
 */
export const RunInfo = t.intersection([
  t.type({ run_id: t.string, experiment_id: t.string, status: RunStatusCodec }),
  t.partial({
    run_name: t.string,
    artifact_uri: t.string,
    start_time: Int64,
    end_time: Int64,
    lifecycle_stage: t.string,
    user_id: t.string
  })
])

/**
 * Decodes a run's `data`: its params, latest metric values and tags; the server leaves empty
 * arrays out.
 * @category codecs
 * @since 0.1.0
 */
export const RunData = t.partial({ params: t.array(KeyValue), metrics: t.array(MetricCodec), tags: t.array(KeyValue) })

/**
 * Decodes a whole run (`info` and `data`) as `runs/get` answers it.
 * @category codecs
 * @since 0.1.0
 */
export const Run = t.type({ info: RunInfo, data: RunData })

const ExperimentAnswer = t.type({ experiment: t.type({ experiment_id: t.string, name: t.string }) })
const CreateExperimentAnswer = t.type({ experiment_id: t.string })
const RunAnswer = t.type({ run: t.type({ info: RunInfo }) })
const GetRunAnswer = t.type({ run: Run })
const Empty = t.UnknownRecord
const HistoryAnswer = t.partial({ metrics: t.array(MetricCodec), next_page_token: t.string })

/**
 * Decodes a `runs/search` answer: a page of runs and the next page's token; the server leaves
 * out an empty list and the last page's token.
 * @category codecs
 * @since 0.2.0
 */
export const SearchRunsAnswer = t.partial({ runs: t.array(Run), next_page_token: t.string })

/**
 * Decodes an experiment as `experiments/search` answers it: its id, name, times and tags.
 * @category codecs
 * @since 0.2.0
 */
export const Experiment = t.intersection([
  t.type({ experiment_id: t.string, name: t.string }),
  t.partial({ creation_time: Int64, last_update_time: Int64, tags: t.array(KeyValue), lifecycle_stage: t.string })
])

/**
 * Decodes an `experiments/search` answer: a page of experiments and the next page's token.
 * @category codecs
 * @since 0.2.0
 */
export const SearchExperimentsAnswer = t.partial({ experiments: t.array(Experiment), next_page_token: t.string })

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A run's `info`, decoded by the codec `RunInfo`.
 * @category model
 * @since 0.1.0
 */
export type RunInfo = t.TypeOf<typeof RunInfo>
/**
 * A whole run, decoded by the codec `Run`.
 * @category model
 * @since 0.1.0
 */
export type Run = t.TypeOf<typeof Run>
/**
 * An experiment as the server describes it, decoded by the codec `Experiment`.
 * @category model
 * @since 0.2.0
 */
export type Experiment = t.TypeOf<typeof Experiment>

// -------------------------------------------------------------------------------------
// endpoints
// -------------------------------------------------------------------------------------

const kv = (entries: ReadonlyArray<Entry>) => entries.map(([key, value]) => ({ key, value }))

/**
 * The JSON the server expects for a metric point, with NaN and the infinities as words.
 * @category endpoints
 * @since 0.1.0
 */
export const metricJson = (m: Metric) => ({
  key: m.key,
  value: Number.isFinite(m.value) ? m.value : String(m.value),
  timestamp: m.timestamp,
  step: m.step
})

/**
 * Finds an experiment by its name (`GET experiments/get-by-name`) and yields its id; a
 * missing experiment is the server's `RESOURCE_DOES_NOT_EXIST` error.
 * @category endpoints
 * @since 0.1.0
 */
export const getExperimentByName = (http: HttpClient, name: string): TE.TaskEither<TrackError, string> =>
  pipe(
    http.json('GET', 'mlflow/experiments/get-by-name', { experiment_name: name }, ExperimentAnswer),
    TE.map((a) => a.experiment.experiment_id)
  )

/**
 * Creates an experiment (`POST experiments/create`) and yields its id.
 * @category endpoints
 * @since 0.1.0
 */
export const createExperiment = (http: HttpClient, name: string): TE.TaskEither<TrackError, string> =>
  pipe(
    http.json('POST', 'mlflow/experiments/create', { name }, CreateExperimentAnswer),
    TE.map((a) => a.experiment_id)
  )

/**
 * Creates a run (`POST runs/create`) and yields its `info`; the run's user is taken from its
 * `mlflow.user` tag.
 * @category endpoints
 * @since 0.1.0
 */
export const createRun = (
  http: HttpClient,
  request: { experimentId: string; runName: string; startTime: number; tags: ReadonlyArray<Entry> }
): TE.TaskEither<TrackError, RunInfo> =>
  pipe(
    http.json(
      'POST',
      'mlflow/runs/create',
      {
        experiment_id: request.experimentId,
        run_name: request.runName,
        start_time: request.startTime,
        // the UI's "User" column reads user_id, not the mlflow.user tag
        user_id: request.tags.find(([k]) => k === 'mlflow.user')?.[1] ?? '',
        tags: kv(request.tags)
      },
      RunAnswer
    ),
    TE.map((a) => a.run.info)
  )

/**
 * Reads a whole run back (`GET runs/get`).
 * @category endpoints
 * @since 0.1.0
 */
export const getRun = (http: HttpClient, runId: string): TE.TaskEither<TrackError, Run> =>
  pipe(
    http.json('GET', 'mlflow/runs/get', { run_id: runId }, GetRunAnswer),
    TE.map((a) => a.run)
  )

/**
 * Logs params, tags and metric points into a run in one request (`POST runs/log-batch`); the
 * caller keeps the batch within the server's limits (see `LIMITS`).
 * @category endpoints
 * @since 0.1.0
 */
export const logBatch = (
  http: HttpClient,
  runId: string,
  batch: { params?: ReadonlyArray<Entry>; tags?: ReadonlyArray<Entry>; metrics?: ReadonlyArray<Metric> }
): TE.TaskEither<TrackError, void> =>
  pipe(
    http.json(
      'POST',
      'mlflow/runs/log-batch',
      {
        run_id: runId,
        params: kv(batch.params ?? []),
        tags: kv(batch.tags ?? []),
        metrics: (batch.metrics ?? []).map(metricJson)
      },
      Empty
    ),
    TE.as(undefined)
  )

/**
 * `POST runs/log-inputs`: dataset inputs, each with its input tags (`mlflow.data.context`).
 * @category endpoints
 * @since 0.2.0
 */
export const logInputs = (http: HttpClient, runId: string, datasets: ReadonlyArray<DatasetRecord>): TE.TaskEither<TrackError, void> =>
  pipe(
    http.json(
      'POST',
      'mlflow/runs/log-inputs',
      {
        run_id: runId,
        datasets: datasets.map((d) => ({
          tags: kv(d.tags),
          dataset: {
            name: d.name,
            digest: d.digest,
            source_type: d.sourceType,
            source: d.source,
            ...(d.schema === undefined ? {} : { schema: d.schema }),
            ...(d.profile === undefined ? {} : { profile: d.profile })
          }
        }))
      },
      Empty
    ),
    TE.as(undefined)
  )

/**
 * Ends a run (`POST runs/update`) with its final status and end time.
 * @category endpoints
 * @since 0.1.0
 */
export const updateRun = (
  http: HttpClient,
  runId: string,
  status: RunStatus,
  endTime: number
): TE.TaskEither<TrackError, void> =>
  pipe(
    http.json('POST', 'mlflow/runs/update', { run_id: runId, status, end_time: endTime }, Empty),
    TE.as(undefined)
  )

/**
 * Reads every point of one metric of a run (`GET metrics/get-history`), page after page.
 * @category endpoints
 * @since 0.1.0
 */
export const getMetricHistory = (
  http: HttpClient,
  runId: string,
  key: string
): TE.TaskEither<TrackError, ReadonlyArray<Metric>> => {
  const page = (token: string | undefined, acc: ReadonlyArray<Metric>): TE.TaskEither<TrackError, ReadonlyArray<Metric>> =>
    pipe(
      http.json(
        'GET',
        'mlflow/metrics/get-history',
        { run_id: runId, metric_key: key, max_results: 25000, ...(token === undefined ? {} : { page_token: token }) },
        HistoryAnswer
      ),
      TE.flatMap((a) => {
        const points = [...acc, ...(a.metrics ?? []).map((m) => ({ ...m, step: m.step ?? 0 }))]
        return a.next_page_token ? page(a.next_page_token, points) : TE.right(points)
      })
    )
  return page(undefined, [])
}

/**
 * Reads one page of a metric's history (`GET metrics/get-history`); all of it without
 * `maxResults`.
 * @category endpoints
 * @since 0.2.0
 */
export const getMetricHistoryPage = (
  http: HttpClient,
  runId: string,
  key: string,
  page: { readonly maxResults?: number; readonly pageToken?: string }
): TE.TaskEither<TrackError, { readonly metrics: ReadonlyArray<Metric>; readonly nextPageToken: string | undefined }> =>
  pipe(
    http.json(
      'GET',
      'mlflow/metrics/get-history',
      {
        run_id: runId,
        metric_key: key,
        ...(page.maxResults === undefined ? {} : { max_results: page.maxResults }),
        ...(page.pageToken === undefined ? {} : { page_token: page.pageToken })
      },
      HistoryAnswer
    ),
    TE.map((a) => ({ metrics: (a.metrics ?? []).map((m) => ({ ...m, step: m.step ?? 0 })), nextPageToken: a.next_page_token || undefined }))
  )

/**
 * Searches runs (`POST runs/search`) with MLflow's filter and order-by syntax, one page at a
 * time.
 * @category endpoints
 * @since 0.2.0
 */
export const searchRuns = (
  http: HttpClient,
  request: {
    readonly experimentIds: ReadonlyArray<string>
    readonly filter: string
    readonly orderBy: ReadonlyArray<string>
    readonly maxResults: number
    readonly pageToken: string | undefined
  }
): TE.TaskEither<TrackError, { readonly runs: ReadonlyArray<Run>; readonly nextPageToken: string | undefined }> =>
  pipe(
    http.json(
      'POST',
      'mlflow/runs/search',
      {
        experiment_ids: request.experimentIds,
        filter: request.filter,
        order_by: request.orderBy,
        max_results: request.maxResults,
        ...(request.pageToken === undefined ? {} : { page_token: request.pageToken })
      },
      SearchRunsAnswer
    ),
    TE.map((a) => ({ runs: a.runs ?? [], nextPageToken: a.next_page_token || undefined }))
  )

/**
 * Searches the active experiments (`POST experiments/search`), one page at a time.
 * @category endpoints
 * @since 0.2.0
 */
export const searchExperiments = (
  http: HttpClient,
  request: { readonly filter: string; readonly orderBy: ReadonlyArray<string>; readonly maxResults: number; readonly pageToken: string | undefined }
): TE.TaskEither<TrackError, { readonly experiments: ReadonlyArray<Experiment>; readonly nextPageToken: string | undefined }> =>
  pipe(
    http.json(
      'POST',
      'mlflow/experiments/search',
      {
        filter: request.filter,
        order_by: request.orderBy,
        max_results: request.maxResults,
        ...(request.pageToken === undefined ? {} : { page_token: request.pageToken })
      },
      SearchExperimentsAnswer
    ),
    TE.map((a) => ({ experiments: a.experiments ?? [], nextPageToken: a.next_page_token || undefined }))
  )

/**
 * The proxied-artifact path of a run's artifact root: `mlflow-artifacts:/1/<run>/artifacts`
 * becomes `1/<run>/artifacts`. Other schemes (a server that does not serve artifacts) are
 * not supported.
 * @category utils
 * @since 0.1.0
 */
export const artifactRoot = (artifactUri: string | undefined): E.Either<string, string> => {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri ?? '')
  return m?.[1] === undefined || m[1] === ''
    ? E.left(`the server keeps artifacts at ${JSON.stringify(artifactUri ?? '')}; start it with --serve-artifacts`)
    : E.right(m[1].replace(/\/+$/, ''))
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

/**
 * Uploads an artifact's bytes to `root/path` through the server's artifact proxy (`PUT`);
 * `root` comes from `artifactRoot`.
 * @category endpoints
 * @since 0.1.0
 */
export const uploadArtifact = (
  http: HttpClient,
  root: string,
  path: string,
  bytes: Uint8Array
): TE.TaskEither<TrackError, void> => http.put(`mlflow-artifacts/artifacts/${encodePath(root)}/${encodePath(path)}`, bytes)
