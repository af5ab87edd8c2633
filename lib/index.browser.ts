/**
 * charmory-track in a browser: the API every platform shares (`Public.ts`) and `run` on the
 * browser's platform (`fetch`, the console, Web Crypto). The local run store, its sync, file
 * digests and the command are Node-only and not here.
 *
 * @since 0.2.0
 */
export * from './Public.js'
export { run, runPromise, openSink, browserPlatform } from './platform/browser.js'
