/**
 * The platform: every capability that touches the outside world, as interfaces, at the bottom of
 * the library. The pipeline, the sinks' logic and `evaluate` reach the clock, the logger, files,
 * environment variables, the home folder, ids, randomness, timers, the network, the process's
 * signals and the machine's figures only through a `Platform`; `nodePlatform` and
 * `browserPlatform` implement it, and `run` hands the one it was given (with what the caller
 * replaced) to the sinks it builds. `spec/boundary.ts` checks that no other module reaches the
 * clock, timers, randomness or a Node global directly, and `spec/layers.ts` that this module
 * imports nothing but the errors.
 *
 * @since 0.2.0
 */
import type * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'

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
 * Where warnings go (overwritten params, truncated values, retries, fallbacks).
 * @category model
 * @since 0.1.0
 */
export interface Logger {
  readonly warn: (message: string) => void
  readonly info: (message: string) => void
}

/**
 * How files are read (`logArtifact`, `logArtifacts`, certificates, the credentials file).
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
 * Timers. `after` calls `f` once, `every` repeatedly; both return the function that cancels
 * them, and neither keeps a finished program alive (a flush timer, a sampling interval) unless
 * `after` is told to (a deadline that must be met). `sleep` is a wait that something awaits (a
 * retry's backoff): it keeps the program alive until it is over, so that a program never ends in
 * the middle of delivering a run.
 * @category model
 * @since 0.2.0
 */
export interface Timers {
  readonly after: (ms: number, f: () => void, keepAlive?: boolean) => () => void
  readonly every: (ms: number, f: () => void) => () => void
  /** Since 0.3.0. */
  readonly sleep: (ms: number) => Promise<void>
}

/**
 * The subset of the WHATWG `fetch` the MLflow client uses: cross-fetch, undici, a browser's.
 * @category model
 * @since 0.1.0
 */
export type Fetch = (
  url: string,
  init: {
    method: string
    headers: Record<string, string>
    body?: string | Uint8Array
    signal: AbortSignal
  }
) => Promise<{
  readonly status: number
  readonly headers: { get(name: string): string | null }
  text(): Promise<string>
  arrayBuffer(): Promise<ArrayBuffer>
}>

/**
 * Where a transport connects and with which TLS settings: the server's address, whether to skip
 * certificate checks, a CA bundle to trust and a client certificate to present (files, read
 * through `Files`).
 * @category model
 * @since 0.3.0
 */
export interface TlsTarget {
  readonly url: string
  readonly insecure: boolean
  readonly caCertPath: string | undefined
  readonly clientCertPath: string | undefined
}

/**
 * A connection to a server and the way to release it.
 * @category model
 * @since 0.2.0
 */
export interface Transport {
  readonly fetch: Fetch
  readonly close: () => void
}

/**
 * The process's interrupt signals: `onInterrupt` subscribes (returning the unsubscribe), `exit`
 * ends the program with a status. In a browser neither does anything.
 * @category model
 * @since 0.2.0
 */
export interface Interrupts {
  readonly onInterrupt: (handler: (signal: 'SIGINT' | 'SIGTERM') => void) => () => void
  readonly exit: (code: number) => void
}

/**
 * One sample of the machine: MLflow's system metric names without the `system/` prefix
 * (`cpu_utilization_percentage`, `system_memory_usage_megabytes`, ...), to their values.
 * @category model
 * @since 0.2.0
 */
export type SystemSample = Readonly<Record<string, number>>

/**
 * Takes samples of the machine for one run. Figures that count from the start (network
 * traffic) count from the moment the sampler was made.
 * @category model
 * @since 0.2.0
 */
export interface SystemSampler {
  readonly sample: () => Promise<SystemSample>
}

/**
 * Everything that touches the outside world. `run` takes its defaults from `nodePlatform`
 * (Node) or `browserPlatform` (the browser entry); any field given to `run` replaces the
 * default's.
 * @category model
 * @since 0.2.0
 */
export interface Platform {
  readonly clock: Clock
  /** The one logger: the sinks `run` builds warn through it too. */
  readonly logger: Logger
  readonly files: Files
  /** The environment variables (`process.env` on Node, none in a browser). */
  readonly vars: Readonly<Record<string, string | undefined>>
  /** The user's home folder, where there is one (`~/.mlflow/credentials`, `~/.armory`). */
  readonly home: string | undefined
  /** A fresh random id of 32 hexadecimal digits. */
  readonly ids: () => string
  /** A random number in [0, 1), for the jitter of retries (since 0.3.0). */
  readonly random: () => number
  readonly timers: Timers
  /** A transport to `target` (its certificate files read through `files`). */
  readonly transport: (target: TlsTarget) => TE.TaskEither<TrackError, Transport>
  readonly interrupts: Interrupts
  readonly source: () => SourceInfo
  /** A sampler of the machine for system metrics, warning through `logger`; none in a browser (since 0.3.0). */
  readonly systemSampler?: (logger: Logger) => SystemSampler
}
