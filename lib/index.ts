/**
 * charmory-track: track ML evaluation runs (params, metrics, artifacts, how they ended) and
 * commit them to MLflow, as a functional pipeline library.
 *
 * @since 0.1.0
 */
export * as Track from './Track.js'
export * as Params from './Params.js'
export * as Tracked from './Tracked.js'
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
export { run, runPromise, makeEnv, systemClock, stderrLogger, nodeFiles, nodeSource, endOpenRuns } from './Runtime.js'
export type { Clock, Env, EnvInput, Files, Logger, RunOptions, SourceInfo } from './Env.js'
export * as OpenRuns from './OpenRuns.js'
export type { Metric, RunRequest, RunSink, RunStatus, Sink } from './Sink.js'
export { memorySink } from './sinks/memory.js'
export type { MemorySink, MemorySnapshot, MetricPoint, RunRecord } from './sinks/memory.js'
export { localSink } from './sinks/local.js'
export type { LocalRunSink, LocalSink, LocalSinkOptions } from './sinks/local.js'
export * as LocalStore from './LocalStore.js'
export { listExperiments, listRuns, loadRun, readArtifact, defaultStoreDir, armoryHome } from './LocalStore.js'
export type { RunSummary, StoredExperiment, StoredPoint, StoredRun, SyncState } from './LocalStore.js'
export { sinkFromEnv, sinkFromEnvEither, trackingTargetFromEnv, failingSink } from './sinks/env.js'
export type { FallbackMode, SinkFromEnvOptions, TrackingTarget } from './sinks/env.js'
export { withLocalFallback, withLocalJournal, isUnreachable, syncCommandFor } from './sinks/fallback.js'
export type { FallbackOptions, JournalSetting } from './sinks/fallback.js'
export { syncStore } from './Sync.js'
export type { RunSync, SyncOptions, SyncProgress, SyncReport } from './Sync.js'
export { mlflowSink, loadMlflowConfig, LIMITS } from './sinks/mlflow.js'
export type { MlflowSink, MlflowSinkOptions } from './sinks/mlflow.js'
export { configFromEnv, configFor, defaultRetryPolicy } from './mlflow/Config.js'
export type { Auth, EnvVars, MlflowConfig, RetryPolicy, Tls } from './mlflow/Config.js'
export type { Fetch } from './mlflow/Http.js'
export type { QueueOptions } from './mlflow/MetricQueue.js'
export * from './Errors.js'
export { VERSION } from './version.js'
