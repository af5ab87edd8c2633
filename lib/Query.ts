/**
 * Reading runs back: search runs with MLflow's filter syntax, get one run, page through a
 * metric's history, search experiments. Every sink built by this library answers the same
 * queries with the same runs in the same order: the MLflow sink through the server's
 * `runs/search`, `runs/get`, `metrics/get-history` and `experiments/search`, the memory and
 * local sinks by evaluating the same grammar (`SearchFilter`).
 *
 * Outside a pipeline, call the sink's `query` (`sink.query.searchRuns(...)`, a
 * `TaskEither`); inside one, the steps of this module read the sink from the environment.
 *
 * @example
 * import { evaluate, memorySink, run, Query, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const sink = memorySink()
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink })
 * const best = await run(
 *   pipe(
 *     Query.bestRun({ experiment: 'demo', metric: 'accuracy' }),
 *     Track.map((found) => found?.metrics['accuracy'])
 *   ),
 *   { sink }
 * )
 * assert.deepStrictEqual(best, E.right(0.9))
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { decodeArgument, Flag, Numeric, optional, options, required, Text, Texts } from './Arguments.js'
import { configError, taskFailed, type TrackError } from './Errors.js'
import { experimentLookup, foundRun, num, own, runLookup, type Point } from './internal/query.js'
import * as F from './SearchFilter.js'
import type { Metric } from './Records.js'
import type {
  ExperimentsPage,
  FoundExperiment,
  HeldRun,
  Holdings,
  FoundRun,
  HistoryPage,
  HistoryRequest,
  RunHeader,
  RunQuery,
  RunsPage,
  SearchExperimentsRequest,
  SearchRunsRequest
} from './RunQuery.js'
import type { Sink } from './Sink.js'
import * as T from './Track.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type {
  ExperimentsPage,
  HeldRun,
  Holdings,
  FoundExperiment,
  FoundRun,
  HistoryPage,
  HistoryRequest,
  RunHeader,
  RunQuery,
  RunsPage,
  SearchExperimentsRequest,
  SearchRunsRequest
} from './RunQuery.js'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The ids the request names, among `known`: all of them when it names none. */
const chosenIds = (
  request: SearchRunsRequest,
  known: ReadonlyArray<{ readonly experimentId: string; readonly name: string }>
): ReadonlySet<string> => {
  if (request.experiments === undefined && request.experimentIds === undefined) return new Set(known.map((e) => e.experimentId))
  const names = new Set(request.experiments ?? [])
  return new Set([...known.filter((e) => names.has(e.name)).map((e) => e.experimentId), ...(request.experimentIds ?? [])])
}

/** Every point once (the server keeps one of identical points), in the server's order. */
const historyOf = (key: string, points: ReadonlyArray<Point>): ReadonlyArray<Metric> => {
  const seen = new Set<string>()
  return points
    .filter((p) => {
      const id = `${p.timestamp} ${p.step} ${p.value}`
      return seen.has(id) ? false : (seen.add(id), true)
    })
    .map((p) => ({ key, value: p.value, timestamp: p.timestamp, step: p.step }))
    .sort((a, b) => a.timestamp - b.timestamp || a.step - b.step || num(a.value) - num(b.value))
}

// -------------------------------------------------------------------------------------
// argument codecs
// -------------------------------------------------------------------------------------

const PAGE = { maxResults: Numeric, pageToken: Text }
const SearchRunsCodec = optional(
  options('a search request ({ experiments, experimentIds, filter, orderBy, maxResults, pageToken })', {
    experiments: Texts,
    experimentIds: Texts,
    filter: Text,
    orderBy: Texts,
    ...PAGE
  })
)
const HistoryCodec = optional(options('a page request ({ maxResults, pageToken })', PAGE))
const SearchExperimentsCodec = optional(
  options('a search request ({ filter, orderBy, maxResults, pageToken })', { filter: Text, orderBy: Texts, ...PAGE })
)
const BestRunCodec = t.intersection([
  required('options such as { experiment, metric }', { experiment: Text, metric: Text }),
  options('options', { lowestIsBest: Flag, filter: Text })
])

