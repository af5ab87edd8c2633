/**
 * The run handle: what a task gets to stream into its run (metrics, params, tags, artifacts,
 * structured records, dataset inputs), as promises. Every argument is decoded where it enters
 * (`lib/Arguments.ts`), every method rejects with a `TrackException` naming what is at fault
 * and never throws; nothing logged before is lost; once the run's `evaluate` or `reopen` has
 * returned, every method rejects with `RunEnded` and stores nothing.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { Bytes, decodeArgument, described, Fields, isRecord, kindOf, optional, options, required, Text } from './Arguments.js'
import { joinArtifactPath, validateArtifactPath } from './ArtifactPath.js'
import { datasetRecord, type DatasetInput } from './Dataset.js'
import type { Env } from './Env.js'
import { invalidValue, runEnded, taskFailed, TrackException, unsupported, type TrackError } from './Errors.js'
import { validateKey } from './Key.js'
import { isSecretName, REDACTED, toEntries } from './ParamValue.js'
import type { Entry, Metric } from './Records.js'
import { metricPoint } from './internal/metrics.js'
import type { RunSink } from './Sink.js'
import {
  checkExtension,
  checkImage,
  dictText,
  IMAGE_EXTENSIONS,
  LOGGED_ARTIFACTS_TAG,
  loggedArtifactsWith,
  tableJson,
  type Table
} from './StructuredArtifacts.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of a metric point: `step` defaults to 0, `timestamp` to the clock's now.
 * @category model
 * @since 0.1.0
 */
export interface MetricOptions {
  readonly step?: number
  readonly timestamp?: number
}

/**
 * An artifact to log: a file on disk (by path), or bytes or text stored at `path`.
 * @category model
 * @since 0.1.0
 */
export type ArtifactSource =
  | string
  | { readonly path: string; readonly bytes: Uint8Array }
  | { readonly path: string; readonly text: string }

/**
 * What a task gets to stream into its run. Every method checks its input at once and
 * rejects with a `TrackException` naming the bad key or value; nothing already logged is lost.
 * Once the run's `evaluate` (or `reopen`) has returned, every method rejects with `RunEnded`
 * and stores nothing: `reopen` logs into an ended run.
 * @category model
 * @since 0.1.0
 */
export interface RunHandle {
  readonly runId: string
  readonly experimentId: string
  readonly logMetric: (key: string, value: number, options?: MetricOptions) => Promise<void>
  readonly logMetrics: (metrics: Readonly<Record<string, number>>, options?: MetricOptions) => Promise<void>
  /** A tag's value is a string, number or boolean; anything else is an `InvalidValue`. */
  readonly setTag: (key: string, value: string | number | boolean) => Promise<void>
  /** A file (stored under `artifactDir` by its base name), or bytes or text at their `path`. */
  readonly logArtifact: (source: ArtifactSource, artifactDir?: string) => Promise<void>
  /** Every file under the folder `dir`, keeping relative paths, under `artifactDir`. */
  readonly logArtifacts: (dir: string, artifactDir?: string) => Promise<void>
  /**
   * A param found during the run (MLflow's `log_param`), converted as `trackParam` converts
   * (a plain object flattens into `key.field` params, secrets become `***`). Logging the value
   * a param already holds is a no-op; another value is a `ParamConflict`.
   * @since 0.2.0
   */
  readonly logParam: (key: string, value: unknown) => Promise<void>
  /**
   * Several params at once. Every value is checked before anything is stored. When some keys
   * already hold other values, the new keys are still stored and the first conflict is the
   * rejection (MLflow's `log_batch` would store none of them).
   * @since 0.2.0
   */
  readonly logParams: (params: Readonly<Record<string, unknown>>) => Promise<void>
  /** A JSON value at `path`: YAML for `.yaml` / `.yml`, JSON otherwise (MLflow's `log_dict`). Since 0.2.0. */
  readonly logDict: (path: string, value: unknown) => Promise<void>
  /** Text at `path`, in UTF-8 (MLflow's `log_text`). Since 0.2.0. */
  readonly logText: (path: string, text: string) => Promise<void>
  /**
   * A table at `path` (ending with `.json`) in `log_table`'s layout, listed in the run's
   * `mlflow.loggedArtifacts` tag so that the UI shows it as a table; a table logged again at
   * the same path replaces it (MLflow's client appends rows). Since 0.2.0.
   */
  readonly logTable: (path: string, table: Table) => Promise<void>
  /** An encoded image (PNG, JPEG, ...) at `path`, which ends with its extension. Since 0.2.0. */
  readonly logImage: (path: string, bytes: Uint8Array) => Promise<void>
  /** A dataset the run read (`runs/log-inputs`; the Datasets column of the MLflow UI). Since 0.2.0. */
  readonly logInput: (dataset: DatasetInput) => Promise<void>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A tag as stored, or the reason it cannot be: the key must pass MLflow's rules and the value
 * be a string, number or boolean. A secret-named tag keeps its name and loses its value.
 * @category constructors
 * @since 0.3.0
 */
export const tagEntry = (key: string, v: unknown): E.Either<TrackError, Entry> => {
  const checked = validateKey(key)
  if (E.isLeft(checked)) return checked
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    return E.left(invalidValue(key, `a tag's value is a string, number or boolean, not ${kindOf(v)}`))
  }
  return E.right([key, isSecretName(key.slice(key.lastIndexOf('.') + 1)) ? REDACTED : String(v)])
}

