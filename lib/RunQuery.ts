/**
 * What reading runs back asks and answers, on every sink: a run search (MLflow's filter and
 * order-by syntax, pages), one run, a metric's history, an experiment search. `RunQuery` is the
 * read side a sink offers (`Sink.query`); the `Query` module holds the steps that use it and
 * `queryOver`, the implementation for sinks that hold their runs themselves.
 *
 * @since 0.3.0
 */
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from './Errors.js'
import type { Metric, RunStatus } from './Records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What every run has, however it is read: its ids, name, status and times.
 * @category model
 * @since 0.2.0
 */
export interface RunHeader {
  readonly runId: string
  readonly experimentId: string
  readonly runName: string
  readonly status: RunStatus
  readonly startTime: number
  readonly endTime: number | undefined
}

/**
 * A run as a search finds it: `metrics` holds each metric's latest value (greatest step,
 * then timestamp), as MLflow's `run.data.metrics` does.
 * @category model
 * @since 0.2.0
 */
export interface FoundRun extends RunHeader {
  readonly userId: string
  readonly params: Readonly<Record<string, string>>
  readonly metrics: Readonly<Record<string, number>>
  readonly tags: Readonly<Record<string, string>>
}

/**
 * What to search. Without `experiments` and `experimentIds`, every experiment of the sink.
 * @category model
 * @since 0.2.0
 */
export interface SearchRunsRequest {
  /** Experiment names; a name the sink does not know matches nothing. */
  readonly experiments?: ReadonlyArray<string>
  readonly experimentIds?: ReadonlyArray<string>
  /** MLflow's filter syntax, as `metrics.accuracy > 0.9 and params.model = 'resnet18'`. */
  readonly filter?: string
  /** As `['metrics.accuracy DESC']`; newest start first, then run id, when not given. */
  readonly orderBy?: ReadonlyArray<string>
  /** 1 to 50000; 1000 by default. */
  readonly maxResults?: number
  /** The `nextPageToken` of the previous page. */
  readonly pageToken?: string
}

/**
 * One page of a run search: the runs found, and the token that asks for the next page.
 * @category model
 * @since 0.2.0
 */
export interface RunsPage {
  readonly runs: ReadonlyArray<FoundRun>
  /** Present when there are more runs. */
  readonly nextPageToken: string | undefined
}

/**
 * A page of a metric's history, by timestamp, then step, then value (the server's order).
 * @category model
 * @since 0.2.0
 */
export interface HistoryPage {
  readonly metrics: ReadonlyArray<Metric>
  readonly nextPageToken: string | undefined
}

/**
 * Without `maxResults`, the whole history in one page.
 * @category model
 * @since 0.2.0
 */
export interface HistoryRequest {
  readonly maxResults?: number
  readonly pageToken?: string
}

/**
 * An experiment as a search finds it. The memory and local sinks record no times and no
 * experiment tags.
 * @category model
 * @since 0.2.0
 */
export interface FoundExperiment {
  readonly experimentId: string
  readonly name: string
  readonly tags: Readonly<Record<string, string>>
  readonly creationTime: number | undefined
  readonly lastUpdateTime: number | undefined
}

/**
 * What `searchExperiments` looks for: a filter, an order, and which page.
 * @category model
 * @since 0.2.0
 */
export interface SearchExperimentsRequest {
  /** `name`, `experiment_id`, `creation_time`, `last_update_time`, `tags.<key>`. */
  readonly filter?: string
  /** Newest first, then by id, when not given. */
  readonly orderBy?: ReadonlyArray<string>
  readonly maxResults?: number
  readonly pageToken?: string
}

/**
 * One page of an experiment search: the experiments found, and the token that asks for the
 * next page.
 * @category model
 * @since 0.2.0
 */
export interface ExperimentsPage {
  readonly experiments: ReadonlyArray<FoundExperiment>
  readonly nextPageToken: string | undefined
}

/**
 * The read side of a sink.
 * @category model
 * @since 0.2.0
 */
export interface RunQuery {
  readonly searchRuns: (request?: SearchRunsRequest) => TE.TaskEither<TrackError, RunsPage>
  /** `NotFound` when the sink has no such run. */
  readonly getRun: (runId: string) => TE.TaskEither<TrackError, FoundRun>
  readonly getMetricHistory: (runId: string, key: string, page?: HistoryRequest) => TE.TaskEither<TrackError, HistoryPage>
  readonly searchExperiments: (request?: SearchExperimentsRequest) => TE.TaskEither<TrackError, ExperimentsPage>
}

/**
 * A run as the memory and local sinks hold it, for `queryOver`.
 * @category model
 * @since 0.2.0
 */
export interface HeldRun extends RunHeader {
  readonly params: Readonly<Record<string, string>>
  readonly tags: Readonly<Record<string, string>>
  readonly metrics: Readonly<Record<string, ReadonlyArray<{ readonly value: number; readonly step: number; readonly timestamp: number }>>>
}

/**
 * How `queryOver` reads what a sink holds. A held run's `metrics` need only hold each
 * metric's latest point (the greatest step, then timestamp, then value), and every point of the metric `history` when asked.
 * @category model
 * @since 0.2.0
 */
export interface Holdings {
  readonly experiments: () => TE.TaskEither<TrackError, ReadonlyArray<{ readonly experimentId: string; readonly name: string }>>
  readonly runs: () => TE.TaskEither<TrackError, ReadonlyArray<HeldRun>>
  /** `NotFound` when there is no such run. */
  readonly run: (runId: string, history?: string) => TE.TaskEither<TrackError, HeldRun>
}
