/**
 * `evaluate`: the counterpart of Armory's EvaluationEngine. It opens a run in an experiment,
 * logs every param of the current context (and this library's version), hands the task a
 * `RunHandle` to stream metrics, tags and artifacts, logs the task's results as metrics, and
 * ends the run FINISHED, or FAILED with the error recorded: a run is never left RUNNING.
 *
 * An `evaluate` inside another evaluation's task opens a child run (`mlflow.parentRunId`).
 * `reopen` goes back into a run by id, to add metrics and artifacts after it ended.
 *
 * @example
 * import { evaluate, reopen, run, memorySink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   evaluate({ experiment: 'mnist' }, async (r) => {
 *     await r.logMetric('loss', 0.3, { step: 1 })
 *     return { accuracy: 0.97 }
 *   }),
 *   Track.flatMap(({ runId }) => reopen(runId, (r) => r.logMetric('custom_metric', 42)))
 * )
 * const sink = memorySink()
 * assert.ok(E.isRight(await run(program, { sink })))
 * const [stored] = sink.snapshot().runs
 * assert.strictEqual(stored?.status, 'FINISHED')
 * assert.deepStrictEqual(Object.keys(stored?.metrics ?? {}).sort(), ['accuracy', 'custom_metric', 'loss'])
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { Bytes, Callable, decodeArgument, described, Fields, Flag, isRecord, kindOf, optional, options, required, Text } from './Arguments.js'
import { joinArtifactPath, validateArtifactPath } from './ArtifactPath.js'
import type { Context } from './Context.js'
import { datasetRecord, type DatasetInput } from './Dataset.js'
import type { Env } from './Env.js'
import { describeError, invalidValue, runEnded, taskFailed, TrackingFailure, unsupported, type TrackError } from './Errors.js'
import { validateKey } from './Key.js'
import { cutTo, fitTags, TAG_VALUE_LIMIT, withinLimits } from './Limits.js'
import * as P from './Params.js'
import { isSecretName, REDACTED, toEntries, type Entry } from './ParamValue.js'
import type { Metric, RunSink } from './Sink.js'
import {
  checkExtension,
  checkImage,
  dictText,
  IMAGE_EXTENSIONS,
  LOGGED_ARTIFACTS_TAG,
  loggedArtifactsWith,
  RESULTS_ARTIFACT,
  tableJson,
  toJson,
  type Table
} from './StructuredArtifacts.js'
import { planSystemMetrics } from './SystemMetrics.js'
import { isTrack, primitive, type Step, type Track } from './Track.js'
import { VERSION } from './version.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Which run `evaluate` opens: the experiment it belongs to, and optionally its name,
 * description and tags.
 * @category model
 * @since 0.1.0
 */
export interface EvaluationSpec {
  /** The experiment's name; it is created when missing. */
  readonly experiment: string
  /**
   * Defaults to the experiment's name, the start time and a short random id
   * (`mnist-20240501T120000-3fa9c1`), so that two runs started in one second differ.
   */
  readonly runName?: string
  /** Stored as the run's description (`mlflow.note.content`). */
  readonly description?: string
  readonly tags?: Readonly<Record<string, string>>
  /**
   * Sample CPU, memory, disk and network into `system/...` metrics while the run is open
   * (`SystemMetrics`); left out, `MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING` decides. Since 0.2.0.
   */
  readonly systemMetrics?: boolean
  /**
   * Store the task's results as the artifact `results.json` as well as metrics (as Armory
   * stored per-chain results); `true` by default. Since 0.2.0.
   */
  readonly resultsArtifact?: boolean
}

/**
 * What a task may return: numbers, nested in records and arrays. Nested results become
 * metrics named with `/` (`chain/metric`, `metric/key`, `metric/0`).
 * @category model
 * @since 0.1.0
 */
export type Results = number | ReadonlyArray<Results> | { readonly [key: string]: Results }

/**
 * What `evaluate` yields.
 * @category model
 * @since 0.1.0
 */
export interface Evaluation<R> {
  readonly runId: string
  readonly experimentId: string
  readonly results: R
}

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
 * rejects with a `TrackingFailure` naming the bad key or value; nothing already logged is lost.
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

/**
 * A task: a function of the run handle. What it returns is its result, awaited when it is a
 * promise, unless it is a pipeline (a value `Track.isTrack` recognizes): that runs in the run's
 * environment, and what it yields is the result. A plain function returned is a result too.
 * @category model
 * @since 0.1.0
 */
export type Task<R> = (run: RunHandle) => Track<R> | PromiseLike<R> | R

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** A number as an error message shows it; anything else by what it is. */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : kindOf(v))

