/**
 * A regression gate: is the newest finished run of an experiment worse than a baseline (the
 * best earlier run, or a run named by id) at one metric, beyond a tolerance? As a task over
 * any sink's queries (`gate`), as a pipeline step (`gateStep`), and as
 * `charmory-track gate` for a CI script. A regression is the error `Regression`, whose
 * description is the one-line reason.
 *
 * Which way is better comes from `direction`, else from the metric's name (`lowerIsBetter`:
 * loss, error, mse, perplexity, latency and the like are lower-is-better).
 *
 * @example
 * import { evaluate, run, memorySink, Track, Gate } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * // one run a day: "newest" is by start time
 * let day = Date.UTC(2026, 0, 1)
 * const env = { sink: memorySink(), clock: { now: () => (day += 86_400_000) } }
 * const accuracyRun = (accuracy: number) => evaluate({ experiment: 'nightly' }, async () => ({ accuracy }))
 * await run(pipe(accuracyRun(0.9), Track.flatMap(() => accuracyRun(0.95))), env)
 * // the newest run (0.95) against the best earlier one (0.9): ok
 * const ok = await run(Gate.gateStep({ experiment: 'nightly', metric: 'accuracy' }), env)
 * assert.ok(E.isRight(ok) && ok.right.ok)
 * // a worse run fails the gate with the reason
 * await run(accuracyRun(0.93), env)
 * const worse = await run(Gate.gateStep({ experiment: 'nightly', metric: 'accuracy', tolerance: 0.01 }), env)
 * assert.ok(E.isLeft(worse) && worse.left._tag === 'Regression')
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { decodeArgument, Numeric, options as optionsOf, required, Text } from './Arguments.js'
import { invalidValue, notFound, regression, type TrackError } from './Errors.js'
import { queryOf, type FoundRun, type RunQuery, type RunsPage } from './Query.js'
import * as T from './Track.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Which way a metric improves.
 * @category model
 * @since 0.2.0
 */
export type Direction = 'higher' | 'lower'

/**
 * What the gate compares: `metric` of the newest finished run of `experiment` (or of the run
 * `candidate`) against the baseline, the best other finished run (`'best'`, the default) or
 * the run with that id.
 * @category model
 * @since 0.2.0
 */
export interface GateOptions {
  readonly metric: string
  /** The experiment's name; without it, the baseline run's experiment (a baseline id is then needed). */
  readonly experiment?: string
  readonly baseline?: string
  /** The run to judge; the newest finished run of the experiment by default. */
  readonly candidate?: string
  /** How much worse than the baseline still passes (absolute, 0 by default). */
  readonly tolerance?: number
  /** Defaults to what the metric's name says (`lowerIsBetter`). */
  readonly direction?: Direction
}

/**
 * One side of a comparison: a run and its value of the metric.
 * @category model
 * @since 0.2.0
 */
export interface Measured {
  readonly runId: string
  readonly runName: string
  readonly value: number
}

/**
 * The gate's answer when it passes: `reason` is one line starting with `ok`; `baseline` is
 * undefined when no other run has the metric (a first run passes).
 * @category model
 * @since 0.2.0
 */
