/**
 * What an MLflow server keeps of a value: a param value of at most 6000 characters and a tag
 * value of at most 8000 (Unicode code points, as Python counts them). MLflow 3.18 cuts a
 * longer value to the limit, silently (`MLFLOW_TRUNCATE_LONG_VALUES`).
 *
 * `evaluate` and `reopen` fit every value before it reaches any sink, as the MLflow sink always
 * did: a long param is stored cut, with its whole value as the artifact `params/<key>.txt` and a
 * warning; a long tag is cut, with a warning. So the memory, local and MLflow sinks keep the
 * same thing, and a run kept locally is synced to a server unchanged.
 *
 * @example
 * import { evaluate, memorySink, run } from 'charmory-track'
 *
 * const sink = memorySink()
 * const warnings: Array<string> = []
 * await run(evaluate({ experiment: 'limits' }, (r) => r.logParam('prompt', 'x'.repeat(6001))), {
 *   sink,
 *   logger: { warn: (m) => void warnings.push(m), info: () => undefined }
 * })
 * const [stored] = sink.snapshot().runs
 * assert.strictEqual(stored?.params['prompt']?.length, 6000)
 * assert.strictEqual(stored?.artifacts['params/prompt.txt']?.length, 6001)
 * assert.strictEqual(warnings.length, 1)
 *
 * @since 0.3.0
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from './Errors.js'
import type { Entry } from './Records.js'
import type { Logger } from './platform/Platform.js'
import type { RunSink } from './Sink.js'

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * The longest param value an MLflow server keeps, in characters.
 * @category constants
 * @since 0.3.0
 */
export const PARAM_VALUE_LIMIT = 6000

/**
 * The longest tag value an MLflow server keeps, in characters.
 * @category constants
 * @since 0.3.0
 */
export const TAG_VALUE_LIMIT = 8000

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Counting code points costs a copy: a string shorter than `limit` UTF-16 units is within it. */
const longerThan = (s: string, limit: number): boolean => s.length > limit && [...s].length > limit

/**
 * `value` cut to `limit` characters (code points, so that no surrogate pair is split), as the
 * server cuts it; itself when it is within the limit.
 * @category utils
 * @since 0.3.0
 */
export const cutTo = (value: string, limit: number): string => (longerThan(value, limit) ? [...value].slice(0, limit).join('') : value)

/**
 * Where a long param's whole value is stored.
 * @category utils
 * @since 0.3.0
 */
export const paramArtifact = (key: string): string => `params/${key}.txt`

/**
 * Tags within the server's limit; a cut is reported through `logger`, never silent.
 * @category utils
 * @since 0.3.0
 */
export const fitTags = (tags: ReadonlyArray<Entry>, logger: Logger): ReadonlyArray<Entry> =>
  tags.map(([key, value]): Entry => {
    if (!longerThan(value, TAG_VALUE_LIMIT)) return [key, value]
    logger.warn(`tag ${JSON.stringify(key)} is longer than MLflow's ${TAG_VALUE_LIMIT} characters and was cut`)
    return [key, cutTo(value, TAG_VALUE_LIMIT)]
  })

const sequence = (tasks: ReadonlyArray<TE.TaskEither<TrackError, void>>): TE.TaskEither<TrackError, void> =>
  tasks.reduce((acc, task) => TE.flatMap(() => task)(acc), TE.right<TrackError, void>(undefined))

/**
 * `sink` with every param and tag fitted to the server's limits before it is stored: a long
 * param is stored cut (so that a conflict is judged on what is kept), then its whole value as
 * `params/<key>.txt`, with a warning; a long tag is cut, with a warning.
 * @category combinators
 * @since 0.3.0
 */
export const withinLimits = (sink: RunSink, logger: Logger): RunSink => ({
  ...sink,
  logParams: (params) => {
    const long = params.filter(([, v]) => longerThan(v, PARAM_VALUE_LIMIT))
    if (long.length === 0) return sink.logParams(params)
    return pipe(
      sink.logParams(params.map(([k, v]): Entry => [k, cutTo(v, PARAM_VALUE_LIMIT)])),
      TE.flatMap(() => sequence(long.map(([k, v]) => sink.logArtifact(paramArtifact(k), new TextEncoder().encode(v))))),
      TE.map(() => {
        for (const [k, v] of long) {
          logger.warn(
            `param ${JSON.stringify(k)} has ${[...v].length} characters; MLflow keeps ${PARAM_VALUE_LIMIT}: ` +
              `the whole value is the artifact ${paramArtifact(k)}`
          )
        }
      })
    )
  },
  setTags: (tags) => sink.setTags(fitTags(tags, logger))
})
