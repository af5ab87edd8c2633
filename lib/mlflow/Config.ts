/**
 * Configuration of the MLflow sink, read from the environment the way MLflow's Python client
 * reads it: `MLFLOW_TRACKING_URI`, `MLFLOW_TRACKING_USERNAME` / `_PASSWORD` (HTTP Basic),
 * `MLFLOW_TRACKING_TOKEN` (Bearer; Basic wins when both are set), the credentials file
 * `~/.mlflow/credentials` (the environment wins field by field), the TLS settings and the
 * HTTP retry policy. Credentials in the URI (`http://user:password@host`, percent-decoded)
 * are HTTP Basic, as the Python client's `requests` reads them: the variables and the file
 * win over them, and they win over a token. The tracking URI is kept without them. Every variable is decoded with io-ts; a bad value is a `ConfigError`
 * naming the variable (never echoing a secret).
 *
 * @example
 * import { Mlflow } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const config = Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MLFLOW_TRACKING_TOKEN: 't' })
 * assert.ok(E.isRight(config) && config.right.auth._tag === 'Bearer')
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { parse as parseIni } from 'ini'
import * as t from 'io-ts/lib/index.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { configError, type TrackError } from '../Errors.js'
import { PARAM_VALUE_LIMIT, TAG_VALUE_LIMIT } from '../Limits.js'
import type { Platform, TlsTarget } from '../platform/Platform.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * How requests authenticate.
 * @category model
 * @since 0.1.0
 */
export type Auth =
  | { readonly _tag: 'None' }
  | { readonly _tag: 'Basic'; readonly username: string; readonly password: string }
  | { readonly _tag: 'Bearer'; readonly token: string }

/**
 * The HTTP retry policy (MLflow's defaults: 7 retries, backoff factor 2 s, jitter up to 1 s,
 * backoff capped at 120 s, 120 s timeout per request).
 * @category model
 * @since 0.1.0
 */
export interface RetryPolicy {
  readonly maxRetries: number
  /**
   * Retries when the connection is refused (nothing listens at the address); `maxRetries`
   * when absent. A command that should fail fast sets it low; a run in flight keeps waiting.
   * @since 0.2.0
   */
  readonly refusedRetries?: number
  readonly backoffFactorMs: number
  readonly backoffJitterMs: number
  readonly maxBackoffMs: number
  readonly timeoutMs: number
}

/**
 * TLS settings: skip certificate checks, or trust a CA bundle; present a client certificate.
 * @category model
 * @since 0.1.0
 */
export interface Tls {
  readonly insecure: boolean
  readonly caCertPath: string | undefined
  readonly clientCertPath: string | undefined
}

/**
 * Everything the MLflow sink needs to reach a tracking server: its address, how to
 * authenticate, the retry policy and the TLS settings.
 * @category model
 * @since 0.1.0
 */
export interface MlflowConfig {
  /** `http(s)://host:port[/prefix]`, without a trailing slash. */
  readonly trackingUri: string
  readonly auth: Auth
  readonly retry: RetryPolicy
  readonly tls: Tls
  /** `MLFLOW_EXPERIMENT_NAME`, the experiment to use when a spec names none. */
  readonly experimentName: string | undefined
}

/**
 * The environment variables this module reads.
 * @category model
 * @since 0.1.0
 */
export type EnvVars = Readonly<Record<string, string | undefined>>

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

// The codecs decode the text of one environment variable.
const numberFrom = (name: string, check: (n: number) => boolean) =>
  new t.Type<number, string, string>(
    name,
    (u): u is number => typeof u === 'number' && check(u),
    (u, c) => {
      if (u.trim() === '') return t.failure(u, c)
      const n = Number(u)
      return Number.isFinite(n) && check(n) ? t.success(n) : t.failure(u, c)
    },
    String
  )

/** A whole number of zero or more, from its decimal text. */
const CountFromString = numberFrom('a whole number >= 0', (n) => Number.isInteger(n) && n >= 0)
/** A number of zero or more (seconds may be fractional). */
const SecondsFromString = numberFrom('a number of seconds >= 0', (n) => n >= 0)
/** A number of seconds above zero. */
const PositiveSecondsFromString = numberFrom('a number of seconds > 0', (n) => n > 0)

/** `true` / `false` / `1` / `0`, in any case, as Python's MLflow reads booleans. */
const BooleanFromString = new t.Type<boolean, string, string>(
  'true or false',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => {
    const s = u.trim().toLowerCase()
    return s === 'true' || s === '1' ? t.success(true) : s === 'false' || s === '0' ? t.success(false) : t.failure(u, c)
  },
  String
)

