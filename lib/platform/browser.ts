/**
 * The browser platform: the system clock, the console, the browser's `fetch`, Web Crypto ids
 * and plain timers. A browser has no file system, environment variables, home folder, signals,
 * local store or system metrics: artifacts are logged as bytes (`logArtifact({ path, bytes })`),
 * variables are given to `run` (`vars`), `sinkFromEnv` keeps runs in memory unless
 * `MLFLOW_TRACKING_URI` names a server, and an MLflow server needs `--cors-allowed-origins`
 * for the page's origin. The package's `run`, `runPromise` and `openSink` in a browser build
 * (lib/runtime/browser.ts) are those of `browserPlatform`.
 *
 * @since 0.2.0
 */
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { configError, fileError } from '../Errors.js'
import type { Fetch, Files, Platform } from './Platform.js'
import { consoleLogger, mathRandom, plainTimers, randomId, systemClock } from './web.js'

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
  clock: systemClock,
  logger: consoleLogger,
  files: browserFiles,
  vars: {},
  home: undefined,
  ids: randomId,
  random: mathRandom,
  timers: plainTimers,
  transport: (target) => {
    const { caCertPath, clientCertPath } = target
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
