/**
 * charmory-track: track ML evaluation runs (params, metrics, artifacts, how they ended) and
 * commit them to MLflow, as a functional pipeline library.
 *
 * @since 0.1.0
 */

/**
 * The pipeline type `Track<A>` and everything to build, combine and run pipelines with (`of`,
 * `flatMap`, `map`, `orElse`, `bracket`, the fp-ts instances, ...).
 * @category namespaces
 * @since 0.1.0
 */
export * as Track from './Track.js'
/**
 * `Params`, the immutable ordered map of param keys to values, and its operations.
 * @category namespaces
 * @since 0.1.0
 */
export * as Params from './Params.js'
/**
 * `Tracked<A>`, the result of a wrapped call together with the params it produced, and its
 * operations.
 * @category namespaces
 * @since 0.1.0
 */
export * as Tracked from './Tracked.js'
/**
 * `Context`, the params and the run a pipeline carries from step to step, and its constructors.
 * @category namespaces
 * @since 0.1.0
 */
export * as Context from './Context.js'

export type { Step } from './Track.js'
export { trackParam, resetParams, fork, fromTracked, getParams } from './Track.js'
export { withParams, withInitParams, paramsOf } from './Tracked.js'
export type { Patch, WrapOptions, PositionalOptions } from './Tracked.js'
export { toEntries, fieldsToEntries, isSecretName, REDACTED } from './ParamValue.js'
export type { Entry } from './ParamValue.js'
export { validateKey, keyProblem, MAX_KEY_LENGTH } from './Key.js'
export { validateArtifactPath, joinArtifactPath } from './ArtifactPath.js'
export { evaluate, reopen, resultMetrics } from './Evaluation.js'
export type {
  ArtifactSource,
  Evaluation,
  EvaluationSpec,
  MetricOptions,
  Results,
  RunHandle,
  Task
} from './Evaluation.js'
export { endOpenRuns, runIn } from './Runtime.js'
export type { OpenSink, Run, RunPromise } from './Runtime.js'
export { run, runPromise, openSink, nodePlatform } from './platform/node.js'
export type { Env, EnvInput, RunOptions } from './Env.js'
export { consoleLogger } from './platform/Platform.js'
export type { Clock, Files, LocalStoreSupport, Logger, Platform, Signals, SourceInfo, Timers, Transport } from './platform/Platform.js'
/**
 * The runs a `run` has open, so that a signal (or `endOpenRuns`) can end them all `KILLED`.
 * @category namespaces
 * @since 0.2.0
 */
export * as OpenRuns from './OpenRuns.js'
export { describeSink, isSinkDescription } from './Sink.js'
export type { Metric, RunRequest, RunSink, RunStatus, Sink, SinkDescription } from './Sink.js'
export { memorySink } from './sinks/memory.js'
export type { MemorySink, MemorySnapshot, MetricPoint, RunRecord } from './sinks/memory.js'
export { localSink, openStore } from './local/LocalSink.js'
export type { LocalRunSink, LocalSink, LocalSinkOptions } from './local/LocalSink.js'
/**
 * The local run store: its format's codecs and paths, and the API that reads runs back.
 * @category namespaces
 * @since 0.1.0
 */
export * as LocalStore from './local/Store.js'
export { listExperiments, listRuns, loadRun, readArtifact, defaultStoreDir, armoryHome } from './local/Store.js'
export type { RunSummary, StoredExperiment, StoredPoint, StoredRun, SyncState } from './local/Store.js'
export { sinkFromEnv, trackingTargetFromEnv } from './sinks/env.js'
export type { FallbackMode, SinkFromEnvOptions, TrackingTarget } from './sinks/env.js'
export { withLocalFallback, withLocalJournal, isUnreachable, syncCommandFor } from './local/Fallback.js'
export type { FallbackOptions } from './local/Fallback.js'
export { syncStore } from './local/Sync.js'
export type { RunSync, SyncOptions, SyncProgress, SyncReport } from './local/Sync.js'
export { mlflowSink, loadMlflowConfig, LIMITS } from './sinks/mlflow.js'
export type { JournalSetting, MlflowSink, MlflowSinkOptions } from './sinks/mlflow.js'
export { configFromEnv, configFor, defaultRetryPolicy } from './mlflow/Config.js'
export type { Auth, EnvVars, MlflowConfig, RetryPolicy, Tls } from './mlflow/Config.js'
export type { Fetch } from './mlflow/Http.js'
export type { QueueOptions } from './mlflow/MetricQueue.js'
/**
 * Reading runs back from any sink: searching runs and experiments with MLflow's syntax,
 * getting one run, paging through a metric's history, as pipeline steps or as tasks.
 * @category namespaces
 * @since 0.2.0
 */
export * as Query from './Query.js'
export { queryOf, queryOver } from './Query.js'
export type {
  ExperimentsPage,
  FoundExperiment,
  FoundRun,
  HistoryPage,
  HistoryRequest,
  RunQuery,
  RunsPage,
  SearchExperimentsRequest,
  SearchRunsRequest
} from './Query.js'
/**
 * MLflow's filter and order-by syntax: reading a query and evaluating it against a run.
 * @category namespaces
 * @since 0.2.0
 */
export * as SearchFilter from './SearchFilter.js'
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
export type { Json, Table } from './StructuredArtifacts.js'
/**
 * Dataset inputs (`runs/log-inputs`): the model a task describes, the record sinks store,
 * its codec and the server's limits.
 * @category namespaces
 * @since 0.2.0
 */
export * as Dataset from './Dataset.js'
export { datasetRecord } from './Dataset.js'
export type { DatasetInput, DatasetRecord } from './Dataset.js'
export { digestOf, fileDigest } from './system/nodeDigest.js'
export type { Monitor, SystemMetricsSettings, SystemMetricsSupport, SystemSample, SystemSampler } from './SystemMetrics.js'
export { nodeSampler, nodeSystemMetrics, nodeTimers } from './system/nodeSystemMetrics.js'
export type { NodeSamplerOptions } from './system/nodeSystemMetrics.js'
/**
 * A regression gate over any sink's runs: the newest run against a baseline at one metric.
 * @category namespaces
 * @since 0.2.0
 */
export * as Gate from './Gate.js'
export * from './Errors.js'
export { VERSION } from './version.js'
