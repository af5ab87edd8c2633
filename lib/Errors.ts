/**
 * Every way a tracking pipeline can fail, as plain tagged values.
 *
 * A `TrackError` names what is at fault (the key, the value's path, the variable, the run) and
 * says what to do about it. None carries a secret: the HTTP layer scrubs URLs and bodies
 * before an error is built.
 *
 * @example
 * import { Errors } from 'charmory-track'
 *
 * assert.strictEqual(Errors.describeError(Errors.invalidKey('a//b', 'contains "//"')), 'invalid key "a//b": contains "//"')
 *
 * @since 0.1.0
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A param, metric or tag key that MLflow would refuse.
 * @category model
 * @since 0.1.0
 */
export interface InvalidKey {
  readonly _tag: 'InvalidKey'
  readonly key: string
  readonly reason: string
}

/**
 * A value that cannot be recorded (a cycle, an invalid date, a metric that is not a number).
 * `key` is the full key the value would have been recorded under.
 * @category model
 * @since 0.1.0
 */
export interface InvalidValue {
  readonly _tag: 'InvalidValue'
  readonly key: string
  readonly reason: string
}

/**
 * A function or class wrapped without a name to prefix its params with.
 * @category model
 * @since 0.1.0
 */
export interface MissingName {
  readonly _tag: 'MissingName'
  readonly what: 'function' | 'class'
}

/**
 * A param logged twice in one run with different values: MLflow params are immutable.
 * @category model
 * @since 0.1.0
 */
export interface ParamConflict {
  readonly _tag: 'ParamConflict'
  readonly runId: string
  readonly key: string
  readonly recorded: string
  readonly attempted: string
}

/**
 * A user function or task threw (or rejected). `cause` is what it threw.
 * @category model
 * @since 0.1.0
 */
export interface TaskFailed {
  readonly _tag: 'TaskFailed'
  readonly message: string
  readonly cause: unknown
}

/**
 * A run handle used after its run ended (its `evaluate` or `reopen` returned): nothing was
 * stored. `reopen(runId, task)` logs into an ended run.
 * @category model
 * @since 0.2.0
 */
export interface RunEnded {
  readonly _tag: 'RunEnded'
  readonly runId: string
}

/**
 * A run or experiment that the sink does not know.
 * @category model
 * @since 0.1.0
 */
export interface NotFound {
  readonly _tag: 'NotFound'
  readonly what: 'run' | 'experiment' | 'artifact' | 'metric'
  readonly id: string
}

/**
 * An artifact path that would leave the run's artifact folder.
 * @category model
 * @since 0.1.0
 */
export interface InvalidArtifactPath {
  readonly _tag: 'InvalidArtifactPath'
  readonly path: string
  readonly reason: string
}

/**
 * The server answered with an error status. `errorCode` is MLflow's `error_code` when the
 * body carried one (`INVALID_PARAMETER_VALUE`, `UNAUTHENTICATED`, ...).
 * @category model
 * @since 0.1.0
 */
export interface HttpError {
  readonly _tag: 'HttpError'
  readonly status: number
  readonly errorCode: string
  readonly message: string
  readonly endpoint: string
}

/**
 * The server could not be reached, the connection dropped, or an answer took too long.
 * @category model
 * @since 0.1.0
 */
export interface NetworkError {
  readonly _tag: 'NetworkError'
  readonly message: string
  readonly endpoint: string
}

/**
 * Bytes from outside (a server answer, a file, the environment) that do not have the
 * expected shape. `path` names the field.
 * @category model
 * @since 0.1.0
 */
export interface DecodeError {
  readonly _tag: 'DecodeError'
  readonly source: string
  readonly path: string
  readonly message: string
}

/**
 * A configuration value (an environment variable, an option) that cannot be used.
 * @category model
 * @since 0.1.0
 */
export interface ConfigError {
  readonly _tag: 'ConfigError'
  readonly variable: string
  readonly message: string
}

