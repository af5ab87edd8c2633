/**
 * What the `charmory-track` command touches outside itself (the environment, the terminal,
 * child processes, signals), gathered so that tests can run the commands in-process.
 *
 * @since 0.1.0
 */
import { spawn } from 'node:child_process'
import { homedir } from 'node:os'
import type * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describeError, type TrackError } from '../Errors.js'
import { loadMlflowConfig, tlsTarget, type EnvVars, type MlflowConfig } from '../mlflow/Config.js'
import { serverSink, type MlflowSink } from '../mlflow/MlflowSink.js'
import type { Fetch, Logger, Platform } from '../platform/Platform.js'
import { nodeLocalStore, nodePlatform } from '../runtime/node.js'
import * as Scope from '../Scope.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where text goes: a terminal when `isTTY`.
 * @category model
 * @since 0.1.0
 */
export interface Output {
  readonly write: (text: string) => unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

/**
 * @category model
 * @since 0.1.0
 */
export interface CliIo {
  readonly env: EnvVars
  readonly home: string
  readonly cwd: string
  readonly stdout: Output
  readonly stderr: Output
  /** The MLflow client's transport; its own (keep-alive, TLS settings) when undefined. */
  readonly fetch: Fetch | undefined
  readonly spawn: typeof spawn
  /** Calls `handler` on SIGINT or SIGTERM; the returned function stops listening. */
  readonly onStop: (handler: () => void) => () => void
}

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The real process.
 * @category instances
 * @since 0.1.0
 */
export const nodeIo = (): CliIo => ({
  env: process.env,
  home: homedir(),
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  fetch: undefined,
  spawn,
  onStop: (handler) => {
    process.once('SIGINT', handler)
    process.once('SIGTERM', handler)
    return () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
  }
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The local store the commands read: the folder of a `file:` `MLFLOW_TRACKING_URI`, else
 * `$ARMORY_HOME/mlruns`.
 * @category utils
 * @since 0.1.0
 */
export const localStoreOf = (io: CliIo): string => {
  const uri = (io.env['MLFLOW_TRACKING_URI'] ?? '').trim()
  const store = nodeLocalStore(io.env, io.home, io.cwd)
  return uri === '' || /^[A-Za-z][A-Za-z0-9+.-]+:/.test(uri) && !uri.startsWith('file:') ? store.defaultDir : store.folderOf(uri) ?? store.defaultDir
}

/**
 * The Node platform as the command sees it: its environment, home, folder, transport and
 * standard error.
 * @category utils
 * @since 0.2.0
 */
export const platformOf = (io: CliIo): Platform => {
  const fetch = io.fetch
  return {
    ...nodePlatform,
    vars: io.env,
    home: io.home,
    logger: loggerOf(io),
    ...(fetch === undefined ? {} : { transport: () => TE.right({ fetch, close: () => undefined }) })
  }
}

/**
 * The server at `uri`, configured from the command's environment and credentials file
 * (`uriSource` names the flag it came from, for errors; `refusedRetries` caps how often a
 * refused connection is retried, so that a command fails fast when nothing listens), and its
 * transport's `fetch`, opened in `scope`.
 * @category utils
 * @since 0.2.0
 */
export const serverAt = (
  io: CliIo,
  uri: string,
  options: { readonly uriSource?: string; readonly refusedRetries?: number },
  scope: Scope.Scope
): TE.TaskEither<TrackError, { readonly sink: MlflowSink; readonly fetch: Fetch }> => {
  const platform = platformOf(io)
  const { uriSource, refusedRetries } = options
  return pipe(
    loadMlflowConfig({ ...platform, vars: { ...io.env, MLFLOW_TRACKING_URI: uri } }, uriSource === undefined ? {} : { uriSource }),
    TE.map((cfg): MlflowConfig =>
      refusedRetries === undefined ? cfg : { ...cfg, retry: { ...cfg.retry, refusedRetries: Math.min(refusedRetries, cfg.retry.maxRetries) } }
    ),
    TE.flatMap((cfg) =>
      pipe(
        Scope.acquireRelease(scope, platform.transport(tlsTarget(cfg)), (t) => t.close()),
        TE.map((transport) => ({ sink: serverSink(cfg, transport, platform), fetch: transport.fetch }))
      )
    )
  )
}

/**
 * Runs `f` with the server at `uri` (see `serverAt`), or with why it cannot be used, and
 * releases the server's connections when `f` is done, whatever it did.
 * @category utils
 * @since 0.3.0
 */
export const withServer = async (
  io: CliIo,
  uri: string,
  options: { readonly uriSource?: string; readonly refusedRetries?: number },
  f: (server: E.Either<TrackError, { readonly sink: MlflowSink; readonly fetch: Fetch }>) => Promise<number>
): Promise<number> => {
  const scope = Scope.make()
  try {
    return await f(await serverAt(io, uri, options, scope)())
  } finally {
    for (const e of await scope.close()) loggerOf(io).warn(`releasing the connection: ${describeError(e)}`)
  }
}

/**
 * Warnings on standard error.
 * @category utils
 * @since 0.1.0
 */
export const loggerOf = (io: CliIo): Logger => ({
  warn: (message) => void io.stderr.write(`charmory-track: warning: ${message}\n`),
  info: (message) => void io.stderr.write(`charmory-track: ${message}\n`)
})
