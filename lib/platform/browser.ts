/**
 * The browser platform: the system clock, the console, the browser's `fetch`, Web Crypto ids
 * and plain timers. A browser has no file system, environment variables, home folder, signals,
 * local store or system metrics: artifacts are logged as bytes (`logArtifact({ path, bytes })`),
 * variables are given to `run` (`vars`), `sinkFromEnv` keeps runs in memory unless
 * `MLFLOW_TRACKING_URI` names a server, and an MLflow server needs `--cors-allowed-origins`
 * for the page's origin. The package's `run`, `runPromise` and `openSink` in a browser build
 * are those of `browserPlatform`.
 *
 * @since 0.2.0
 */
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { configError, fileError, type TrackError } from '../Errors.js'
import type { Fetch } from '../mlflow/Http.js'
import { runIn } from '../Runtime.js'
import { describeSink, type Sink, type SinkDescription } from '../Sink.js'
import { consoleLogger, plainTimers, randomId, type Files, type Platform } from './Platform.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

const NO_FILES = 'there is no file system in a browser: log the bytes (logArtifact({ path, bytes }))'

/**
 * Files in a browser: none; reading one is a `FileError` saying to log bytes instead.
 * @category instances
 * @since 0.2.0
 */
export const browserFiles: Files = {
  readFile: (path) => TE.left(fileError(path, NO_FILES)),
  listFiles: (dir) => TE.left(fileError(dir, NO_FILES))
}

/**
 * The browser's platform: what `run` uses for every capability it is not given in a browser
 * build (`fetch` is read when a sink is built, so a page may replace it first).
 * @category instances
 * @since 0.2.0
 */
export const browserPlatform: Platform = {
  clock: { now: () => Date.now() },
  logger: consoleLogger,
  files: browserFiles,
  vars: {},
  home: undefined,
  ids: randomId,
  timers: plainTimers,
  transport: (config) => {
    const { caCertPath, clientCertPath } = config.tls
    if (caCertPath !== undefined || clientCertPath !== undefined) {
      return TE.left(
        configError(
          caCertPath !== undefined ? 'tls.caCertPath' : 'tls.clientCertPath',
          'a browser takes its certificates from the system, not from a file: leave it unset'
        )
      )
    }
    // the DOM types want an ArrayBuffer-backed body; a Uint8Array of any buffer is fine in practice
    const fetch: Fetch = (url, init) => globalThis.fetch(url, init as unknown as RequestInit)
    return TE.right({ fetch, close: () => undefined })
  },
  interrupts: { onInterrupt: () => () => undefined, exit: () => undefined },
  source: () => ({ user: 'browser', sourceName: globalThis.location?.href ?? 'browser', gitCommit: O.none })
}

const browser = runIn(browserPlatform)

// -------------------------------------------------------------------------------------
// interpreters
// -------------------------------------------------------------------------------------

/**
 * Runs a pipeline in a browser (see `run` on Node): a sink description is built from
 * `browserPlatform` with what is given, and closed when the pipeline ends.
 * @category interpreters
 * @since 0.2.0
 */
export const run = browser.run

/**
 * `run`, rejecting with a `TrackingFailure` instead of returning a `Left`.
 * @category interpreters
 * @since 0.2.0
 */
export const runPromise = browser.runPromise

/**
 * Builds a sink description once in a browser, to share between many `run`s; close it when done.
 * @category interpreters
 * @since 0.2.0
 */
export const openSink = browser.openSink

// -------------------------------------------------------------------------------------
// Node only
// -------------------------------------------------------------------------------------

const nodeOnly = (name: string): TrackError =>
  configError(name, 'the local store is Node-only: in a browser, keep runs with memorySink or send them to a server with mlflowSink')

/**
 * In a browser there is no local store: a sink that `run` cannot build, with a `ConfigError`
 * saying so (`localSink` is Node-only).
 * @category Node only
 * @since 0.2.0
 */
export const localSink = (_options?: unknown): SinkDescription => describeSink('local (Node only)', () => TE.left(nodeOnly('localSink')))

/**
 * In a browser there is no local store to sync: a `ConfigError` saying so (`syncStore` is
 * Node-only).
 * @category Node only
 * @since 0.2.0
 */
export const syncStore = (_dir: string, _target: Sink, _options?: unknown): TE.TaskEither<TrackError, never> => TE.left(nodeOnly('syncStore'))