/**
 * A file that could not be read or written (an artifact to upload, the local store).
 * @category model
 * @since 0.1.0
 */
export interface FileError {
  readonly _tag: 'FileError'
  readonly path: string
  readonly message: string
}

/**
 * A search filter or order-by clause that cannot be read: `column` (1-based) is where in
 * `query` the problem starts.
 * @category model
 * @since 0.2.0
 */
export interface InvalidQuery {
  readonly _tag: 'InvalidQuery'
  readonly query: string
  readonly column: number
  readonly reason: string
}

/**
 * Something the sink (or the platform) cannot do, such as recording dataset inputs through a
 * sink that has no `logInputs`.
 * @category model
 * @since 0.2.0
 */
export interface Unsupported {
  readonly _tag: 'Unsupported'
  readonly what: string
  readonly where: string
}

/**
 * A run the server stopped taking (it could not be reached) while every record was kept in
 * the local store's journal: `command` completes it on the server once the server is back.
 * `cause` is the server's failure.
 * @category model
 * @since 0.2.0
 */
export interface Unsynced {
  readonly _tag: 'Unsynced'
  readonly runId: string
  /** The local store that holds the run, absolute. */
  readonly store: string
  /** The server's address, without credentials. */
  readonly target: string
  /** The shell command that pushes the run to the server. */
  readonly command: string
  readonly cause: TrackError
}

/**
 * A regression gate that failed: `metric` of the run judged is worse than its baseline's beyond
 * the tolerance; `reason` says by how much, in one line.
 * @category model
 * @since 0.2.0
 */
export interface Regression {
  readonly _tag: 'Regression'
  readonly metric: string
  /** The run judged and its value. */
  readonly runId: string
  readonly value: number
  /** The baseline run and its value. */
  readonly baselineRunId: string
  readonly baselineValue: number
  readonly reason: string
}

/**
 * Any error of this library: the `Left` of every pipeline, told apart by its `_tag`. `describeError`
 * turns one into a sentence.
 * @category model
 * @since 0.1.0
 */
export type TrackError =
  | InvalidKey
  | InvalidValue
  | MissingName
  | ParamConflict
  | TaskFailed
  | RunEnded
  | NotFound
  | InvalidArtifactPath
  | HttpError
  | NetworkError
  | DecodeError
  | ConfigError
  | FileError
  | InvalidQuery
  | Unsupported
  | Unsynced
  | Regression

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * An `InvalidKey`: `key` would be refused by MLflow, for `reason`.
 * @category constructors
 * @since 0.1.0
 */
export const invalidKey = (key: string, reason: string): TrackError => ({ _tag: 'InvalidKey', key, reason })

/**
 * An `InvalidValue`: the value recorded under `key` cannot be recorded, for `reason`.
 * @category constructors
 * @since 0.1.0
 */
export const invalidValue = (key: string, reason: string): TrackError => ({ _tag: 'InvalidValue', key, reason })

/**
 * A `MissingName`: an anonymous function or class was wrapped without the option `prefix`.
 * @category constructors
 * @since 0.1.0
 */
export const missingName = (what: 'function' | 'class'): TrackError => ({ _tag: 'MissingName', what })

/**
 * A `ParamConflict`: the param `key` of run `runId` already holds `recorded` and cannot become
 * `attempted`.
 * @category constructors
 * @since 0.1.0
 */
export const paramConflict = (runId: string, key: string, recorded: string, attempted: string): TrackError => ({
  _tag: 'ParamConflict',
  runId,
  key,
  recorded,
  attempted
})

/**
 * Wraps anything a user function threw. A `TrackException` thrown from inside a task keeps
 * its original error, so a typed error is never wrapped twice.
 * @category constructors
 * @since 0.1.0
 */