/** A task that neither throws nor rejects: what `f` throws, or its task rejects with, is a `TaskFailed`. */
const attempt =
  <A>(f: () => TE.TaskEither<TrackError, A>): TE.TaskEither<TrackError, A> =>
  async () => {
    try {
      return await f()()
    } catch (e) {
      return E.left(taskFailed(e))
    }
  }

const decoded = <A, B>(argument: E.Either<TrackError, A>, f: (a: A) => TE.TaskEither<TrackError, B>): TE.TaskEither<TrackError, B> =>
  E.isLeft(argument) ? TE.left(argument.left) : f(argument.right)

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * `query` with every argument decoded where it enters (a JavaScript caller has no type
 * checker): a request that is not a record, a `filter` that is not a string, `experiments` that
 * are not an array of names are an `InvalidValue` naming the field; and no call throws or
 * rejects (what does is a `TaskFailed`). Every sink's queries are built with it.
 * @category constructors
 * @since 0.3.0
 */
export const guardedQuery = (query: RunQuery): RunQuery => ({
  searchRuns: (request) =>
    attempt(() => decoded(decodeArgument('searchRuns', 'request', SearchRunsCodec, request), (r) => query.searchRuns(r))),
  getRun: (runId) => attempt(() => decoded(decodeArgument('getRun', 'runId', Text, runId), (id) => query.getRun(id))),
  getMetricHistory: (runId, key, page) =>
    attempt(() =>
      decoded(
        pipe(
          decodeArgument('getMetricHistory', 'runId', Text, runId),
          E.flatMap(() => decodeArgument('getMetricHistory', 'key', Text, key)),
          E.flatMap(() => decodeArgument('getMetricHistory', 'page', HistoryCodec, page))
        ),
        (p) => query.getMetricHistory(runId, key, p)
      )
    ),
  searchExperiments: (request) =>
    attempt(() =>
      decoded(decodeArgument('searchExperiments', 'request', SearchExperimentsCodec, request), (r) => query.searchExperiments(r))
    )
})

/**
 * The queries of a sink that holds its runs itself (memory, local), answered as an MLflow
 * server answers them.
 * @category constructors
 * @since 0.2.0
 */
export const queryOver = (holdings: Holdings): RunQuery =>
  guardedQuery({
    searchRuns: (request = {}) =>
      pipe(
        TE.Do,
        TE.bind('filter', () => TE.fromEither(F.parseRunFilter(request.filter ?? ''))),
        TE.bind('orders', () => TE.fromEither(F.parseRunOrder(request.orderBy ?? []))),
        TE.bind('ids', () => pipe(holdings.experiments(), TE.map((known) => chosenIds(request, known)))),
        TE.bind('runs', () => holdings.runs()),
        TE.flatMapEither(({ filter, orders, ids, runs }) => {
          const found = runs
            .filter((r) => ids.has(r.experimentId))
            .map(foundRun)
            .filter((r) => F.matches(filter, runLookup(r)))
            .sort(F.ordering(F.withRunTieBreak(orders), runLookup))
          return E.map((p: { items: ReadonlyArray<FoundRun>; nextPageToken: string | undefined }) => ({ runs: p.items, nextPageToken: p.nextPageToken }))(
            F.page(found, request.maxResults, request.pageToken)
          )
        })
      ),
    getRun: (runId) => pipe(holdings.run(runId), TE.map(foundRun)),
    getMetricHistory: (runId, key, request = {}) =>
      pipe(
        holdings.run(runId, key),
        TE.flatMapEither((run) => {
          const history = historyOf(key, own(run.metrics, key) ?? [])
          return E.map((p: { items: ReadonlyArray<Metric>; nextPageToken: string | undefined }) => ({ metrics: p.items, nextPageToken: p.nextPageToken }))(
            F.page(history, request.maxResults ?? Math.max(history.length, 1), request.pageToken, Number.MAX_SAFE_INTEGER)
          )
        })
      ),
    searchExperiments: (request = {}) =>
      pipe(
        TE.Do,
        TE.bind('filter', () => TE.fromEither(F.parseExperimentFilter(request.filter ?? ''))),
        TE.bind('orders', () => TE.fromEither(F.parseExperimentOrder(request.orderBy ?? []))),
        TE.bind('known', () => holdings.experiments()),
        TE.flatMapEither(({ filter, orders, known }) => {
          const found = known
            .map((e): FoundExperiment => ({ experimentId: e.experimentId, name: e.name, tags: {}, creationTime: undefined, lastUpdateTime: undefined }))
            .filter((e) => F.matches(filter, experimentLookup(e)))
            .sort(F.ordering(F.withExperimentTieBreak(orders), experimentLookup))
          return E.map((p: { items: ReadonlyArray<FoundExperiment>; nextPageToken: string | undefined }) => ({
            experiments: p.items,
            nextPageToken: p.nextPageToken
          }))(F.page(found, request.maxResults, request.pageToken))
        })
      )
  })