/**
 * Whether a run handle may still log: false once its `evaluate` or `reopen` has returned.
 * @category model
 * @since 0.3.0
 */
export interface Liveness {
  open: boolean
}

/**
 * Logs `entries`, keeping the new keys when some conflict: a conflicting key is left out and
 * the rest logged again (sinks check every key before storing any); the first conflict is
 * the result once the rest is stored.
 */
const logKeeping =
  (sink: RunSink, entries: ReadonlyArray<Entry>, conflict?: TrackError): TE.TaskEither<TrackError, void> =>
  async () => {
    const logged = await sink.logParams(entries)()
    if (E.isRight(logged)) return conflict === undefined ? logged : E.left(conflict)
    const e = logged.left
    const rest = e._tag === 'ParamConflict' ? entries.filter(([k]) => k !== e.key) : entries
    return rest.length < entries.length ? logKeeping(sink, rest, conflict ?? e)() : logged
  }

const promised = <A>(ma: TE.TaskEither<TrackError, A>): Promise<A> =>
  ma().then((r) => {
    if (E.isLeft(r)) throw new TrackException(r.left)
    return r.right
  })

const rejected = (e: TrackError): Promise<never> => Promise.reject(new TrackException(e))

/** `f` of what was decoded, or the rejection naming what was not. */
const decoded = <A>(argument: E.Either<TrackError, A>, f: (a: A) => Promise<void>): Promise<void> =>
  E.isLeft(argument) ? rejected(argument.left) : f(argument.right)

// -------------------------------------------------------------------------------------
// argument codecs of the run handle
// -------------------------------------------------------------------------------------

const MetricOptionsCodec = optional(options('a record of options ({ step, timestamp })', {}))

const BytesSource = required('{ path, bytes }', { path: Text, bytes: Bytes })
const TextSource = required('{ path, text }', { path: Text, text: Text })

/** A file path, or bytes or text at a path: told apart by the field, so that an error names it. */
const ArtifactSourceCodec = new t.Type<ArtifactSource, ArtifactSource, unknown>(
  'a file path, or { path, bytes } or { path, text }',
  (u): u is ArtifactSource => typeof u === 'string' || BytesSource.is(u) || TextSource.is(u),
  (u, c) => {
    if (typeof u === 'string') return t.success(u)
    if (!isRecord(u)) return t.failure(u, c)
    return 'bytes' in u ? BytesSource.validate(u, c) : TextSource.validate(u, c)
  },
  t.identity
)

