/**
 * The platform: every capability that touches the outside world, as interfaces. The pipeline,
 * the sinks' logic and `evaluate` reach the clock, the logger, files, environment variables,
 * the home folder, ids, timers, the network and the process's signals only through a
 * `Platform`; `nodePlatform` and `browserPlatform` implement it, and `run` hands the one it
 * was given to the sinks it builds. A spec checks that no other module imports `node:*` or
 * reads `process` (the local store and the command are Node-only families of their own).
 *
 * @since 0.2.0
 */
import type * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'
import type { LocalSink } from '../local/LocalSink.js'
import type { MlflowConfig } from '../mlflow/Config.js'
import type { Fetch } from '../mlflow/Http.js'
import type { Sink, SinkDescription } from '../Sink.js'
import type { SystemMetricsSupport } from '../SystemMetrics.js'

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
 * Timers that never keep a finished program alive: `after` calls `f` once, `every` repeatedly;
 * both return the function that cancels them.
 * @category model
 * @since 0.2.0
 */
export interface Timers {
  readonly after: (ms: number, f: () => void) => () => void
  readonly every: (ms: number, f: () => void) => () => void
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
 * The local run store, where the platform has one (Node): its default folder, how a
 * `file:` URI or a path names a folder (undefined when it names none), a sink on a folder, and
 * a server sink journaled in a folder (`journal`: every run also written there) or falling back
 * to it (`fallback`: also going on there when the server cannot be reached).
 * @category model
 * @since 0.2.0
 */
export interface LocalStoreSupport {
  readonly defaultDir: string
  readonly folderOf: (uri: string) => string | undefined
  readonly sink: (dir: string) => SinkDescription<LocalSink>
  readonly around: (
    remote: Sink,
    dir: string,
    mode: 'journal' | 'fallback',
    platform: Platform
  ) => TE.TaskEither<TrackError, Sink & { readonly close: () => Promise<void> }>
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
  readonly timers: Timers
  /** A transport to the MLflow server of `config` (its TLS settings read through `files`). */
  readonly transport: (config: MlflowConfig) => TE.TaskEither<TrackError, Transport>
  readonly interrupts: Interrupts
  readonly source: () => SourceInfo
  /** Sampling the machine for system metrics; none in a browser. */
  readonly systemMetrics?: SystemMetricsSupport
  /** The local run store for these variables and home folder; none in a browser. */
  readonly localStore?: (vars: Platform['vars'], home: string | undefined) => LocalStoreSupport
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The local store of a platform for its own variables and home folder; none in a browser.
 * @category utils
 * @since 0.2.0
 */
export const storeOf = (platform: Pick<Platform, 'vars' | 'home' | 'localStore'>): LocalStoreSupport | undefined => platform.localStore?.(platform.vars, platform.home)

/**
 * A logger writing to the console's error stream, the same lines as Node's default logger.
 * @category instances
 * @since 0.2.0
 */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`charmory-track: warning: ${message}`),
  info: (message) => console.warn(`charmory-track: ${message}`)
}

/**
 * A 32-hex-digit random id from the Web Crypto API (`getRandomValues`: Node >= 19 and every
 * browser, also on a page that is not a secure context, where `randomUUID` is missing).
 * @category instances
 * @since 0.2.0
 */
export const randomId = (): string =>
  Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * `setTimeout` / `setInterval` as `Timers`, for platforms where a timer cannot keep the
 * program alive (a browser).
 * @category instances
 * @since 0.2.0
 */
export const plainTimers: Timers = {
  after: (ms, f) => {
    const handle = setTimeout(f, ms)
    return () => clearTimeout(handle)
  },
  every: (ms, f) => {
    const handle = setInterval(f, ms)
    return () => clearInterval(handle)
  }
}