export const taskFailed = (cause: unknown): TrackError => {
  if (cause instanceof TrackException) return cause.error
  return { _tag: 'TaskFailed', message: describeUnknown(cause), cause }
}

/**
 * A `RunEnded`: run `runId` has ended; `reopen` it to log more.
 * @category constructors
 * @since 0.2.0
 */
export const runEnded = (runId: string): TrackError => ({ _tag: 'RunEnded', runId })

/**
 * A `NotFound`: the sink knows no run, experiment or artifact with this id.
 * @category constructors
 * @since 0.1.0
 */
export const notFound = (what: NotFound['what'], id: string): TrackError => ({ _tag: 'NotFound', what, id })

/**
 * An `InvalidArtifactPath`: `path` cannot name a file inside a run's artifact folder, for
 * `reason`.
 * @category constructors
 * @since 0.1.0
 */
export const invalidArtifactPath = (path: string, reason: string): TrackError => ({
  _tag: 'InvalidArtifactPath',
  path,
  reason
})

/**
 * An `HttpError`: the server answered `endpoint` with the HTTP status `status` and MLflow's
 * `errorCode`. `message` must already be free of secrets.
 * @category constructors
 * @since 0.1.0
 */
export const httpError = (status: number, errorCode: string, message: string, endpoint: string): TrackError => ({
  _tag: 'HttpError',
  status,
  errorCode,
  message,
  endpoint
})

/**
 * A `NetworkError`: no answer came from `endpoint` (refused, reset, timed out). `message`
 * must already be free of secrets.
 * @category constructors
 * @since 0.1.0
 */
export const networkError = (message: string, endpoint: string): TrackError => ({
  _tag: 'NetworkError',
  message,
  endpoint
})

/**
 * A `DecodeError`: data read from `source` (a server answer, a file) did not have the
 * expected shape at `path`.
 * @category constructors
 * @since 0.1.0
 */
export const decodeError = (source: string, path: string, message: string): TrackError => ({
  _tag: 'DecodeError',
  source,
  path,
  message
})

/**
 * A `ConfigError`: the setting `variable` (an environment variable, an option, a file) has a
 * value that cannot be used. `message` never quotes a secret.
 * @category constructors
 * @since 0.1.0
 */
export const configError = (variable: string, message: string): TrackError => ({
  _tag: 'ConfigError',
  variable,
  message
})

/**
 * A `FileError`: reading or writing the file at `path` failed.
 * @category constructors
 * @since 0.1.0
 */
export const fileError = (path: string, message: string): TrackError => ({ _tag: 'FileError', path, message })

/**
 * An `InvalidQuery`: the search filter or order-by clause `query` cannot be read; `column`
 * (1-based) is where the problem starts, `reason` what it is.
 * @category constructors
 * @since 0.2.0
 */
export const invalidQuery = (query: string, column: number, reason: string): TrackError => ({
  _tag: 'InvalidQuery',
  query,
  column,
  reason
})

/**
 * An `Unsupported`: `where` (a sink's name) cannot record `what` (`dataset inputs`).
 * @category constructors
 * @since 0.2.0
 */
export const unsupported = (what: string, where: string): TrackError => ({ _tag: 'Unsupported', what, where })

/**
 * An `Unsynced`: run `runId` is kept whole in the local store `store` but not on the server
 * `target`; `command` completes it there. `cause` is the server's failure.
 * @category constructors
 * @since 0.2.0
 */
export const unsynced = (runId: string, store: string, target: string, command: string, cause: TrackError): TrackError => ({
  _tag: 'Unsynced',
  runId,
  store,
  target,
  command,
  cause
})

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * What an exception says, in one line: an `Error`'s message, or anything else as text. The one
 * way this library describes what it caught from code it does not own.
 * @category destructors
 * @since 0.3.0
 */
export const describeUnknown = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * One sentence a person can act on.
 * @category destructors
 * @since 0.1.0
 */
