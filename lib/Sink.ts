/**
 * The interpreter side of the library: a `Sink` is where tracking operations end up.
 *
 * Pipelines never touch I/O themselves; `evaluate` asks the environment's sink to find an
 * experiment, open (or reopen) a run and stream into it. Implementations: `memorySink` (for
 * tests, inspectable), `localSink` (the embedded default) and `mlflowSink` (a real tracking
 * server over REST). A sink receives keys that already passed MLflow's key rules.
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { DatasetRecord } from './Dataset.js'
import type { TrackError } from './Errors.js'
import type { Entry } from './ParamValue.js'
import type { Platform } from './platform/Platform.js'
import type { RunQuery } from './Query.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

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
 * What a new run starts with.
 * @category model
 * @since 0.1.0
 */
export interface RunRequest {
  readonly experimentId: string
  readonly runName: string
  readonly startTime: number
  readonly tags: ReadonlyArray<Entry>
}

/**
 * An open run: everything logged through it lands in one run of the sink. Metrics may be
 * buffered; `flush` and `end` deliver everything logged before them.
 * @category model
 * @since 0.1.0
 */
export interface RunSink {
  readonly runId: string
  readonly experimentId: string
  readonly logParams: (params: ReadonlyArray<Entry>) => TE.TaskEither<TrackError, void>
  readonly logMetrics: (metrics: ReadonlyArray<Metric>) => TE.TaskEither<TrackError, void>
  readonly setTags: (tags: ReadonlyArray<Entry>) => TE.TaskEither<TrackError, void>
  /** `path` is relative to the run's artifact root, `/`-separated, already checked. */
  readonly logArtifact: (path: string, bytes: Uint8Array) => TE.TaskEither<TrackError, void>
  /**
   * Records dataset inputs (`runs/log-inputs`); an input with the name and digest of one the
   * run has already is skipped, as the server skips it. `memorySink`, `localSink` and
   * `mlflowSink` have it; a sink without it cannot record datasets. @since 0.2.0
   */
  readonly logInputs?: (inputs: ReadonlyArray<DatasetRecord>) => TE.TaskEither<TrackError, void>
  readonly flush: () => TE.TaskEither<TrackError, void>
  /** Flushes, then records the final status and end time. */
  readonly end: (status: RunStatus, endTime: number) => TE.TaskEither<TrackError, void>
}

/**
 * What a sink that mirrors its runs into a local store says of itself: the sink it sends them
 * to, and the store it journals them in. `withLocalJournal`, `withLocalFallback`, an
 * `mlflowSink` with its journal and `sinkFromEnv` over a server have it. `syncStore` sends to
 * `remote` rather than through the mirror (what it replays is in a store already: journaling
 * it again would append to the very journal being read), and keeps its progress under
 * `remote`'s name. A sink of one's own that journals into a local store sets it too.
 * @category model
 * @since 0.3.0
 */
export interface Journaled {
  /** Where runs are sent: the server, or a sink that itself may be journaled. */
  readonly remote: Sink
  /** The local store's folder, absolute. */
  readonly dir: string
}

/**
 * Where runs are kept: an MLflow server (`mlflowSink`), the local store (`localSink`) or memory
 * (`memorySink`). `run` takes one in its environment; every run of the pipeline goes to it.
 * @category model
 * @since 0.1.0
 */
export interface Sink {
  /** A short description for logs: `memory`, `local:/path`, `mlflow:http://host:port`. */
  readonly name: string
  /** The id of the experiment called `name`, created when missing. */
  readonly experiment: (name: string) => TE.TaskEither<TrackError, string>
  readonly openRun: (request: RunRequest) => TE.TaskEither<TrackError, RunSink>
  /** An existing run, to log more into it (also after it ended). */
  readonly reopenRun: (runId: string) => TE.TaskEither<TrackError, RunSink>
  /** Reading runs back (`Query`); `memorySink`, `localSink` and `mlflowSink` have it. @since 0.2.0 */
  readonly query?: RunQuery
  /** Releases what the sink holds (connections, timers, open files); built sinks have it. @since 0.2.0 */
  readonly close?: () => Promise<void>
  /** Set by a sink that mirrors its runs into a local store (`Journaled`). @since 0.3.0 */
  readonly journaled?: Journaled
}

/**
 * A sink not built yet: what `mlflowSink`, `localSink` and `sinkFromEnv` return. `run` builds
 * it from its platform (so a configuration error is a `Left` from `run`, and the logger given
 * to `run` gets the sink's warnings) and closes it when the pipeline ends, also on failure.
 * `openSink` builds one to share between many `run`s; its owner closes it.
 * @category model
 * @since 0.2.0
 */
export interface SinkDescription<S extends Sink = Sink> {
  readonly _tag: 'SinkDescription'
  /** What `build` makes, for logs: `local:/path`, `mlflow:http://host:port`. */
  readonly name: string
  readonly build: (platform: Platform) => TE.TaskEither<TrackError, S & { readonly close: () => Promise<void> }>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A sink description from its name and how it is built.
 * @category constructors
 * @since 0.2.0
 */
export const describeSink = <S extends Sink>(
  name: string,
  build: SinkDescription<S>['build']
): SinkDescription<S> => ({ _tag: 'SinkDescription', name, build })

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

/**
 * Whether a sink still has to be built.
 * @category refinements
 * @since 0.2.0
 */
export const isSinkDescription = (sink: Sink | SinkDescription): sink is SinkDescription =>
  '_tag' in sink && sink._tag === 'SinkDescription'

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The sink that `sink` sends its runs to once every local mirror is peeled off (`Journaled`):
 * the server under a journaled or falling-back sink, `sink` itself otherwise.
 *
 * @example
 * import { memorySink, unmirrored, type Sink } from 'charmory-track'
 *
 * const server = memorySink()
 * const mirror: Sink = { ...server, name: 'memory (journaled in local:/tmp/store)', journaled: { remote: server, dir: '/tmp/store' } }
 * assert.strictEqual(unmirrored(mirror), server)
 * assert.strictEqual(unmirrored(server), server)
 *
 * @category utils
 * @since 0.3.0
 */
export const unmirrored = (sink: Sink): Sink => {
  let inner = sink
  while (inner.journaled !== undefined) inner = inner.journaled.remote
  return inner
}

/**
 * `sink` ready to use on `platform`: a description is built, and `release` closes it; a sink
 * given built is used as it is, and `release` leaves it open for its owner.
 * @category utils
 * @since 0.2.0
 */
export const acquireSink = <S extends Sink>(
  sink: S | SinkDescription<S>,
  platform: Platform
): TE.TaskEither<TrackError, { readonly sink: S; readonly release: () => Promise<void> }> =>
  isSinkDescription(sink)
    ? TE.map((built: S & { readonly close: () => Promise<void> }) => ({ sink: built as S, release: built.close }))((sink as SinkDescription<S>).build(platform))
    : TE.right({ sink: sink as S, release: async () => undefined })
