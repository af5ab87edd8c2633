/**
 * The queries of the MLflow sink, through the server's `runs/search`, `runs/get`,
 * `metrics/get-history` and `experiments/search`. Filters and orderings are read here first
 * (`SearchFilter`), so that a bad one fails before anything is sent, as on every sink, and
 * only the subset every sink answers alike reaches the server.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { notFound, type TrackError } from '../Errors.js'
import { guardedQuery } from '../Query.js'
import type { FoundExperiment, FoundRun, RunQuery, SearchRunsRequest } from '../RunQuery.js'
import * as Api from './Api.js'
import type { HttpClient } from './Http.js'
import * as F from '../SearchFilter.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const record = (entries: ReadonlyArray<{ readonly key: string; readonly value: string }> | undefined): Record<string, string> =>
  Object.fromEntries((entries ?? []).map((e) => [e.key, e.value]))

/**
 * A run of a server answer as a search finds it.
 * @category utils
 * @since 0.2.0
 */
export const foundRunOf = (run: Api.Run): FoundRun => ({
  runId: run.info.run_id,
  experimentId: run.info.experiment_id,
  runName: run.info.run_name ?? '',
  status: run.info.status,
  startTime: run.info.start_time ?? 0,
  endTime: run.info.end_time,
  userId: run.info.user_id ?? '',
  params: record(run.data.params),
  metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value])),
  tags: record(run.data.tags)
})

/**
 * An experiment of a server answer as a search finds it.
 * @category utils
 * @since 0.2.0
 */
export const foundExperimentOf = (e: Api.Experiment): FoundExperiment => ({
  experimentId: e.experiment_id,
  name: e.name,
  tags: record(e.tags),
  creationTime: e.creation_time,
  lastUpdateTime: e.last_update_time
})

/** Checks what every sink checks before it searches: the filter, the ordering, the page size. */
const checked = (
  parseFilter: (s: string) => E.Either<TrackError, unknown>,
  parseOrder: (o: ReadonlyArray<string>) => E.Either<TrackError, unknown>,
  request: { readonly filter?: string; readonly orderBy?: ReadonlyArray<string>; readonly maxResults?: number; readonly pageToken?: string }
): E.Either<TrackError, void> =>
  pipe(
    parseFilter(request.filter ?? ''),
    E.flatMap(() => parseOrder(request.orderBy ?? [])),
    // a page token is the server's to read
    E.flatMap(() => F.page([], request.maxResults, undefined)),
    E.asUnit
  )

const missing = (e: TrackError): boolean => e._tag === 'HttpError' && e.errorCode === 'RESOURCE_DOES_NOT_EXIST'

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The queries of the server `http` talks to.
 * @category constructors
 * @since 0.2.0
 */
export const mlflowQuery = (http: HttpClient): RunQuery => {
  /** Every active experiment, page after page. */
  const allExperiments = (token: string | undefined, acc: ReadonlyArray<string>): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
    pipe(
      Api.searchExperiments(http, { filter: '', orderBy: [], maxResults: F.PAGE.default, pageToken: token }),
      TE.flatMap((p) => {
        const ids = [...acc, ...p.experiments.map((e) => e.experiment_id)]
        return p.nextPageToken === undefined ? TE.right(ids) : allExperiments(p.nextPageToken, ids)
      })
    )

  /** The id of a named experiment, or none when the server has no such experiment. */
  const idOf = (name: string): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
    pipe(
      Api.getExperimentByName(http, name),
      TE.map((id) => [id]),
      TE.orElse((e) => (missing(e) ? TE.right([]) : TE.left(e)))
    )

  const experimentIds = (request: SearchRunsRequest): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
    request.experiments === undefined && request.experimentIds === undefined
      ? allExperiments(undefined, [])
      : pipe(
          TE.traverseSeqArray(idOf)(request.experiments ?? []),
          TE.map((found) => [...new Set([...found.flat(), ...(request.experimentIds ?? [])])])
        )

  const getRun = (runId: string): TE.TaskEither<TrackError, Api.Run> =>
    pipe(
      Api.getRun(http, runId),
      TE.mapLeft((e) => (missing(e) ? notFound('run', runId) : e))
    )

  return guardedQuery({
    searchRuns: (request = {}) =>
      pipe(
        TE.fromEither(checked(F.parseRunFilter, F.parseRunOrder, request)),
        TE.flatMap(() => experimentIds(request)),
        TE.flatMap((ids) =>
          ids.length === 0
            ? TE.right({ runs: [], nextPageToken: undefined })
            : pipe(
                Api.searchRuns(http, {
                  experimentIds: ids,
                  filter: request.filter ?? '',
                  orderBy: request.orderBy ?? [],
                  maxResults: request.maxResults ?? F.PAGE.default,
                  pageToken: request.pageToken
                }),
                TE.map((p) => ({ runs: p.runs.map(foundRunOf), nextPageToken: p.nextPageToken }))
              )
        )
      ),
    getRun: (runId) => pipe(getRun(runId), TE.map(foundRunOf)),
    // the server answers an empty history for a run it does not have: the first page checks
    getMetricHistory: (runId, key, page = {}) =>
      pipe(
        TE.fromEither(F.page([], page.maxResults ?? 1, undefined, Number.MAX_SAFE_INTEGER)),
        TE.flatMap(() => (page.pageToken === undefined ? TE.asUnit(getRun(runId)) : TE.right(undefined))),
        TE.flatMap(() => Api.getMetricHistoryPage(http, runId, key, page))
      ),
    searchExperiments: (request = {}) =>
      pipe(
        TE.fromEither(checked(F.parseExperimentFilter, F.parseExperimentOrder, request)),
        TE.flatMap(() =>
          Api.searchExperiments(http, {
            filter: request.filter ?? '',
            orderBy: request.orderBy ?? [],
            maxResults: request.maxResults ?? F.PAGE.default,
            pageToken: request.pageToken
          })
        ),
        TE.map((p) => ({ experiments: p.experiments.map(foundExperimentOf), nextPageToken: p.nextPageToken }))
      )
  })
}