export interface GateVerdict {
  readonly ok: true
  readonly metric: string
  readonly direction: Direction
  readonly tolerance: number
  readonly candidate: Measured
  readonly baseline: Measured | undefined
  readonly reason: string
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Whether a metric's name says lower is better: its last `/`-separated part names a loss, an
 * error, a distance or a cost (`loss`, `val_loss`, `error_rate`, `mse`, `rmse`, `mae`, `wer`,
 * `cer`, `perplexity`, `latency`, `duration`, `time`, `ece`).
 * @example
 * import { Gate } from 'charmory-track'
 * assert.strictEqual(Gate.lowerIsBetter('eval/val_loss'), true)
 * assert.strictEqual(Gate.lowerIsBetter('accuracy'), false)
 * @category utils
 * @since 0.2.0
 */
export const lowerIsBetter = (metric: string): boolean =>
  /(loss|err|error|mse|mae|wer|cer|perplexity|latency|duration|time|ece)(_|$)|^(loss|error|err)/i.test(
    metric.slice(metric.lastIndexOf('/') + 1)
  )

/**
 * Whether `a` is better than `b` going `direction`; NaN is never better.
 * @category utils
 * @since 0.2.0
 */
export const better = (direction: Direction, a: number, b: number): boolean => (direction === 'higher' ? a > b : a < b)

/** A number as it reads best: at most 6 significant digits. */
const show = (n: number): string => String(Number(n.toPrecision(6)))

const measured = (run: FoundRun, metric: string): Measured | undefined => {
  const value = Object.hasOwn(run.metrics, metric) ? run.metrics[metric] : undefined
  return value === undefined || Number.isNaN(value) ? undefined : { runId: run.runId, runName: run.runName, value }
}

/**
 * The verdict on `candidate` against `baseline`: a `Regression` when it is worse by more than
 * `tolerance`.
 * @category utils
 * @since 0.2.0
 */
export const judge = (
  metric: string,
  direction: Direction,
  tolerance: number,
  candidate: Measured,
  baseline: Measured | undefined
): E.Either<TrackError, GateVerdict> => {
  const verdict = (reason: string): E.Either<TrackError, GateVerdict> =>
    E.right({ ok: true, metric, direction, tolerance, candidate, baseline, reason })
  const of = (m: Measured): string => `${show(m.value)} (run ${m.runId})`
  if (baseline === undefined) return verdict(`ok: ${metric} ${of(candidate)}, no baseline run has ${metric} yet`)
  const shortfall = direction === 'higher' ? baseline.value - candidate.value : candidate.value - baseline.value
  if (shortfall > tolerance) {
    return E.left(
      regression(
        metric,
        candidate,
        baseline,
        `${metric} ${of(candidate)} is worse than the baseline ${of(baseline)} by ${show(shortfall)}, ` +
          `beyond the tolerance ${show(tolerance)} (${direction} is better)`
      )
    )
  }
  return verdict(`ok: ${metric} ${of(candidate)} against the baseline ${of(baseline)}, tolerance ${show(tolerance)} (${direction} is better)`)
}

// -------------------------------------------------------------------------------------
// tasks
// -------------------------------------------------------------------------------------

const finished = "attributes.status = 'FINISHED'"

const GateOptionsCodec = t.intersection([
  required('options such as { metric }', { metric: Text }),
  optionsOf('options', {
    experiment: Text,
    baseline: Text,
    candidate: Text,
    tolerance: Numeric,
    direction: t.keyof({ higher: null, lower: null }, "'higher' or 'lower'")
  })
])

/** Which experiment a search looks in: by name, or by the id of a run's experiment. */
type Scope = { readonly experiments: ReadonlyArray<string> } | { readonly experimentIds: ReadonlyArray<string> }

/**
 * The first finished run in `orderBy` order that passes `keep`, among the first two: `keep`
 * leaves out the candidate, and MLflow orders NaN and missing values after every number.
 */
const firstOf = (
  query: RunQuery,
  scope: Scope,
  orderBy: string,
  keep: (r: FoundRun) => boolean
): TE.TaskEither<TrackError, FoundRun | undefined> =>
  TE.map((page: RunsPage) => page.runs.find(keep))(query.searchRuns({ ...scope, filter: finished, orderBy: [orderBy], maxResults: 2 }))

const where = (scope: Scope): string =>
  'experiments' in scope ? `experiment ${JSON.stringify(scope.experiments[0])}` : `experiment id ${scope.experimentIds[0]!}`

const scopeOf = (query: RunQuery, options: GateOptions): TE.TaskEither<TrackError, Scope> => {
  if (options.experiment !== undefined) return TE.right({ experiments: [options.experiment] })
  const byId = options.candidate ?? (options.baseline === 'best' ? undefined : options.baseline)
  return byId === undefined
    ? TE.left(invalidValue('experiment', 'the gate needs an experiment, or a baseline or candidate run id'))
    : TE.map((r: FoundRun): Scope => ({ experimentIds: [r.experimentId] }))(query.getRun(byId))
}

/**
 * Runs the gate over `query`: the candidate's value against the baseline's. Yields the verdict
 * when it passes; a `Regression` when the candidate is worse beyond the tolerance; `NotFound`
 * when there is no finished run, or the candidate lacks the metric.
 * @category constructors
 * @since 0.2.0
 */
export const gate = (query: RunQuery, options: GateOptions): TE.TaskEither<TrackError, GateVerdict> => {
  const checked = decodeArgument('gate', 'options', GateOptionsCodec, options)
  if (E.isLeft(checked)) return TE.left(checked.left)
  const { metric } = options
  const tolerance = options.tolerance ?? 0
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    return TE.left(invalidValue('tolerance', `the tolerance is a number of 0 or more, not ${String(tolerance)}`))
  }
  const direction = options.direction ?? (lowerIsBetter(metric) ? 'lower' : 'higher')
  const baselineId = options.baseline ?? 'best'
  const column = `metrics.\`${metric.replace(/`/g, '\\`')}\``
  return pipe(
    scopeOf(query, options),
    TE.flatMap((scope) =>
      pipe(
        options.candidate === undefined
          ? pipe(
              firstOf(query, scope, 'attributes.start_time DESC', () => true),
              TE.flatMap((r) => (r === undefined ? TE.left(notFound('run', `finished, of ${where(scope)}`)) : TE.right(r)))
            )
          : query.getRun(options.candidate),
        TE.flatMap((run) => {
          const candidate = measured(run, metric)
          return candidate === undefined ? TE.left(notFound('metric', `${run.runId}/${metric}`)) : TE.right(candidate)
        }),
        TE.flatMap((candidate) =>
          pipe(
            baselineId === 'best'
              ? firstOf(query, scope, `${column} ${direction === 'higher' ? 'DESC' : 'ASC'}`, (r) =>
                  r.runId !== candidate.runId && measured(r, metric) !== undefined
                )
              : query.getRun(baselineId),
            TE.flatMap((r) => {
              if (r === undefined) return TE.right(undefined)
              const m = measured(r, metric)
              return m === undefined ? TE.left(notFound('metric', `${r.runId}/${metric}`)) : TE.right(m)
            }),
            TE.flatMapEither((baseline) => judge(metric, direction, tolerance, candidate, baseline))
          )
        )
      )
    )
  )
}

// -------------------------------------------------------------------------------------
// pipeline steps
// -------------------------------------------------------------------------------------

/**
 * `gate` over the environment's sink, as a step: a regression fails the pipeline.
 * @category constructors
 * @since 0.2.0
 */
export const gateStep = (options: GateOptions): T.Track<GateVerdict> =>
  pipe(
    T.ask,
    T.flatMap((env) => T.fromEither(queryOf(env.sink))),
    T.flatMap((q) => T.fromTaskEither(gate(q, options)))
  )