export const describeError = (e: TrackError): string => {
  switch (e._tag) {
    case 'InvalidKey':
      return `invalid key ${JSON.stringify(e.key)}: ${e.reason}`
    case 'InvalidValue':
      return `invalid value for ${JSON.stringify(e.key)}: ${e.reason}`
    case 'MissingName':
      return `cannot name the params of an anonymous ${e.what}: give the option \`prefix\``
    case 'ParamConflict':
      return `param ${JSON.stringify(e.key)} of run ${e.runId} is already ${JSON.stringify(e.recorded)} and cannot become ${JSON.stringify(e.attempted)} (MLflow params are immutable)`
    case 'TaskFailed':
      return `task failed: ${e.message}`
    case 'RunEnded':
      return `run ${e.runId} has ended and its handle stores nothing more: use reopen(${JSON.stringify(e.runId)}, task) to log into it`
    case 'NotFound':
      return `${e.what} ${JSON.stringify(e.id)} not found`
    case 'InvalidArtifactPath':
      return `invalid artifact path ${JSON.stringify(e.path)}: ${e.reason}`
    case 'HttpError':
      return `${e.endpoint} answered ${e.status} ${e.errorCode}: ${e.message}`
    case 'NetworkError':
      return `${e.endpoint}: ${e.message}`
    case 'DecodeError':
      return `unexpected data from ${e.source} at ${e.path}: ${e.message}`
    case 'ConfigError':
      return `${e.variable}: ${e.message}`
    case 'FileError':
      return `${e.path}: ${e.message}`
    case 'InvalidQuery':
      return `invalid query ${JSON.stringify(e.query)} at column ${e.column}: ${e.reason}`
    case 'Unsupported':
      return `${e.where} cannot record ${e.what}`
    case 'Unsynced':
      return (
        `${describeError(e.cause)}; run ${e.runId} is kept in the local store ${e.store}, everything logged to it included: ` +
        `once ${e.target} is back, complete it there with \`${e.command}\``
      )
    case 'Regression':
      return `regression: ${e.reason}`
  }
}

/**
 * A `Regression`: the gate on `metric` failed, for `reason` (one line): the run `runId` has
 * `value`, the baseline run `baselineRunId` has `baselineValue`.
 * @category constructors
 * @since 0.2.0
 */
export const regression = (
  metric: string,
  run: { readonly runId: string; readonly value: number },
  baseline: { readonly runId: string; readonly value: number },
  reason: string
): TrackError => ({ _tag: 'Regression', metric, runId: run.runId, value: run.value, baselineRunId: baseline.runId, baselineValue: baseline.value, reason })

/**
 * The `Error` thrown where a `TrackError` must leave the functional world: at a promise
 * boundary (`runPromise`, the run handle's methods) or when wrapping an anonymous function.
 * @category model
 * @since 0.3.0 (`TrackingFailure` before)
 */
export class TrackException extends Error {
  readonly error: TrackError
  constructor(error: TrackError) {
    super(describeError(error))
    this.name = `TrackException(${error._tag})`
    this.error = error
  }
}

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

const tags: { readonly [K in TrackError['_tag']]: true } = {
  InvalidKey: true,
  InvalidValue: true,
  MissingName: true,
  ParamConflict: true,
  TaskFailed: true,
  RunEnded: true,
  NotFound: true,
  InvalidArtifactPath: true,
  HttpError: true,
  NetworkError: true,
  DecodeError: true,
  ConfigError: true,
  FileError: true,
  InvalidQuery: true,
  Unsupported: true,
  Unsynced: true,
  Regression: true
}

/**
 * Whether `u` is one of this library's errors (by its `_tag`).
 * @category refinements
 * @since 0.2.0
 */
export const isTrackError = (u: unknown): u is TrackError =>
  typeof u === 'object' && u !== null && typeof (u as { _tag?: unknown })._tag === 'string' && Object.hasOwn(tags, (u as { _tag: string })._tag)
