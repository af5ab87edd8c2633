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
import { Callable, decodeArgument, Fields, Flag, options, required, Text } from './Arguments.js'
import type { Context } from './Context.js'
import type { Env } from './Env.js'
import { describeError, taskFailed, type TrackError } from './Errors.js'
import { cutTo, fitTags, TAG_VALUE_LIMIT, withinLimits } from './Limits.js'
import * as P from './Params.js'
import type { Entry } from './Records.js'
import { resultMetrics, type Results } from './Results.js'
import { runHandle, tagEntry, type Liveness, type RunHandle } from './RunHandle.js'
import type { RunSink } from './Sink.js'
import { RESULTS_ARTIFACT, toJson } from './StructuredArtifacts.js'
import { planSystemMetrics, type Monitor } from './SystemMetrics.js'
import * as T from './Track.js'
import { VERSION } from './version.js'

export type { Results } from './Results.js'
export type { ArtifactSource, MetricOptions, RunHandle } from './RunHandle.js'

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
 * A task: a function of the run handle. What it returns is its result, awaited when it is a
 * promise, unless it is a pipeline (a value `Track.isTrack` recognizes): that runs in the run's
 * environment, and what it yields is the result. A plain function returned is a result too.
 * @category model
 * @since 0.1.0
 */
export type Task<R> = (run: RunHandle) => T.Track<R> | PromiseLike<R> | R

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Runs `task` with the handle of `sink`, in a child context that writes to that run. The
 * handle closes when the task has returned: what it logs later could race the run's end.
 */
const runTask = async <R>(task: Task<R>, sink: RunSink, context: Context, env: Env): Promise<E.Either<TrackError, R>> => {
  const live: Liveness = { open: true }
  let outcome: E.Either<TrackError, R>
  try {
    const out = task(runHandle(sink, env, live))
    // a pipeline runs in the run's environment; anything else (a function too) is the result
    outcome = T.isTrack(out) ? (await (out as T.Track<R>)(context, { ...env, currentRun: sink })).result : E.right(await out)
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
/** A spec decoded, with its user tags as stored. */
interface CheckedSpec {
  readonly spec: EvaluationSpec
  readonly tags: ReadonlyArray<Entry>
}

const checkSpec = (spec: unknown): E.Either<TrackError, CheckedSpec> =>
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

/** `results.json`: the task's results as JSON, indented by 2 (NaN and the infinities as strings). */
const resultsArtifact = (sink: RunSink, results: unknown): TE.TaskEither<TrackError, void> =>
  pipe(
    TE.fromEither(toJson('results', results)),
    TE.flatMap((json) => sink.logArtifact(RESULTS_ARTIFACT, new TextEncoder().encode(JSON.stringify(json, null, 2))))
  )

/**
 * Ends `sink` as the outcome says (the release of an evaluation's run): FINISHED, or FAILED with
 * the error recorded. Fails only when a good outcome could not be ended FINISHED: that error is
 * then recorded and the run ended FAILED, so it is never left RUNNING.
 */
const finish =
  <R>(sink: RunSink, outcome: E.Either<TrackError, R>): T.Track<void> =>
    T.primitive(async (context, env) => {
      const failed = async (e: TrackError): Promise<void> => {
        await sink.setTags(errorTags(e))()
        const ended = await sink.end('FAILED', env.clock.now())()
        if (E.isLeft(ended)) env.logger.warn(`run ${sink.runId} could not be ended FAILED: ${describeError(ended.left)}`)
      }
      if (E.isLeft(outcome)) {
        await failed(outcome.left)
        return { context, result: E.right(undefined) }
      }
      const ended = await sink.end('FINISHED', env.clock.now())()
      if (E.isLeft(ended)) await failed(ended.left)
      return { context, result: ended }
    })

/** Opens the run of `spec` in its experiment (the acquisition of an evaluation's run). */
const openRun = (spec: EvaluationSpec, userTags: ReadonlyArray<Entry>): T.Track<RunSink> =>
  T.primitive(async (context, env) => {
    const opened = await pipe(
      env.sink.experiment(spec.experiment),
      TE.flatMap((experimentId) => {
        const startTime = env.clock.now()
        const runName = spec.runName ?? defaultRunName(spec.experiment, startTime, env.ids)
        return env.sink.openRun({
          runId: env.ids(),
          experimentId,
          runName,
          startTime,
          tags: fitTags(standardTags(spec, userTags, runName, env), env.logger)
        })
      }),
      TE.map((sink) => withinLimits(sink, env.logger))
    )()
    return { context, result: opened }
  })

/** The task on the open run `sink`: the context's params logged first, its results as metrics (and `results.json`) after. */
const useRun = <R>(spec: EvaluationSpec, task: Task<R>, sink: RunSink): T.Track<R> =>
  T.primitive(async (context, env) => {
    const params = P.toEntries(P.set('charmory-track.version', VERSION)(context.params))
    const outcome = await pipe(
      sink.logParams(params),
      TE.flatMap(() => () => runTask(task, sink, context, env)),
      TE.tap((results) =>
        pipe(
          TE.fromEither(resultMetrics(results, env.clock.now())),
          TE.flatMap((ms) => (ms.length === 0 ? TE.right(undefined) : sink.logMetrics(ms))),
          TE.flatMap(() =>
            spec.resultsArtifact === false || results === undefined || results === null ? TE.right(undefined) : resultsArtifact(sink, results)
          )
        )
      )
    )()
    return { context, result: outcome }
  })

/** System metrics sampled into `sink` while `use` runs, when asked for (stopped in every outcome). */
const sampling = <R>(plan: ((run: RunSink) => Monitor) | undefined, sink: RunSink, use: T.Track<R>): T.Track<R> =>
  plan === undefined
    ? use
    : T.bracket(
        T.fromIO(() => plan(sink)),
        () => use,
        (monitor) => T.fromTask(() => monitor.stop())
      )

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
export const evaluate = <R extends Results | void>(spec: EvaluationSpec, task: Task<R>): T.Track<Evaluation<R>> =>
  pipe(
    T.fromEither(E.flatMap((c: CheckedSpec) => E.as(c)(decodeArgument('evaluate', 'task', Callable, task)))(checkSpec(spec))),
    T.bindTo('checked'),
    T.bind('plan', () => T.flatMap((env: Env) => T.fromEither(planSystemMetrics(spec.systemMetrics, env)))(T.ask)),
    T.flatMap(({ checked, plan }) =>
      T.bracket(
        openRun(spec, checked.tags),
        (sink) => T.map((results: R): Evaluation<R> => ({ runId: sink.runId, experimentId: sink.experimentId, results }))(sampling(plan, sink, useRun(spec, task, sink))),
        (sink, outcome) => finish(sink, outcome)
      )
    )
  )

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
  <R>(runId: string, task: Task<R>): T.Track<R> =>
  T.primitive(async (context, env) => {
    const checked = E.flatMap(() => decodeArgument('reopen', 'task', Callable, task))(decodeArgument('reopen', 'runId', Text, runId))
    if (E.isLeft(checked)) return { context, result: checked }
    const opened = await env.sink.reopenRun(runId)()
    if (E.isLeft(opened)) return { context, result: opened }
    const sink = withinLimits(opened.right, env.logger)
    const outcome = await runTask(task, sink, context, env)
    const flushed = await sink.flush()()
    return { context, result: E.isLeft(outcome) ? outcome : E.as(outcome.right)(flushed) }
  })

