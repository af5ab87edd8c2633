/**
 * `sinkFromEnv`: the sink a program gets from its environment, the way MLflow users expect
 * `MLFLOW_TRACKING_URI` to be read.
 *
 * | `MLFLOW_TRACKING_URI` | sink |
 * | --- | --- |
 * | unset or empty | the local store, `$ARMORY_HOME/mlruns` (`~/.armory/mlruns`) |
 * | `http://…`, `https://…` | the MLflow server, with the environment's credentials, TLS and retry settings |
 * | `file:///path`, `file:path` or a plain path | the local store in that folder |
 * | anything else (`sqlite:`, `postgresql:`, `databricks`, …) | a `ConfigError`: run `mlflow server` on that store and point `MLFLOW_TRACKING_URI` at it |
 *
 * How much a server sink leans on the local store is `CHARMORY_TRACK_FALLBACK` (or the option
 * `fallback`): `journal` (the default since 0.2.0) journals every run in the local store, so
 * that a run the server stopped taking is completed later by `charmory-track sync`
 * (`withLocalJournal`, applied by `run`); `local` also goes on in the local store when the
 * server cannot be reached (`withLocalFallback`); `off` writes no local file.
 *
 * A configuration error is not thrown: `sinkFromEnv` returns a sink that fails every operation
 * with it, so it surfaces as a `Left` from `run`. `sinkFromEnvEither` gives it at once, for
 * programs that check their configuration before starting.
 *
 * @example
 * import { sinkFromEnv, sinkFromEnvEither } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const sink = sinkFromEnv() // from process.env
 * const server = sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } })
 * assert.strictEqual(server.name, 'mlflow:http://127.0.0.1:5000')
 * const local = sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'file:///tmp/runs' } })
 * assert.strictEqual(local.name, 'local:/tmp/runs')
 *
 * // a configuration error is not thrown: the sink fails every operation with it
 * const unusable = sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' } })
 * assert.strictEqual(unusable.name, 'unusable (ConfigError)')
 * const checked = sinkFromEnvEither({ env: { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' } })
 * assert.ok(E.isLeft(checked) && checked.left._tag === 'ConfigError')
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../Env.js'
import { configError, type TrackError } from '../Errors.js'
import { defaultStoreDir } from '../local/Store.js'
import type { EnvVars, MlflowConfig } from '../mlflow/Config.js'
import type { Fetch } from '../mlflow/Http.js'
import type { Sink } from '../Sink.js'
import { withLocalFallback } from './fallback.js'
import { localSink, type LocalSinkOptions } from '../local/LocalSink.js'
import { loadMlflowConfig, mlflowSink } from './mlflow.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where the environment says runs go.
 * @category model
 * @since 0.1.0
 */
export type TrackingTarget =
  | { readonly _tag: 'Local'; readonly dir: string }
  | {
      readonly _tag: 'Mlflow'
      readonly config: MlflowConfig
      readonly fallback: boolean
      readonly localDir: string
      /** Whether runs are journaled in `localDir` (since 0.2.0; always with `fallback`). */
      readonly journal: boolean
    }

/**
 * Everything `sinkFromEnv` reads from outside, injectable for tests.
 * @category model
 * @since 0.1.0
 */
export interface SinkFromEnvOptions {
  /** The environment variables; `process.env` by default. */
  readonly env?: EnvVars
  /** The home folder (for `~/.armory` and `~/.mlflow/credentials`); the user's by default. */
  readonly home?: string
  /** Relative paths resolve from here; the working directory by default. */
  readonly cwd?: string
  /**
   * How the local store backs a server; overrides `CHARMORY_TRACK_FALLBACK`: `'local'` (or
   * `true`) falls back to it, `'journal'` journals every run in it (the default), `'off'` (or
   * `false`) writes no local file.
   */
  readonly fallback?: boolean | FallbackMode
  /** The MLflow sink's transport. */
  readonly fetch?: Fetch
  /** Where warnings go (retries, a fallback). */
  readonly logger?: Logger
  /** Options of the local store. */
  readonly local?: Omit<LocalSinkOptions, 'dir'>
}

/**
 * `CHARMORY_TRACK_FALLBACK`'s values.
 * @category model
 * @since 0.2.0
 */
export type FallbackMode = 'local' | 'journal' | 'off'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

const FallbackSetting = t.keyof({ local: null, journal: null, off: null }, 'local, journal or off')

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const scheme = (uri: string): string | undefined => /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(uri)?.[1]?.toLowerCase()