const metricPoint = (key: unknown, value: unknown, options: MetricOptions, now: number): E.Either<TrackError, Metric> =>
  E.flatMap((k: string): E.Either<TrackError, Metric> => {
    if (typeof value !== 'number') return E.left(invalidValue(k, `a metric must be a number, got ${typeof value}`))
    // only a step left out is 0: a null from JSON is not taken for one
    const step = options.step === undefined ? 0 : options.step
    if (!Number.isSafeInteger(step)) return E.left(invalidValue(k, `the step must be an integer, got ${shown(step)}`))
    const timestamp = options.timestamp === undefined ? now : options.timestamp
    if (!Number.isSafeInteger(timestamp)) {
      return E.left(invalidValue(k, `the timestamp must be integer milliseconds, got ${shown(timestamp)}`))
    }
    return E.right({ key: k, value, step, timestamp })
  })(validateKey(key))

const walkable = (v: unknown): v is object => {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return Array.isArray(v) || proto === Object.prototype || proto === null
}

/**
 * The metrics of a task's results: nested records join with `/key`, arrays with `/index`.
 * A value that is not a number (a string, a `Date`, a `Map`, a class instance) is an
 * `InvalidValue` naming its metric key (`results` for the whole value).
 * @category utils
 * @since 0.1.0
 */
export const resultMetrics = (results: unknown, timestamp: number): E.Either<TrackError, ReadonlyArray<Metric>> => {
  if (results === undefined || results === null) return E.right([])
  if (!walkable(results)) {
    return E.left(invalidValue('results', `a task returns a record of metrics (or nothing), not ${kindOf(results)}`))
  }
  const out: Array<Metric> = []
  const walk = (key: string, v: unknown): E.Either<TrackError, void> => {
    if (typeof v === 'object' && v !== null) {
      if (!walkable(v)) {
        return E.left(invalidValue(key, `a result is a number, or a record or array of them, not ${kindOf(v)}`))
      }
      for (const [k, item] of Object.entries(v)) {
        const r = walk(key === '' ? k : `${key}/${k}`, item)
        if (E.isLeft(r)) return r
      }
      return E.right(undefined)
    }
    return E.map((m: Metric) => void out.push(m))(metricPoint(key, v, {}, timestamp))
  }
  return E.as(out)(walk('', results))
}

/**
 * A tag as stored, or the reason it cannot be: the key must pass MLflow's rules and the value
 * be a string, number or boolean. A secret-named tag keeps its name and loses its value.
 */
const tagEntry = (key: string, v: unknown): E.Either<TrackError, Entry> => {
  const checked = validateKey(key)
  if (E.isLeft(checked)) return checked
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    return E.left(invalidValue(key, `a tag's value is a string, number or boolean, not ${kindOf(v)}`))
  }
  return E.right([key, isSecretName(key.slice(key.lastIndexOf('.') + 1)) ? REDACTED : String(v)])
}

/** Whether a run handle may still log: false once its `evaluate` or `reopen` has returned. */
interface Liveness {
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
    if (E.isLeft(r)) throw new TrackingFailure(r.left)
    return r.right
  })

const rejected = (e: TrackError): Promise<never> => Promise.reject(new TrackingFailure(e))

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
 * Every method of `handle`, made to reject with a `TrackingFailure` whatever happens inside:
 * a getter of an argument that throws, or anything not foreseen, is a `TaskFailed`, never a
 * synchronous throw nor a rejection with a `TypeError`.
 */
