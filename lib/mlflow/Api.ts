/**
 * The MLflow REST endpoints the sink uses, each decoding its answer with its codec
 * (`mlflow/Codecs.ts`).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'
import type { DatasetRecord, Entry, Metric, RunStatus } from '../Records.js'
import {
  CreateExperimentAnswer,
  Empty,
  ExperimentAnswer,
  GetRunAnswer,
  HistoryAnswer,
  ListArtifactsAnswer,
  RunAnswer,
  SearchExperimentsAnswer,
  SearchRunsAnswer,
  type Experiment,
  type Run,
  type RunInfo
} from './Codecs.js'
import type { HttpClient } from './Http.js'

export type { Experiment, Run, RunInfo } from './Codecs.js'

// -------------------------------------------------------------------------------------
// endpoints
// -------------------------------------------------------------------------------------

const kv = (entries: ReadonlyArray<Entry>) => entries.map(([key, value]) => ({ key, value }))

/**
 * The JSON the server expects for a metric point, with NaN and the infinities as words.
 * @category constructors
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
 * @category constructors
 * @since 0.1.0
 */
export const getExperimentByName = (http: HttpClient, name: string): TE.TaskEither<TrackError, string> =>
  pipe(
    http.json('GET', 'mlflow/experiments/get-by-name', { experiment_name: name }, ExperimentAnswer),
    TE.map((a) => a.experiment.experiment_id)
  )

/**
 * Creates an experiment (`POST experiments/create`) and yields its id.
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * @category constructors
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
 * One artifact file of a run: its path in the run and its size in bytes (unknown for some
 * stores).
 * @category model
 * @since 0.2.0
 */
export interface ArtifactFile {
  readonly path: string
  readonly size: number | undefined
}

/**
 * Every artifact file of a run (`GET artifacts/list`, folder by folder, page after page), sorted
 * by path (a run's paths are unique).
 * @category constructors
 * @since 0.3.0
 */
export const listArtifacts = (http: HttpClient, runId: string): TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>> => {
  const folder =
    (path: string, out: Array<ArtifactFile>, pageToken?: string): TE.TaskEither<TrackError, void> =>
    async () => {
      const answer = await http.json(
        'GET',
        'mlflow/artifacts/list',
        { run_id: runId, ...(path === '' ? {} : { path }), ...(pageToken === undefined ? {} : { page_token: pageToken }) },
        ListArtifactsAnswer
      )()
      if (E.isLeft(answer)) return answer
      for (const f of answer.right.files ?? []) {
        if (f.is_dir !== true) out.push({ path: f.path, size: f.file_size === undefined ? undefined : Number(f.file_size) })
        else {
          const inner = await folder(f.path, out)()
          if (E.isLeft(inner)) return inner
        }
      }
      const next = answer.right.next_page_token
      return next === undefined ? E.right(undefined) : folder(path, out, next)()
    }
  const out: Array<ArtifactFile> = []
  return TE.map(() => [...out].sort((a, b) => (a.path < b.path ? -1 : 1)))(folder('', out))
}

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
 * @category constructors
 * @since 0.1.0
 */
export const uploadArtifact = (
  http: HttpClient,
  root: string,
  path: string,
  bytes: Uint8Array
): TE.TaskEither<TrackError, void> => http.put(`mlflow-artifacts/artifacts/${encodePath(root)}/${encodePath(path)}`, bytes)
