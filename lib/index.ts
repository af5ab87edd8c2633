/**
 * charmory-track: track ML evaluation runs (params, metrics, artifacts, how they ended) and
 * commit them to MLflow, as a functional pipeline library. This is the package's root on
 * Node: the API every platform shares (`Public.ts`), `run` on Node's platform, and what only
 * Node has (the local run store, its sync and fallbacks, file digests). A browser build gets
 * `index.browser.ts` instead.
 *
 * @since 0.1.0
 */
export * from './Public.js'
export { run, runPromise, openSink, nodePlatform } from './platform/node.js'
export { localSink } from './local/LocalSink.js'
export type { LocalRunSink, LocalSink, LocalSinkOptions } from './local/LocalSink.js'
export { listExperiments, listRuns, loadRun, readArtifact, defaultStoreDir, armoryHome } from './local/Store.js'
export type { RunSummary, StoredExperiment, StoredPoint, StoredRun, SyncState } from './local/Store.js'
export { withLocalFallback, withLocalJournal, isUnreachable, syncCommandFor } from './local/Fallback.js'
export type { FallbackOptions } from './local/Fallback.js'
export { syncStore } from './local/Sync.js'
export type { RunSync, SyncOptions, SyncProgress, SyncReport } from './local/Sync.js'
export { digestOf, fileDigest } from './system/nodeDigest.js'
