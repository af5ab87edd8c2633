/**
 * charmory-track: track ML evaluation runs (params, metrics, artifacts, how they ended) and
 * commit them to MLflow, as a functional pipeline library. This is the package's root on
 * Node: the API every platform shares (`Public.ts`), `run` on Node's runtime, and what only
 * Node has (the local run store, its sync and fallbacks, file digests). A browser build gets
 * `index.browser.ts` instead.
 *
 * @since 0.1.0
 */
export * from './Public.js'
export { run, runPromise, openSink, nodePlatform } from './runtime/node.js'
export { localSink } from './local/LocalSink.js'
export type { LocalRunSink, LocalSink, LocalSinkOptions } from './local/LocalSink.js'
/**
 * Reading the local run store back: its experiments, its runs (`listRuns`, `loadRun`), their
 * artifacts, and where the store is (`defaultStoreDir`, `armoryHome`).
 * @category namespaces
 * @since 0.3.0
 */
export * as LocalStore from './local/Store.js'
export { withLocalFallback, withLocalJournal } from './local/Fallback.js'
export type { FallbackOptions } from './local/Fallback.js'
export { syncStore } from './local/Sync.js'
export type { RunSync, SyncOptions, SyncProgress, SyncReport } from './local/Sync.js'
/**
 * MLflow's content digest of a dataset's bytes or file (`digestOf`, `fileDigest`).
 * @category namespaces
 * @since 0.3.0
 */
export * as Digest from './system/nodeDigest.js'