/** A tracking server's address, and the Basic credentials it carried, if any. */
interface ServerUri {
  readonly uri: string
  readonly userinfo: { readonly username: string; readonly password: string } | undefined
}

// Python's unquote keeps a malformed escape as it is; decodeURIComponent throws on one.
const unquote = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Reads an `http(s)://` address. The problem never quotes the text: it may hold a password.
 */
const serverUri = (raw: string): E.Either<string, ServerUri> => {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return E.left('expected an http(s):// address such as http://127.0.0.1:5000')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return E.left(`expected an http(s):// address, not a ${JSON.stringify(url.protocol)} one`)
  }
  if (url.password === '' && url.username !== '') {
    return E.left('has a user name but no password: give both (http://user:password@host) or neither')
  }
  return E.right({
    uri: `${url.origin}${url.pathname}`.replace(/\/+$/, ''),
    userinfo: url.password === '' ? undefined : { username: unquote(url.username), password: unquote(url.password) }
  })
}

/** The `[mlflow]` section of `~/.mlflow/credentials`. */
const CredentialsFile = t.partial({
  mlflow: t.partial({ mlflow_tracking_username: t.string, mlflow_tracking_password: t.string })
})

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Decodes one variable; a missing or empty variable gives `fallback`. The value is not echoed. */
const variable = <A>(vars: EnvVars, name: string, codec: t.Decoder<string, A>, fallback: A): E.Either<TrackError, A> => {
  const raw = vars[name]
  if (raw === undefined || raw === '') return E.right(fallback)
  return pipe(
    codec.decode(raw),
    E.mapLeft(() => configError(name, `expected ${codec.name}`))
  )
}

const credentialsFrom = (text: string | undefined): E.Either<TrackError, { username?: string; password?: string }> => {
  if (text === undefined) return E.right({})
  // ini reads any text (unknown lines are skipped), so only the shape can be wrong
  return pipe(
    CredentialsFile.decode(parseIni(text)),
    E.mapLeft(() => configError('~/.mlflow/credentials', 'the [mlflow] section must hold text values')),
    E.map((f) => ({ username: f.mlflow?.mlflow_tracking_username, password: f.mlflow?.mlflow_tracking_password }))
  )
}

const authFrom = (vars: EnvVars, file: { username?: string; password?: string }, inUri: ServerUri['userinfo']): Auth => {
  const username = vars['MLFLOW_TRACKING_USERNAME'] || file.username
  const password = vars['MLFLOW_TRACKING_PASSWORD'] || file.password
  if (username && password) return { _tag: 'Basic', username, password }
  if (inUri !== undefined) return { _tag: 'Basic', ...inUri }
  const token = vars['MLFLOW_TRACKING_TOKEN']
  if (token) return { _tag: 'Bearer', token }
  return { _tag: 'None' }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The retry policy when no variable sets one: MLflow's own defaults (see `RetryPolicy`).
 * @category constructors
 * @since 0.1.0
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 7,
  backoffFactorMs: 2000,
  backoffJitterMs: 1000,
  maxBackoffMs: 120_000,
  timeoutMs: 120_000
}

/**
 * The configuration for `uri` (Basic auth when it carries `user:password@`), default retries
 * and default TLS. A bad address is a `ConfigError` naming `source`, where the address came
 * from (`mlflowSink(uri)` unless told).
 * @category constructors
 * @since 0.1.0
 */
export const configFor = (uri: string, source = 'the address given to mlflowSink'): E.Either<TrackError, MlflowConfig> =>
  configFromEnv({ MLFLOW_TRACKING_URI: uri }, { uriSource: source })

/**
 * Reads the configuration from environment variables and, when given, the text of the
 * credentials file. `MLFLOW_TRACKING_URI` must be an `http(s)://` address here; other stores
 * are `sinkFromEnv`'s business.
 *
 * @category constructors
 * @since 0.1.0
 */