const TableCodec = described(
  'rows (an array of records) or columns (a record of arrays)',
  (u): u is Table => Array.isArray(u) || isRecord(u)
)

const FolderCodec = optional(Text)

/**
 * Every method of `handle`, made to reject with a `TrackException` whatever happens inside:
 * a getter of an argument that throws, or anything not foreseen, is a `TaskFailed`, never a
 * synchronous throw nor a rejection with a `TypeError`.
 */
const sealed = (handle: RunHandle): RunHandle => {
  const failure = (e: unknown): TrackException => (e instanceof TrackException ? e : new TrackException(taskFailed(e)))
  const seal =
    (f: (...args: ReadonlyArray<unknown>) => Promise<void>) =>
    (...args: ReadonlyArray<unknown>): Promise<void> => {
      try {
        return f(...args).catch((e: unknown) => Promise.reject(failure(e)))
      } catch (e) {
        return Promise.reject(failure(e))
      }
    }
  return Object.fromEntries(
    Object.entries(handle).map(([name, v]) => [name, typeof v === 'function' ? seal(v as (...args: ReadonlyArray<unknown>) => Promise<void>) : v])
  ) as unknown as RunHandle
}

/**
 * The handle of the open run `sink` for a task, in `env`, open while `live.open` (see `RunHandle`).
 * @category constructors
 * @since 0.3.0
 */