/**
 * The queries of `sink`, or a `ConfigError` for a sink that cannot answer them.
 * @category constructors
 * @since 0.2.0
 */
export const queryOf = (sink: Sink): E.Either<TrackError, RunQuery> =>
  sink.query === undefined ? E.left(configError('sink', `${sink.name} cannot answer queries`)) : E.right(sink.query)

// -------------------------------------------------------------------------------------
// pipeline steps
// -------------------------------------------------------------------------------------

const withQuery = <A>(f: (q: RunQuery) => TE.TaskEither<TrackError, A>): T.Track<A> =>
  pipe(
    T.ask,
    T.flatMap((env) => T.fromEither(queryOf(env.sink))),
    T.flatMap((q) => T.fromTaskEither(f(q)))
  )

/**
 * Searches the runs of the environment's sink.
 * @category constructors
 * @since 0.2.0
 */
export const searchRuns = (request: SearchRunsRequest = {}): T.Track<RunsPage> => withQuery((q) => q.searchRuns(request))

/**
 * One run of the environment's sink.
 * @category constructors
 * @since 0.2.0
 */
export const getRun = (runId: string): T.Track<FoundRun> => withQuery((q) => q.getRun(runId))

/**
 * A page of one metric's history (all of it without `maxResults`).
 * @category constructors
 * @since 0.2.0
 */
export const getMetricHistory = (runId: string, key: string, page: HistoryRequest = {}): T.Track<HistoryPage> =>
  withQuery((q) => q.getMetricHistory(runId, key, page))

/**
 * Searches the experiments of the environment's sink.
 * @category constructors
 * @since 0.2.0
 */
export const searchExperiments = (request: SearchExperimentsRequest = {}): T.Track<ExperimentsPage> =>
  withQuery((q) => q.searchExperiments(request))

/**
 * The finished run of `experiment` with the highest `metric` (the lowest with
 * `lowestIsBest`), among those matching `filter`; undefined when no run has the metric.
 * @category constructors
 * @since 0.2.0
 */
export const bestRun = (options: {
  readonly experiment: string
  readonly metric: string
  readonly lowestIsBest?: boolean
  readonly filter?: string
}): T.Track<FoundRun | undefined> => {
  const checked = decodeArgument('bestRun', 'options', BestRunCodec, options)
  if (E.isLeft(checked)) return T.fail(checked.left)
  const metric = `metrics.\`${options.metric}\``
  const finished = "attributes.status = 'FINISHED'"
  return pipe(
    searchRuns({
      experiments: [options.experiment],
      filter: options.filter === undefined || options.filter.trim() === '' ? finished : `${finished} and ${options.filter}`,
      orderBy: [`${metric} ${options.lowestIsBest === true ? 'ASC' : 'DESC'}`],
      maxResults: 1
    }),
    T.map((p) => p.runs.find((r) => Object.hasOwn(r.metrics, options.metric) && !Number.isNaN(r.metrics[options.metric])))
  )
}

