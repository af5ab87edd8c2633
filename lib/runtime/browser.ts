/**
 * The browser runtime: the package's `run`, `runPromise` and `openSink` in a browser build, on
 * `browserPlatform`, with no local run store (`localSink` and `syncStore` are here only to fail
 * with a `ConfigError` that says so).
 *
 * @since 0.3.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { configError, type TrackError } from '../Errors.js'
import { browserPlatform } from '../platform/browser.js'
import { describeSink, type Sink, type SinkDescription } from '../Sink.js'
import { runIn } from './Runtime.js'

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
 * `run`, rejecting with a `TrackException` instead of returning a `Left`.
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
 * @category constructors
 * @since 0.2.0
 */
export const localSink = (_options?: unknown): SinkDescription => describeSink('local (Node only)', () => TE.left(nodeOnly('localSink')))

/**
 * In a browser there is no local store to sync: a `ConfigError` saying so (`syncStore` is
 * Node-only).
 * @category constructors
 * @since 0.2.0
 */
export const syncStore = (_dir: string, _target: Sink, _options?: unknown): TE.TaskEither<TrackError, never> => TE.left(nodeOnly('syncStore'))