export const configFromEnv = (
  vars: EnvVars,
  options: {
    readonly credentialsFile?: string
    /** Where `MLFLOW_TRACKING_URI`'s value came from (a flag, an argument), for errors. @since 0.2.0 */
    readonly uriSource?: string
  } = {}
): E.Either<TrackError, MlflowConfig> =>
  pipe(
    E.Do,
    E.bind('server', () => {
      const source = options.uriSource ?? 'MLFLOW_TRACKING_URI'
      const raw = vars['MLFLOW_TRACKING_URI']
      if (raw === undefined) return E.left(configError(source, 'is not set'))
      if (raw.trim() === '') return E.left(configError(source, 'is empty'))
      return E.mapLeft((problem: string) => configError(source, problem))(serverUri(raw))
    }),
    E.bind('file', () => credentialsFrom(options.credentialsFile)),
    E.bind('maxRetries', () => variable(vars, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', CountFromString, 7)),
    E.bind('backoff', () => variable(vars, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', SecondsFromString, 2)),
    E.bind('jitter', () => variable(vars, 'MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', SecondsFromString, 1)),
    E.bind('timeout', () => variable(vars, 'MLFLOW_HTTP_REQUEST_TIMEOUT', PositiveSecondsFromString, 120)),
    E.bind('insecure', () => variable(vars, 'MLFLOW_TRACKING_INSECURE_TLS', BooleanFromString, false)),
    E.filterOrElse(
      ({ insecure }) => !(insecure && Boolean(vars['MLFLOW_TRACKING_SERVER_CERT_PATH'])),
      () =>
        configError(
          'MLFLOW_TRACKING_INSECURE_TLS',
          'cannot be true while MLFLOW_TRACKING_SERVER_CERT_PATH is set: choose one of the two'
        )
    ),
    E.map(
      (v): MlflowConfig => ({
        trackingUri: v.server.uri,
        auth: authFrom(vars, v.file, v.server.userinfo),
        retry: {
          maxRetries: v.maxRetries,
          backoffFactorMs: v.backoff * 1000,
          backoffJitterMs: v.jitter * 1000,
          maxBackoffMs: defaultRetryPolicy.maxBackoffMs,
          timeoutMs: v.timeout * 1000
        },
        tls: {
          insecure: v.insecure,
          caCertPath: vars['MLFLOW_TRACKING_SERVER_CERT_PATH'] || undefined,
          clientCertPath: vars['MLFLOW_TRACKING_CLIENT_CERT_PATH'] || undefined
        },
        experimentName: vars['MLFLOW_EXPERIMENT_NAME'] || undefined
      })
    )
  )

/**
 * Where the transport of `config` connects, with its TLS settings.
 * @category utils
 * @since 0.3.0
 */
export const tlsTarget = (config: MlflowConfig): TlsTarget => ({ url: config.trackingUri, ...config.tls })

// -------------------------------------------------------------------------------------
// limits
// -------------------------------------------------------------------------------------

/**
 * MLflow's limits on one `log-batch` request and on values.
 * @category constants
 * @since 0.1.0
 */
export const LIMITS = {
  params: 100,
  tags: 100,
  metrics: 1000,
  entities: 1000,
  bytes: 1_000_000,
  paramValue: PARAM_VALUE_LIMIT,
  tagValue: TAG_VALUE_LIMIT
} as const

// -------------------------------------------------------------------------------------
// loading
// -------------------------------------------------------------------------------------

/** Whether a platform's file error means that there is no such file (Node's `ENOENT`). */
const isMissingFile = (e: TrackError): boolean => e._tag === 'FileError' && /^ENOENT\b/.test(e.message)

/**
 * The configuration from the platform's environment variables and `~/.mlflow/credentials`,
 * as MLflow's Python client reads them (`uriSource` names where `MLFLOW_TRACKING_URI`'s value
 * came from, a flag, for errors).
 *
 * @category constructors
 * @since 0.1.0
 */
export const loadMlflowConfig = (
  platform: Pick<Platform, 'vars' | 'home' | 'files'>,
  options: { readonly uriSource?: string } = {}
): TE.TaskEither<TrackError, MlflowConfig> => {
  const file = platform.home === undefined ? undefined : `${platform.home.replace(/[\\/]+$/, '')}/.mlflow/credentials`
  const credentials: TE.TaskEither<TrackError, string | undefined> =
    file === undefined
      ? TE.right(undefined)
      : pipe(
          platform.files.readFile(file),
          TE.map((bytes): string | undefined => new TextDecoder().decode(bytes)),
          TE.orElse((e) =>
            isMissingFile(e) ? TE.right(undefined) : TE.left(configError(file, `cannot be read: ${e._tag === 'FileError' ? e.message : e._tag}`))
          )
        )
  return pipe(
    credentials,
    TE.flatMapEither((credentialsFile) =>
      configFromEnv(platform.vars, {
        ...(credentialsFile === undefined ? {} : { credentialsFile }),
        ...(options.uriSource === undefined ? {} : { uriSource: options.uriSource })
      })
    )
  )
}
