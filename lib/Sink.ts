/**
 * The interpreter side of the library: a `Sink` is where tracking operations end up.
 *
 * Pipelines never touch I/O themselves; `evaluate` asks the environment's sink to find an
 * experiment, open (or reopen) a run and stream into it. Implementations: `memorySink` (for
 * tests, inspectable), `localSink` (the embedded default) and `mlflowSink` (a real tracking
 * server over REST). A sink receives keys that already passed MLflow's key rules.
 *
 * Most sinks are descriptions (`SinkDescription`) until `run` (or `openSink`) builds them from
 * the platform, in a `Scope`: whatever a build opens (connections, timers, a journal) it
 * registers with the scope, which releases it when the run ends, in every outcome, and at once
 * when the build itself fails.
 *
 * @example
 * import { Sink, memorySink, run, evaluate } from 'charmory-track'
 * import * as TE from 'fp-ts/lib/TaskEither.js'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * // a sink of your own: here, memory that says when it is released
 * const released: Array<string> = []
 * const mine = Sink.describeSink('mine', (context) => {
 *   context.scope.addFinalizer(() => void released.push('mine'))
 *   return TE.right(memorySink())
 * })
 * const result = await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink: mine })
 * assert.ok(E.isRight(result))
 * assert.deepStrictEqual(released, ['mine'])
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from './Errors.js'
import type { Platform } from './platform/Platform.js'
import type { DatasetRecord, Entry, Metric, RunRequest, RunStatus } from './Records.js'
import type { RunQuery } from './RunQuery.js'
import { fromBuild, type Scope } from './Scope.js'

export type { Entry, Metric, RunRequest, RunStatus } from './Records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

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
  /** Set by a sink that mirrors its runs into a local store (`Journaled`). @since 0.3.0 */
  readonly journaled?: Journaled
}

/**
 * The local run store, where the runtime has one (Node): its default folder, how a `file:` URI
 * or a path names a folder (undefined when it names none), a sink on a folder, and a server sink
 * journaled in a folder (`journal`: every run also written there) or falling back to it
 * (`fallback`: also going on there when the server cannot be reached), built in the context's
 * scope.
 * @category model
 * @since 0.2.0
 */
export interface LocalStoreSupport {
  readonly defaultDir: string
  readonly folderOf: (uri: string) => string | undefined
  readonly sink: (dir: string) => SinkDescription
  readonly around: (remote: Sink, dir: string, mode: 'journal' | 'fallback', context: SinkContext) => TE.TaskEither<TrackError, Sink>
}

/**
 * What a sink is built from: the platform (with what `run` was given in place), the scope that
 * releases what the build opens, and the local store, where the runtime has one.
 * @category model
 * @since 0.3.0
 */
export interface SinkContext extends Platform {
  readonly scope: Scope
  readonly localStore?: LocalStoreSupport
}

/**
 * A sink not built yet: what `mlflowSink`, `localSink` and `sinkFromEnv` return. `run` builds
 * it in a scope of its own (so a configuration error is a `Left` from `run`, the logger given to
 * `run` gets the sink's warnings, and what it opened is released when the pipeline ends, also on
 * failure). `openSink` builds one to share between many `run`s; its owner closes it.
 * @category model
 * @since 0.2.0
 */
export interface SinkDescription<S extends Sink = Sink> {
  readonly _tag: 'SinkDescription'
  /** What `build` makes, for logs: `local:/path`, `mlflow:http://host:port`. */
  readonly name: string
  /** Builds the sink, registering what it opens with `context.scope` (since 0.3.0; it used to answer a `close`). */
  readonly build: (context: SinkContext) => TE.TaskEither<TrackError, S>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A sink description from its name and how it is built.
 * @category constructors
 * @since 0.2.0
 */
export const describeSink = <S extends Sink>(name: string, build: SinkDescription<S>['build']): SinkDescription<S> => ({
  _tag: 'SinkDescription',
  name,
  build
})

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
// combinators
// -------------------------------------------------------------------------------------

/**
 * The sink that `sink` sends its runs to once every local mirror is peeled off (`Journaled`):
 * the server under a journaled or falling-back sink, `sink` itself otherwise.
 *
 * @example
 * import { Sink, memorySink } from 'charmory-track'
 *
 * const server = memorySink()
 * const mirror: Sink.Sink = { ...server, name: 'memory (journaled in local:/tmp/store)', journaled: { remote: server, dir: '/tmp/store' } }
 * assert.strictEqual(Sink.unmirrored(mirror), server)
 * assert.strictEqual(Sink.unmirrored(server), server)
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
 * `sink` ready to use: a description is built in a child scope of `context.scope` (closed at
 * once when the build fails, else with its parent); a sink given built is used as it is, left
 * open for its owner.
 * @category combinators
 * @since 0.3.0
 */
export const buildSink = <S extends Sink>(sink: S | SinkDescription<S>, context: SinkContext): TE.TaskEither<TrackError, S> =>
  isSinkDescription(sink) ? fromBuild(context.scope, (scope) => (sink as SinkDescription<S>).build({ ...context, scope })) : TE.right(sink as S)