export const runHandle = (sink: RunSink, env: Env, live: Liveness): RunHandle => {
  // Checked when a method is called: a call made while the run was open is delivered.
  const ended = (): Promise<void> | undefined =>
    live.open ? undefined : Promise.reject(new TrackException(runEnded(sink.runId)))
  const metrics = (fn: string, entries: ReadonlyArray<readonly [unknown, unknown]>, options: unknown): Promise<void> =>
    decoded(decodeArgument(fn, 'options', MetricOptionsCodec, options), (o: MetricOptions = {}) => {
      const now = env.clock.now()
      const points: Array<Metric> = []
      for (const [key, value] of entries) {
        const p = metricPoint(key, value, o, now)
        if (E.isLeft(p)) return rejected(p.left)
        points.push(p.right)
      }
      return promised(sink.logMetrics(points))
    })
  const params = (entries: ReadonlyArray<readonly [unknown, unknown]>): Promise<void> => {
    const out: Array<Entry> = []
    for (const [key, value] of entries) {
      const converted = toEntries(key as string, value)
      if (E.isLeft(converted)) return rejected(converted.left)
      out.push(...converted.right)
    }
    return promised(logKeeping(sink, out))
  }
  // each file of a folder is checked too: what is stored after the run ended could race its end
  const store = (path: string, bytes: TE.TaskEither<TrackError, Uint8Array>): Promise<void> =>
    ended() ??
    promised(
      pipe(
        TE.fromEither(validateArtifactPath(path)),
        TE.flatMap((p) => TE.flatMap((b: Uint8Array) => sink.logArtifact(p, b))(bytes))
      )
    )
  const artifact = (source: ArtifactSource, folder: string | undefined): Promise<void> => {
    if (typeof source === 'string') {
      const name = source.split(/[\\/]/).filter((s) => s !== '').pop() ?? source
      return store(joinArtifactPath(folder, name), env.files.readFile(source))
    }
    const bytes = 'bytes' in source ? source.bytes : new TextEncoder().encode(source.text)
    return store(joinArtifactPath(folder, source.path), TE.right(bytes))
  }
  const artifacts = async (dir: string, folder: string | undefined): Promise<void> => {
    const files = await promised(env.files.listFiles(dir))
    for (const f of files) await store(joinArtifactPath(folder, f), env.files.readFile(`${dir}/${f}`))
  }
  return sealed({
    runId: sink.runId,
    experimentId: sink.experimentId,
    logMetric: (key, value, options) => ended() ?? metrics('logMetric', [[key, value]], options),
    logMetrics: (record, options) =>
      ended() ?? decoded(decodeArgument('logMetrics', 'metrics', Fields, record), (r) => metrics('logMetrics', Object.entries(r), options)),
    logParam: (key, value) => ended() ?? params([[key, value]]),
    logParams: (record) => ended() ?? decoded(decodeArgument('logParams', 'params', Fields, record), (r) => params(Object.entries(r))),
    setTag: (key, value) => {
      const refused = ended()
      if (refused !== undefined) return refused
      const entry = tagEntry(key, value)
      if (E.isLeft(entry)) return rejected(entry.left)
      return promised(sink.setTags([entry.right]))
    },
    logArtifact: (source, artifactDir) =>
      ended() ??
      decoded(decodeArgument('logArtifact', 'source', ArtifactSourceCodec, source), (s) =>
        decoded(decodeArgument('logArtifact', 'artifactDir', FolderCodec, artifactDir), (folder) => artifact(s, folder))
      ),
    logArtifacts: (dir, artifactDir) =>
      ended() ??
      decoded(decodeArgument('logArtifacts', 'dir', Text, dir), (d) =>
        decoded(decodeArgument('logArtifacts', 'artifactDir', FolderCodec, artifactDir), (folder) => artifacts(d, folder))
      ),
    ...recordsOf(sink, env, (path, bytes) => store(path, TE.right(bytes)), ended)
  })
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** The handle's structured artifacts and dataset inputs, stored through `store` and `sink`. */
const recordsOf = (
  sink: RunSink,
  env: Env,
  store: (path: string, bytes: Uint8Array) => Promise<void>,
  ended: () => Promise<void> | undefined
): Pick<RunHandle, 'logDict' | 'logText' | 'logTable' | 'logImage' | 'logInput'> => {
  let tables: string | undefined
  /** The run's tag as the sink holds it (other handles may have added tables), else ours. */
  const currentTables = async (): Promise<string | undefined> => {
    const found = env.sink.query === undefined ? undefined : await env.sink.query.getRun(sink.runId)()
    return found !== undefined && E.isRight(found) ? (found.right.tags[LOGGED_ARTIFACTS_TAG] ?? tables) : tables
  }
  /** The artifact path of `fn`, a string (its rules are checked where it is stored). */
  const at = (fn: string, path: unknown, f: (p: string) => Promise<void>): Promise<void> => decoded(decodeArgument(fn, 'path', Text, path), f)
  return {
    logDict: (path, value) =>
      at('logDict', path, (p) => {
        const text = dictText(p, value)
        return E.isLeft(text) ? rejected(text.left) : store(p, utf8(text.right))
      }),
    logText: (path, text) => at('logText', path, (p) => decoded(decodeArgument('logText', 'text', Text, text, p), (s) => store(p, utf8(s)))),
    logTable: (path, table) =>
      at('logTable', path, (p) =>
        decoded(decodeArgument('logTable', 'table', TableCodec, table, p), async (rows) => {
          const json = E.flatMap(() => tableJson(rows))(checkExtension(p, ['.json'], 'a table'))
          if (E.isLeft(json)) return rejected(json.left)
          await store(p, utf8(json.right))
          tables = loggedArtifactsWith(await currentTables(), p)
          return promised(sink.setTags([[LOGGED_ARTIFACTS_TAG, tables]]))
        })
      ),
    logImage: (path, bytes) =>
      at('logImage', path, (p) => {
        const checked = checkExtension(p, IMAGE_EXTENSIONS, 'an image')
        if (E.isLeft(checked)) return rejected(checked.left)
        return decoded(
          E.flatMap((b: Uint8Array) => checkImage(p, b))(decodeArgument('logImage', 'bytes', Bytes, bytes, p)),
          (b) => store(p, b)
        )
      }),
    logInput: (dataset) => {
      const refused = ended()
      if (refused !== undefined) return refused
      const record = datasetRecord(dataset)
      if (E.isLeft(record)) return rejected(record.left)
      if (sink.logInputs === undefined) return rejected(unsupported('dataset inputs', env.sink.name))
      return promised(sink.logInputs([record.right]))
    }
  }
}
