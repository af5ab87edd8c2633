/**
 * A metric point from what a task logged or returned, checked as every sink checks it: shared by
 * the run handle and the results of a task, not part of the public API.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { kindOf } from '../Arguments.js'
import { invalidValue, type TrackError } from '../Errors.js'
import { validateKey } from '../Key.js'
import type { Metric } from '../Records.js'

/** A number as an error message shows it; anything else by what it is. */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : kindOf(v))

/**
 * A metric point from what was logged: the key checked by MLflow's rules, the value a number,
 * the step an integer (0 when left out), the timestamp integer milliseconds (`now` when left out).
 * @category constructors
 * @since 0.3.0
 */
export const metricPoint = (
  key: unknown,
  value: unknown,
  options: { readonly step?: number; readonly timestamp?: number },
  now: number
): E.Either<TrackError, Metric> =>
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
