/**
 * The environment a pipeline runs in: the sink it writes to and the few capabilities that
 * touch the outside world (the clock, a logger, the file system, facts about the running
 * program). Tests swap any of them.
 *
 * @since 0.1.0
 */
import type * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from './Errors.js'
import type { OpenRuns } from './OpenRuns.js'
import type { Sink } from './Sink.js'
import type { SystemMetricsSupport } from './SystemMetrics.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The clock that times runs and metric points: `now()` in milliseconds since the epoch.
 * @category model
 * @since 0.1.0
 */
export interface Clock {
  readonly now: () => number
}

/**
 * Where warnings go (overwritten params, truncated values, fallbacks).
 * @category model
 * @since 0.1.0
 */
export interface Logger {
  readonly warn: (message: string) => void
  readonly info: (message: string) => void
}

/**
 * How artifact files are read from disk (`logArtifact`, `logArtifacts`).
 * @category model
 * @since 0.1.0
 */
export interface Files {
  readonly readFile: (path: string) => TE.TaskEither<TrackError, Uint8Array>
  /** Every file under `dir`, recursively, as `/`-separated paths relative to `dir`, sorted. */
  readonly listFiles: (dir: string) => TE.TaskEither<TrackError, ReadonlyArray<string>>
}

/**
 * Facts about the running program, for MLflow's standard `mlflow.*` tags.
 * @category model
 * @since 0.1.0
 */
export interface SourceInfo {
  readonly user: string
  readonly sourceName: string
  readonly gitCommit: O.Option<string>
}

/**
 * Everything a pipeline reads from the outside world: where runs go (`sink`), what time it is,
 * where warnings go, how files are read, and facts about the running program. `run` fills in
 * Node's defaults for what is not given (see `EnvInput`).
 * @category model
 * @since 0.1.0
 */
export interface Env {
  readonly sink: Sink
  readonly clock: Clock
  readonly logger: Logger
  readonly files: Files
  readonly source: () => SourceInfo
  /** Sampling the machine for system metrics (since 0.2.0); none in a browser. */
  readonly systemMetrics?: SystemMetricsSupport
  /** The runs opened through `sink` and not ended yet (`run` registers them; since 0.2.0). */
  readonly openRuns: OpenRuns
}

/**
 * How `run` treats the process while it runs.
 * @category model
 * @since 0.2.0
 */
export interface RunOptions {
  /**
   * On SIGINT or SIGTERM, end every open run `KILLED` (what was logged delivered first) and
   * exit with 130 or 143; a second signal exits at once. `true` by default; `false` leaves the
   * signals to the program (which can call `endOpenRuns`).
   */
  readonly signals?: boolean
  /** How long ending the open runs may take after a signal before the process exits anyway; 5000 ms. */
  readonly graceMs?: number
}

/**
 * What `run` needs: a sink; the other capabilities default to Node's.
 * @category model
 * @since 0.1.0
 */
export type EnvInput = Pick<Env, 'sink'> & Partial<Env> & RunOptions
