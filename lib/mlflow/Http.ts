/**
 * The HTTP layer of the MLflow sink: one lazy task per request, with a timeout on every
 * attempt, retries on network errors and on 408, 429, 500, 502, 503 and 504 (exponential
 * backoff with jitter, `Retry-After` honoured), re-sending the request each time; also on
 * the 400 an MLflow server gives a request that waited too long for a database connection
 * (an overloaded server, see `overloaded`). Other
 * answers fail at once with a typed error carrying MLflow's `error_code` and message, also
 * when the body is not JSON (the auth layer and the security middleware answer in plain
 * text). Every answer is decoded with io-ts. No credential ever reaches an error or a log.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { decodeError, describeError, describeUnknown, httpError, networkError, type TrackError } from '../Errors.js'
import type { Clock, Fetch, Platform, Timers } from '../platform/Platform.js'
import type { Auth, RetryPolicy } from './Config.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A client for one tracking server's REST API: requests that retry, decode their answer and
 * fail with a `TrackError`.
 * @category model
 * @since 0.1.0
 */
export interface HttpClient {
  /** `GET`/`POST` a JSON endpoint under `/api/2.0/`, decoding the answer with `codec`. */
  readonly json: <A>(
    method: 'GET' | 'POST',
    path: string,
    payload: Readonly<Record<string, unknown>> | undefined,
    codec: t.Decoder<unknown, A>
  ) => TE.TaskEither<TrackError, A>
  /** `PUT` raw bytes (an artifact). */
  readonly put: (path: string, bytes: Uint8Array) => TE.TaskEither<TrackError, void>
  /** `GET` raw bytes. */
  readonly get: (path: string) => TE.TaskEither<TrackError, Uint8Array>
}

/**
 * What the client needs besides the transport.
 * @category model
 * @since 0.1.0
 */
export interface HttpOptions {
  readonly baseUri: string
  readonly auth: Auth
  readonly retry: RetryPolicy
  readonly fetch: Fetch
  /** How the client waits between attempts (`timers`), reads `Retry-After` dates (`clock`) and draws jitter (`random`). */
  readonly platform: Pick<Platform, 'clock' | 'timers' | 'random'>
  /** Reports each retry (endpoint, attempt, reason), for a warning. */
  readonly onRetry: (endpoint: string, attempt: number, reason: string) => void
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504])

/**
 * MLflow answers `400 BAD_REQUEST` when a request waited longer than SQLAlchemy's pool timeout
 * for a database connection ("QueuePool limit of size 5 overflow 10 reached, connection timed
 * out"): many writers on one worker. Nothing was written; the server was overloaded, and the
 * request is worth sending again later.
 */
const overloaded = (status: number, text: string): boolean => status === 400 && text.includes('QueuePool limit')

const ErrorBody = t.type({ error_code: t.string, message: t.string })

/** The Basic credentials `user:password`, UTF-8, in base64 (`btoa` is in Node and browsers alike). */
const basicToken = (username: string, password: string): string =>
  btoa(Array.from(new TextEncoder().encode(`${username}:${password}`), (b) => String.fromCharCode(b)).join(''))

const authHeader = (auth: Auth): Record<string, string> => {
  switch (auth._tag) {
    case 'Basic':
      return { authorization: `Basic ${basicToken(auth.username, auth.password)}` }
    case 'Bearer':
      return { authorization: `Bearer ${auth.token}` }
    case 'None':
      return {}
  }
}

/**
 * `text` with every secret of `auth` (a password, a token, the Basic header) replaced by
 * `***`: what an error message or a log line may show.
 * @category utils
 * @since 0.1.0
 */
export const redact = (auth: Auth, text: string): string => {
  const secrets =
    auth._tag === 'Basic'
      ? [auth.password, basicToken(auth.username, auth.password)]
      : auth._tag === 'Bearer'
        ? [auth.token]
        : []
  return secrets.filter((s) => s !== '').reduce((acc, s) => acc.split(s).join('***'), text)
}

const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'ENDPOINT_NOT_FOUND',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  503: 'TEMPORARILY_UNAVAILABLE'
}

/** A readable error from any error answer, JSON or not. */
const errorOf = (status: number, body: string, endpoint: string): TrackError => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    parsed = undefined
  }
  const decoded = ErrorBody.decode(parsed)
  if (E.isRight(decoded)) return httpError(status, decoded.right.error_code, decoded.right.message, endpoint)
  const text = body.trim().replace(/\s+/g, ' ').slice(0, 500)
  return httpError(status, CODE_OF_STATUS[status] ?? `HTTP_${status}`, text === '' ? '(empty answer)' : text, endpoint)
}

/**
 * Where an io-ts decoding failed: the path of its first failing field, like
 * `run.info.run_id`, or `(root)`.
 * @category utils
 * @since 0.1.0
 */
