/**
 * The environment a pipeline runs in: the sink it writes to and the few capabilities that
 * touch the outside world (the clock, a logger, the file system, facts about the running
 * program). Tests swap any of them.
 *
 * @since 0.1.0
 */
import type { OpenRuns } from './OpenRuns.js'
import type { Platform } from './platform/Platform.js'
import type { RunSink, Sink, SinkDescription } from './Sink.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Everything a pipeline reads from the outside world: where runs go (`sink`), what time it is,
 * where warnings go, how files are read, and facts about the running program. `run` fills in
 * Node's defaults for what is not given (see `EnvInput`).
 * @category model
 * @since 0.1.0
 */
export interface Env extends Platform {
  readonly sink: Sink
  /** The runs opened through `sink` and not ended yet (`run` registers them; since 0.2.0). */
  readonly openRuns: OpenRuns
  /** Inside the pipeline an evaluation's task returns: the run it writes to (since 0.2.0). */
  readonly currentRun?: RunSink
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
 * What `run` needs: a sink (a live `Sink`, or a `SinkDescription` that `run` builds from the
 * platform and releases when it ends); the platform's capabilities default to the entry's
 * (Node's, or the browser's).
 * @category model
 * @since 0.1.0
 */
export type EnvInput = { readonly sink: Sink | SinkDescription } & Partial<Platform> & RunOptions
