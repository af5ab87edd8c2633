/**
 * What a task's results become: metrics named by their place in the results (nested records
 * join with `/key`, arrays with `/index`: `chain/metric`, `metric/key`, `metric/0`, as Armory
 * names them), and the artifact `results.json`.
 *
 * @example
 * import { Results } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const metrics = Results.resultMetrics({ accuracy: 0.9, per_class: [0.8, 1] }, 1000)
 * assert.deepStrictEqual(
 *   E.map((ms: ReadonlyArray<{ key: string; value: number }>) => ms.map((m) => [m.key, m.value]))(metrics),
 *   E.right([['accuracy', 0.9], ['per_class/0', 0.8], ['per_class/1', 1]])
 * )
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { kindOf } from './Arguments.js'
import { invalidValue, type TrackError } from './Errors.js'
import { metricPoint } from './internal/metrics.js'
import type { Metric } from './Records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What a task may return: numbers, nested in records and arrays. Nested results become
 * metrics named with `/` (`chain/metric`, `metric/key`, `metric/0`).
 * @category model
 * @since 0.1.0
 */
export type Results = number | ReadonlyArray<Results> | { readonly [key: string]: Results }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

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