const sealed = (handle: RunHandle): RunHandle => {
  const failure = (e: unknown): TrackingFailure => (e instanceof TrackingFailure ? e : new TrackingFailure(taskFailed(e)))
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

const handleOf = (sink: RunSink, env: Env, live: Liveness): RunHandle => {
  // Checked when a method is called: a call made while the run was open is delivered.
  const ended = (): Promise<void> | undefined =>
    live.open ? undefined : Promise.reject(new TrackingFailure(runEnded(sink.runId)))
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

/** `results.json`: the task's results as JSON, indented by 2 (NaN and infinities as strings). */
const resultsArtifact = (sink: RunSink, results: unknown): TE.TaskEither<TrackError, void> =>
  pipe(
    TE.fromEither(toJson('results', results)),
    TE.flatMap((json) => sink.logArtifact(RESULTS_ARTIFACT, utf8(JSON.stringify(json, null, 2))))
  )

/**
 * Runs `task` with the handle of `sink`, in a child context that writes to that run. The
 * handle closes when the task has returned: what it logs later could race the run's end.
 */
const runTask = async <R>(task: Task<R>, sink: RunSink, context: Context, env: Env): Promise<E.Either<TrackError, R>> => {
  const live: Liveness = { open: true }
  let outcome: E.Either<TrackError, R>
  try {
    const out = task(handleOf(sink, env, live))
    // a pipeline runs in the run's environment; anything else (a function too) is the result
    outcome = isTrack(out) ? (await (out as Track<R>)(context, { ...env, currentRun: sink })).result : E.right(await out)
  } catch (e) {
    outcome = E.left(taskFailed(e))
  }
  live.open = false
  return outcome
}

/** The experiment, the start time and six hex digits of the platform's ids. */
const defaultRunName = (experiment: string, startTime: number, ids: () => string): string =>
  `${experiment}-${new Date(startTime).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${ids().slice(0, 6)}`

const standardTags = (
  spec: EvaluationSpec,
  userTags: ReadonlyArray<Entry>,
  runName: string,
  env: Env
): ReadonlyArray<Entry> => {
  const source = env.source()
  const tags: Array<Entry> = [
    ['mlflow.runName', runName],
    ['mlflow.user', source.user],
    ['mlflow.source.name', source.sourceName],
    ['mlflow.source.type', 'LOCAL']
  ]
  if (O.isSome(source.gitCommit)) tags.push(['mlflow.source.git.commit', source.gitCommit.value])
  if (spec.description !== undefined) tags.push(['mlflow.note.content', spec.description])
  if (env.currentRun !== undefined) tags.push(['mlflow.parentRunId', env.currentRun.runId])
  return [...tags, ...userTags]
}

const ExperimentName = new t.Type<string, string, unknown>(
  "an experiment's name",
  (u): u is string => typeof u === 'string' && u.trim() !== '' && u.length <= 500,
  (u, c) =>
    typeof u !== 'string'
      ? t.failure(u, c)
      : u.trim() === '' || u.length > 500
        ? t.failure(u, c, 'an experiment name has 1 to 500 characters')
        : t.success(u),
  t.identity
)

const SPEC = "a spec such as { experiment: 'name' }"
const SpecName = required(SPEC, { experiment: ExperimentName })
const SpecFields = options(SPEC, {
  runName: Text,
  description: Text,
  tags: Fields,
  systemMetrics: Flag,
  resultsArtifact: Flag
})

/**
 * The spec decoded, with its user tags as stored: a spec built from untyped input (a config
 * file, JavaScript) fails here, naming the field.
 */
const checkSpec = (spec: unknown): E.Either<TrackError, { readonly spec: EvaluationSpec; readonly tags: ReadonlyArray<Entry> }> =>
  pipe(
    decodeArgument('evaluate', 'spec', SpecName, spec),
    E.flatMap(() => decodeArgument('evaluate', 'spec', SpecFields, spec)),
    E.flatMap((fields) => {
      const out: Array<Entry> = []
      for (const [key, value] of Object.entries(fields.tags ?? {})) {
        const entry = tagEntry(key, value)
        if (E.isLeft(entry)) return entry
        out.push(entry.right)
      }
      return E.right({ spec: spec as EvaluationSpec, tags: out })
    })
  )

/** The error tags a failed run keeps. */
const errorTags = (e: TrackError): ReadonlyArray<Entry> => [
  ['charmory.error', cutTo(describeError(e), TAG_VALUE_LIMIT)],
  ['charmory.error.type', e._tag]
]

/**
 * Ends `sink` as the outcome says; a failure is recorded and ends the run FAILED, and the
 * outcome's error wins over any error met while recording it.
 */
const finish = async <R>(sink: RunSink, outcome: E.Either<TrackError, R>, env: Env): Promise<E.Either<TrackError, R>> => {
  if (E.isRight(outcome)) {
    const ended = await sink.end('FINISHED', env.clock.now())()
    if (E.isRight(ended)) return outcome
    return finish(sink, E.left(ended.left), env)
  }
  await sink.setTags(errorTags(outcome.left))()
  const ended = await sink.end('FAILED', env.clock.now())()
  if (E.isLeft(ended)) env.logger.warn(`run ${sink.runId} could not be ended FAILED: ${describeError(ended.left)}`)
  return outcome
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Runs `task` as one MLflow run of `spec.experiment` and yields the run's id with the
 * task's results. See the module's description for what the run gets.
 *
 * @example
 * import { evaluate, run, memorySink, trackParam, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('seed', 42),
 *   Track.flatMap(() =>
 *     evaluate({ experiment: 'mnist', runName: 'baseline', tags: { team: 'vision' } }, async (r) => {
 *       await r.setTag('stage', 'test')
 *       return { accuracy: 0.97, per_class: [0.9, 1] }
 *     })
 *   )
 * )
 * const sink = memorySink()
 * const result = await run(program, { sink })
 * assert.deepStrictEqual(E.map((e: { results: unknown }) => e.results)(result), E.right({ accuracy: 0.97, per_class: [0.9, 1] }))
 * const [stored] = sink.snapshot().runs
 * assert.strictEqual(stored?.runName, 'baseline')
 * assert.strictEqual(stored?.params['seed'], '42') // the context's params
 * assert.strictEqual(stored?.tags['stage'], 'test')
 * assert.deepStrictEqual(Object.keys(stored?.metrics ?? {}).sort(), ['accuracy', 'per_class/0', 'per_class/1'])
 *
 * // a task that throws ends its run FAILED, and the error comes back as a Left
 * const failed = await run(evaluate({ experiment: 'mnist' }, () => { throw new Error('out of memory') }), { sink })
 * assert.ok(E.isLeft(failed) && failed.left._tag === 'TaskFailed')
 * assert.strictEqual(sink.snapshot().runs[1]?.status, 'FAILED')
 *
 * @category constructors
 * @since 0.1.0
 */
export const evaluate =
  <R extends Results | void>(spec: EvaluationSpec, task: Task<R>): Track<Evaluation<R>> =>
  primitive(async (context, env): Promise<Step<Evaluation<R>>> => {
    const done = (result: E.Either<TrackError, Evaluation<R>>): Step<Evaluation<R>> => ({ context, result })
    const checked = E.flatMap((c: { readonly spec: EvaluationSpec; readonly tags: ReadonlyArray<Entry> }) =>
      E.as(c)(decodeArgument('evaluate', 'task', Callable, task))
    )(checkSpec(spec))
    if (E.isLeft(checked)) return done(checked)
    const monitoring = planSystemMetrics(spec.systemMetrics, env)
    if (E.isLeft(monitoring)) return done(monitoring)
    const experimentId = await env.sink.experiment(spec.experiment)()
    if (E.isLeft(experimentId)) return done(experimentId)
    const startTime = env.clock.now()
    const runName = spec.runName ?? defaultRunName(spec.experiment, startTime, env.ids)
    const opened = await env.sink.openRun({
      runId: env.ids(),
      experimentId: experimentId.right,
      runName,
      startTime,
      tags: fitTags(standardTags(spec, checked.right.tags, runName, env), env.logger)
    })()
    if (E.isLeft(opened)) return done(opened)
    const sink = withinLimits(opened.right, env.logger)
    const monitor = monitoring.right?.(sink)
    const params = P.toEntries(P.set('charmory-track.version', VERSION)(context.params))
    const outcome = await pipe(
      sink.logParams(params),
      TE.flatMap(() => () => runTask(task, sink, context, env)),
      TE.tap((results) =>
        pipe(
          TE.fromEither(resultMetrics(results, env.clock.now())),
          TE.flatMap((ms) => (ms.length === 0 ? TE.right(undefined) : sink.logMetrics(ms))),
          TE.flatMap(() =>
            spec.resultsArtifact === false || results === undefined || results === null
              ? TE.right(undefined)
              : resultsArtifact(sink, results)
          )
        )
      )
    )()
    await monitor?.stop()
    const ended = await finish(sink, outcome, env)
    return done(E.map((results: R) => ({ runId: sink.runId, experimentId: sink.experimentId, results }))(ended))
  })


/**
 * Goes back into the run `runId` (finished or not) and runs `task` with its handle, as
 * Armory's "resume the run" recipe did; everything the task logged is delivered before this
 * yields the task's result. The run's status is left as it was.
 *
 * @example
 * import { evaluate, reopen, run, memorySink } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const sink = memorySink()
 * const first = await run(evaluate({ experiment: 'mnist' }, async () => ({ accuracy: 0.97 })), { sink })
 * assert.ok(E.isRight(first))
 * // later, maybe in another process: add to the finished run
 * const added = await run(reopen(first.right.runId, async (r) => {
 *   await r.logMetric('robust_accuracy', 0.61)
 *   return 'done'
 * }), { sink })
 * assert.deepStrictEqual(added, E.right('done'))
 * assert.strictEqual(sink.snapshot().runs[0]?.metrics['robust_accuracy']?.[0]?.value, 0.61)
 * assert.strictEqual(sink.snapshot().runs[0]?.status, 'FINISHED')
 *
 * @category constructors
 * @since 0.1.0
 */
export const reopen =
  <R>(runId: string, task: Task<R>): Track<R> =>
  primitive(async (context, env) => {
    const checked = E.flatMap(() => decodeArgument('reopen', 'task', Callable, task))(decodeArgument('reopen', 'runId', Text, runId))
    if (E.isLeft(checked)) return { context, result: checked }
    const opened = await env.sink.reopenRun(runId)()
    if (E.isLeft(opened)) return { context, result: opened }
    const sink = withinLimits(opened.right, env.logger)
    const outcome = await runTask(task, sink, context, env)
    const flushed = await sink.flush()()
    return { context, result: E.isLeft(outcome) ? outcome : E.as(outcome.right)(flushed) }
  })