export const failingPath = (errors: t.Errors): string => {
  const first = errors[0]
  if (first === undefined) return '(root)'
  const path = first.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  return path === '' ? '(root)' : path
}

/**
 * How many milliseconds to wait before the next attempt, after `failures` failed ones: what
 * the server's `Retry-After` asks (capped), or else `policy`'s exponential backoff with
 * jitter (none after the first failure, as urllib3 does).
 * @category utils
 * @since 0.1.0
 */
export const backoffMs = (
  policy: RetryPolicy,
  failures: number,
  random: () => number,
  retryAfter: string | null,
  clock: Clock
): number => {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter)
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - clock.now()
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), policy.maxBackoffMs)
  }
  // urllib3's schedule: no wait after the first failure, then factor * 2^(n-1), capped.
  const base = failures <= 1 ? 0 : Math.min(policy.backoffFactorMs * 2 ** (failures - 1), policy.maxBackoffMs)
  return base + random() * policy.backoffJitterMs
}

type Attempt = E.Either<
  { readonly error: TrackError; readonly retry: boolean; readonly retryAfter: string | null; readonly refused: boolean },
  Uint8Array
>

/** Whether a transport error says nothing listens at the address (node-fetch's code, or undici's cause's). */
const connectionRefused = (e: unknown): boolean => {
  const code = (x: unknown): unknown => (typeof x === 'object' && x !== null ? (x as { code?: unknown }).code : undefined)
  return code(e) === 'ECONNREFUSED' || code((e as { cause?: unknown } | null)?.cause) === 'ECONNREFUSED'
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * An HTTP client for one tracking server.
 * @category constructors
 * @since 0.1.0
 */
export const httpClient = (options: HttpOptions): HttpClient => {
  const { clock, random } = options.platform
  const { sleep } = options.platform.timers
  const headers = authHeader(options.auth)

  const attempt = async (
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    contentType: string
  ): Promise<Attempt> => {
    const endpoint = `${method} ${path.replace(/\?.*$/, '')}`
    try {
      const res = await options.fetch(`${options.baseUri}/${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': contentType }) },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(options.retry.timeoutMs)
      })
      const bytes = new Uint8Array(await res.arrayBuffer())
      if (res.status >= 200 && res.status < 300) return E.right(bytes)
      const text = redact(options.auth, new TextDecoder().decode(bytes))
      return E.left({
        error: errorOf(res.status, text, endpoint),
        retry: RETRYABLE.has(res.status) || overloaded(res.status, text),
        retryAfter: res.headers.get('retry-after'),
        refused: false
      })
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')
      const reason = timedOut
        ? `no answer within ${options.retry.timeoutMs} ms`
        : redact(options.auth, describeUnknown(e))
      return E.left({ error: networkError(reason, endpoint), retry: true, retryAfter: null, refused: connectionRefused(e) })
    }
  }

  const send = (
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    contentType: string
  ): TE.TaskEither<TrackError, Uint8Array> => {
    const endpoint = `${method} ${path.replace(/\?.*$/, '')}`
    // Each try sends the request anew: a task, not a promise awaited twice.
    const tryFrom = async (failures: number): Promise<E.Either<TrackError, Uint8Array>> => {
      const result = await attempt(method, path, body, contentType)
      if (E.isRight(result)) return result
      const { error, retry, retryAfter, refused } = result.left
      const limit = refused ? (options.retry.refusedRetries ?? options.retry.maxRetries) : options.retry.maxRetries
      if (!retry || failures >= limit) return E.left(error)
      options.onRetry(endpoint, failures + 1, describeError(error))
      await sleep(backoffMs(options.retry, failures + 1, random, retryAfter, clock))
      return tryFrom(failures + 1)
    }
    return () => tryFrom(0)
  }

  return {
    json: (method, path, payload, codec) => {
      const query =
        method === 'GET' && payload !== undefined
          ? `?${new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)])).toString()}`
          : ''
      const body = method === 'POST' ? JSON.stringify(payload ?? {}) : undefined
      return TE.flatMapEither(send(method, `api/2.0/${path}${query}`, body, 'application/json'), (bytes) => {
        let parsed: unknown
        try {
          const text = new TextDecoder().decode(bytes)
          parsed = text.trim() === '' ? {} : JSON.parse(text)
        } catch {
          return E.left(decodeError(`${method} ${path}`, '(root)', 'the answer is not JSON'))
        }
        const decoded = codec.decode(parsed)
        return E.isRight(decoded)
          ? E.right(decoded.right)
          : E.left(decodeError(`${method} ${path}`, failingPath(decoded.left), `expected ${codec.name}`))
      })
    },
    put: (path, bytes) => TE.map(() => undefined)(send('PUT', `api/2.0/${path}`, bytes, 'application/octet-stream')),
    get: (path) => send('GET', `api/2.0/${path}`, undefined, '')
  }
}