/** The folder a `file:` URI or a plain path names; a bad `file:` URI is undefined. */
const localPath = (uri: string, cwd: string): string | undefined => {
  try {
    if (!uri.startsWith('file:')) return resolve(cwd, uri)
    return uri.startsWith('file://') ? fileURLToPath(uri) : resolve(cwd, decodeURIComponent(uri.slice('file:'.length)))
  } catch {
    return undefined
  }
}

const fallbackFrom = (env: EnvVars, option: boolean | FallbackMode | undefined): E.Either<TrackError, FallbackMode> => {
  if (option !== undefined) return E.right(option === true ? 'local' : option === false ? 'off' : option)
  const raw = env['CHARMORY_TRACK_FALLBACK']
  if (raw === undefined || raw === '') return E.right('journal')
  return pipe(
    FallbackSetting.decode(raw.trim().toLowerCase()),
    E.mapLeft(() =>
      configError(
        'CHARMORY_TRACK_FALLBACK',
        'expected journal (journal runs in the local store, the default), local (also fall back to it) or off (no local file)'
      )
    )
  )
}

const unsupported = (name: string): TrackError =>
  configError(
    'MLFLOW_TRACKING_URI',
    `a ${name} store is not written directly by charmory-track: serve it with \`mlflow server --backend-store-uri <that store>\` ` +
      '(or `charmory-track server`) and set MLFLOW_TRACKING_URI to the server\'s http:// address'
  )

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Reads where runs go from the environment (see the module's description), without opening
 * anything. A store URI is never echoed in an error: it may hold a password.
 * @category constructors
 * @since 0.1.0
 */
export const trackingTargetFromEnv = (options: SinkFromEnvOptions = {}): E.Either<TrackError, TrackingTarget> => {
  const env = options.env ?? process.env
  const home = options.home ?? homedir()
  const localDir = defaultStoreDir(env, home)
  const uri = (env['MLFLOW_TRACKING_URI'] ?? '').trim()
  if (uri === '') return E.right({ _tag: 'Local', dir: localDir })
  const kind = scheme(uri)
  if (kind === 'http' || kind === 'https') {
    return pipe(
      E.Do,
      E.bind('config', () => loadMlflowConfig({ env, home })),
      E.bind('fallback', () => fallbackFrom(env, options.fallback)),
      E.map(({ config, fallback }) => ({ _tag: 'Mlflow', config, fallback: fallback === 'local', journal: fallback !== 'off', localDir }))
    )
  }
  if (/^(databricks|databricks-uc|uc)(:|$)/i.test(uri)) return E.left(unsupported('Databricks'))
  if (kind !== undefined && kind !== 'file') return E.left(unsupported(`"${kind}:"`))
  const dir = localPath(uri, options.cwd ?? process.cwd())
  return dir === undefined
    ? E.left(configError('MLFLOW_TRACKING_URI', 'a file: URI names a local folder, as file:///absolute/path'))
    : E.right({ _tag: 'Local', dir })
}

/**
 * A sink that fails every operation with `error` (how `sinkFromEnv` reports a configuration
 * error without throwing).
 * @category constructors
 * @since 0.1.0
 */
export const failingSink = (error: TrackError): Sink => ({
  name: `unusable (${error._tag})`,
  experiment: () => TE.left(error),
  openRun: () => TE.left(error),
  reopenRun: () => TE.left(error)
})

/**
 * The sink the environment asks for, or the configuration error.
 * @category constructors
 * @since 0.1.0
 */
export const sinkFromEnvEither = (options: SinkFromEnvOptions = {}): E.Either<TrackError, Sink> =>
  E.map((target: TrackingTarget): Sink => {
    if (target._tag === 'Local') return localSink({ ...options.local, dir: target.dir })
    const journal = !target.fallback && target.journal && { dir: target.localDir }
    const remote = mlflowSink(target.config, { fetch: options.fetch, logger: options.logger, journal })
    return target.fallback
      ? withLocalFallback(remote, localSink({ ...options.local, dir: target.localDir }), { logger: options.logger })
      : remote
  })(trackingTargetFromEnv(options))

/**
 * The sink the environment asks for; a configuration error becomes a sink that fails every
 * operation with it.
 * @category constructors
 * @since 0.1.0
 */
export const sinkFromEnv = (options: SinkFromEnvOptions = {}): Sink =>
  pipe(sinkFromEnvEither(options), E.getOrElse(failingSink))
