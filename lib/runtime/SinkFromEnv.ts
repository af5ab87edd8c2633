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
 * | unset or empty, in a browser | memory (`memorySink`), with a warning that nothing is kept |
 *
 * How much a server sink leans on the local store is `CHARMORY_TRACK_FALLBACK` (or the option
 * `fallback`): `journal` (the default since 0.2.0) journals every run in the local store, so
 * that a run the server stopped taking is completed later by `charmory-track sync`
 * (`withLocalJournal`); `local` also goes on in the local store when the server cannot be
 * reached (`withLocalFallback`); `off` writes no local file. A platform without a local store
 * (a browser) writes no local file.
 *
 * `sinkFromEnv` is a description: `run` reads the environment variables of its platform when
 * it builds it, and a configuration error is a `Left` from `run`.
 *
 * @example
 * import { sinkFromEnv, run, evaluate } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const program = evaluate({ experiment: 'from-env' }, async () => ({ accuracy: 0.9 }))
 * // a store MLflow's own client would write directly is a ConfigError, not a throw
 * const result = await run(program, { sink: sinkFromEnv(), vars: { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' } })
 * assert.ok(E.isLeft(result) && result.left._tag === 'ConfigError')
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { configError, type TrackError } from '../Errors.js'
import { memorySink } from '../memory/MemorySink.js'
import { loadMlflowConfig, type MlflowConfig } from '../mlflow/Config.js'
import { mlflowSink } from '../mlflow/MlflowSink.js'
import type { Fetch } from '../platform/Platform.js'
import { buildSink, describeSink, type Sink, type SinkContext, type SinkDescription } from '../Sink.js'

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
      /** The local store's folder; none on a platform without one (a browser). */
      readonly localDir: string | undefined
      /** Whether runs are journaled in `localDir` (since 0.2.0; always with `fallback`). */
      readonly journal: boolean
    }
  /** Memory, on a platform without a local store (since 0.2.0); `ignored` is the folder asked for. */
  | { readonly _tag: 'Memory'; readonly ignored?: string }

/**
 * Everything `sinkFromEnv` reads from outside, injectable for tests.
 * @category model
 * @since 0.1.0
 */
export interface SinkFromEnvOptions {
  /**
   * How the local store backs a server; overrides `CHARMORY_TRACK_FALLBACK`: `'local'` (or
   * `true`) falls back to it, `'journal'` journals every run in it (the default), `'off'` (or
   * `false`) writes no local file.
   */
  readonly fallback?: boolean | FallbackMode
  /** The MLflow sink's transport; the platform's by default. */
  readonly fetch?: Fetch
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

const fallbackFrom = (env: SinkContext['vars'], option: boolean | FallbackMode | undefined): E.Either<TrackError, FallbackMode> => {
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
 * Reads where runs go from the platform's environment variables (see the module's
 * description), without opening anything. A store URI is never echoed in an error: it may
 * hold a password.
 * @category constructors
 * @since 0.1.0
 */
export const trackingTargetFromEnv = (
  platform: Pick<SinkContext, 'vars' | 'home' | 'files' | 'localStore'>,
  options: Pick<SinkFromEnvOptions, 'fallback'> = {}
): TE.TaskEither<TrackError, TrackingTarget> => {
  const env = platform.vars
  const store = platform.localStore
  const uri = (env['MLFLOW_TRACKING_URI'] ?? '').trim()
  const kind = scheme(uri)
  if (kind === 'http' || kind === 'https') {
    return pipe(
      TE.Do,
      TE.bind('config', () => loadMlflowConfig(platform)),
      TE.bind('fallback', () => TE.fromEither(fallbackFrom(env, options.fallback))),
      TE.map(({ config, fallback }) => ({
        _tag: 'Mlflow',
        config,
        fallback: store !== undefined && fallback === 'local',
        journal: store !== undefined && fallback !== 'off',
        localDir: store?.defaultDir
      }))
    )
  }
  if (/^(databricks|databricks-uc|uc)(:|$)/i.test(uri)) return TE.left(unsupported('Databricks'))
  if (kind !== undefined && kind !== 'file') return TE.left(unsupported(`"${kind}:"`))
  if (store === undefined) return TE.right(uri === '' ? { _tag: 'Memory' } : { _tag: 'Memory', ignored: uri })
  if (uri === '') return TE.right({ _tag: 'Local', dir: store.defaultDir })
  const dir = store.folderOf(uri)
  return dir === undefined
    ? TE.left(configError('MLFLOW_TRACKING_URI', 'a file: URI names a local folder, as file:///absolute/path'))
    : TE.right({ _tag: 'Local', dir })
}

const inMemory = (context: SinkContext, ignored: string | undefined): TE.TaskEither<TrackError, Sink> => {
  context.logger.warn(
    ignored === undefined
      ? 'MLFLOW_TRACKING_URI is not set and there is no local store here: runs are kept in memory only'
      : 'MLFLOW_TRACKING_URI names a local folder and there is no local store here: runs are kept in memory only'
  )
  return TE.right(memorySink())
}

const serverOf = (
  target: Extract<TrackingTarget, { readonly _tag: 'Mlflow' }>,
  options: SinkFromEnvOptions,
  context: SinkContext
): TE.TaskEither<TrackError, Sink> => {
  const { localDir } = target
  const fetch = options.fetch === undefined ? {} : { fetch: options.fetch }
  const store = context.localStore
  if (!target.fallback || store === undefined || localDir === undefined) {
    return buildSink(mlflowSink(target.config, { ...fetch, journal: target.journal && localDir !== undefined && { dir: localDir } }), context)
  }
  return pipe(
    buildSink(mlflowSink(target.config, { ...fetch, journal: false }), context),
    TE.flatMap((server) => store.around(server, localDir, 'fallback', context))
  )
}

/**
 * The sink the environment asks for (see the module's description), built when `run` runs.
 * @category constructors
 * @since 0.1.0
 */
export const sinkFromEnv = (options: SinkFromEnvOptions = {}): SinkDescription =>
  describeSink('from MLFLOW_TRACKING_URI', (context) =>
    pipe(
      trackingTargetFromEnv(context, options),
      TE.flatMap((target) => {
        if (target._tag === 'Mlflow') return serverOf(target, options, context)
        if (target._tag === 'Memory') return inMemory(context, target.ignored)
        // a Local target comes only from a runtime with a local store
        return buildSink(context.localStore!.sink(target.dir), context)
      })
    )
  )
