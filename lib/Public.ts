/**
 * The public API every platform shares: the package's root on Node (`index.ts`) and in a
 * browser (`index.browser.ts`) is this plus that platform's `run`, `runPromise` and
 * `openSink`. Each name has one import path: a name of a namespace is not also at the root.
 *
 * @since 0.2.0
 */

// -------------------------------------------------------------------------------------
// the pipeline
// -------------------------------------------------------------------------------------

/**
 * The pipeline type `Track<A>` and everything to build, combine and run pipelines with (`of`,
 * `flatMap`, `map`, `orElse`, `bracket`, `primitive`, the fp-ts instances, ...).
 * @category namespaces
 * @since 0.1.0
 */
export * as Track from './Track.js'
export { trackParam, resetParams, fork, fromRecorded, getParams } from './ContextSteps.js'
export { withParams, withInitParams } from './Wrap.js'
export type { PositionalOptions, WrapOptions } from './Wrap.js'
/**
 * `Recorded<A>`, what a wrapped call (`withParams`, `withInitParams`) returns: its result and the
 * params it produced (`paramsOf`), mapped with `map`.
 * @category namespaces
 * @since 0.3.0
 */
export * as Recorded from './Recorded.js'
/**
 * `Params`, the immutable ordered map of param keys to values, and its operations.
 * @category namespaces
 * @since 0.1.0
 */
export * as Params from './Params.js'
/**
 * How a value becomes MLflow param entries (`toEntries`, `fieldsToEntries`) and which names
 * are secrets (`isSecretName`, recorded as `REDACTED`).
 * @category namespaces
 * @since 0.2.0
 */
export * as ParamValue from './ParamValue.js'
/**
 * `Context`, the params a pipeline carries from step to step, and its constructors.
 * @category namespaces
 * @since 0.1.0
 */
export * as Context from './Context.js'
/**
 * MLflow's rules for param, metric and tag keys.
 * @category namespaces
 * @since 0.2.0
 */
export * as Key from './Key.js'
/**
 * MLflow's rule for artifact paths, checked for every sink when an artifact is logged.
 * @category namespaces
 * @since 0.2.0
 */
export * as ArtifactPath from './ArtifactPath.js'

// -------------------------------------------------------------------------------------
// evaluations
// -------------------------------------------------------------------------------------

export { evaluate, reopen } from './Evaluation.js'
export type { ArtifactSource, Evaluation, EvaluationSpec, MetricOptions, RunHandle, Task } from './Evaluation.js'
/**
 * What a task's results become: metrics named by their place (`resultMetrics`), and the
 * artifact `results.json`.
 * @category namespaces
 * @since 0.3.0
 */
export * as Results from './Results.js'
/**
 * Running pipelines on any platform: `runIn`, `endOpenRuns`, and the types of `run`, its input
 * and its environment.
 * @category namespaces
 * @since 0.3.0
 */
export * as Runtime from './runtime/Runtime.js'
/**
 * The capabilities a pipeline reaches the outside world through (clock, logger, files,
 * variables, ids, timers, transport, signals, the machine's sampler), as interfaces.
 * @category namespaces
 * @since 0.3.0
 */
export * as Platform from './platform/Platform.js'
/**
 * The runs a `run` has open, so that a signal (or `endOpenRuns`) can end them all `KILLED`.
 * @category namespaces
 * @since 0.2.0
 */
export * as OpenRuns from './OpenRuns.js'

// -------------------------------------------------------------------------------------
// sinks
// -------------------------------------------------------------------------------------

/**
 * The sink model: `Sink`, `RunSink`, `SinkDescription` and what they carry, `describeSink` for
 * sinks of your own and `buildSink`.
 * @category namespaces
 * @since 0.3.0
 */
export * as Sink from './Sink.js'
/**
 * What was acquired, released together: the scope a sink is built in.
 * @category namespaces
 * @since 0.3.0
 */
export * as Scope from './Scope.js'
export { memorySink } from './memory/MemorySink.js'
export type { MemorySink, MemorySnapshot, MetricPoint, RunRecord } from './memory/MemorySink.js'
export { mlflowSink } from './mlflow/MlflowSink.js'
export type { JournalSetting, MlflowSink, MlflowSinkOptions, QueueOptions } from './mlflow/MlflowSink.js'
export { sinkFromEnv } from './runtime/SinkFromEnv.js'
export type { FallbackMode, SinkFromEnvOptions } from './runtime/SinkFromEnv.js'
/**
 * The MLflow client's configuration as MLflow's Python client reads it (`configFromEnv`,
 * `configFor`, `loadMlflowConfig`, the retry policy, the server's limits).
 * @category namespaces
 * @since 0.2.0
 */
export * as Mlflow from './mlflow/Config.js'
/**
 * How many requests the MLflow sink keeps in flight: `adaptiveInFlight` (found while a run
 * streams) or `fixedInFlight`.
 * @category namespaces
 * @since 0.3.0
 */
export * as InFlight from './mlflow/InFlight.js'

// -------------------------------------------------------------------------------------
// reading runs back, records
// -------------------------------------------------------------------------------------

/**
 * Reading runs back from any sink: searching runs and experiments with MLflow's syntax,
 * getting one run, paging through a metric's history, as pipeline steps or as tasks.
 * @category namespaces
 * @since 0.2.0
 */
export * as Query from './Query.js'
/**
 * MLflow's filter and order-by syntax: reading a query and evaluating it against a run.
 * @category namespaces
 * @since 0.2.0
 */
export * as SearchFilter from './SearchFilter.js'
/**
 * A regression gate over any sink's runs: the newest run against a baseline at one metric.
 * @category namespaces
 * @since 0.2.0
 */
export * as Gate from './Gate.js'
/**
 * System metrics: CPU, memory, disk and network sampled into `system/...` metrics while a
 * run is open, under MLflow's names; the monitor, its settings and the sampler interface.
 * @category namespaces
 * @since 0.2.0
 */
export * as SystemMetrics from './SystemMetrics.js'
/**
 * The bytes of structured artifacts as MLflow's client writes them: JSON and YAML
 * dictionaries, tables in `log_table`'s layout, `results.json`.
 * @category namespaces
 * @since 0.2.0
 */
export * as StructuredArtifacts from './StructuredArtifacts.js'
/**
 * Dataset inputs (`runs/log-inputs`): the model a task describes, the record sinks store,
 * its codec and the server's limits.
 * @category namespaces
 * @since 0.2.0
 */
export * as Dataset from './Dataset.js'

// -------------------------------------------------------------------------------------
// errors
// -------------------------------------------------------------------------------------

/**
 * Every way a pipeline can fail (`TrackError` and its constructors), `describeError`, and the
 * exception thrown at a promise boundary.
 * @category namespaces
 * @since 0.3.0
 */
export * as Errors from './Errors.js'
export { VERSION } from './version.js'
