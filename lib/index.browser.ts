/**
 * charmory-track in a browser: the API every platform shares (`Public.ts`) and `run` on the
 * browser's runtime (`fetch`, the console, Web Crypto). The local run store, its sync, file
 * digests and the command are Node-only: `localSink` and `syncStore` are here only to fail with
 * a `ConfigError` that says so.
 *
 * @since 0.2.0
 */
export * from './Public.js'
export { browserPlatform } from './platform/browser.js'
export { run, runPromise, openSink, localSink, syncStore } from './runtime/browser.js'
