/**
 * A metric's history as MLflow stores it: a point is its value, timestamp and step (under its
 * key), and identical points are one point, since the server's metrics table has all four in
 * its key. The sinks that keep histories themselves (memory, the local store's readers) add
 * points through a `MetricHistory`, so that a point logged twice, or a journal that holds a
 * run twice, reads back as a server answers.
 *
 * A history keeps its points in the order they were first added, and costs no more than its
 * array while they come in order of step, then timestamp (the usual way a metric is logged,
 * with or without steps): a point after the last one is new, one that is not is looked up by
 * bisection, then among the points at its step and timestamp. Only a history that takes a new
 * point out of that order (or a burst of more than 512 points at one step and millisecond)
 * keeps an index of its points too.
 *
 * @since 0.3.0
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One point of a metric's history.
 * @category model
 * @since 0.3.0
 */
export interface Point {
  readonly value: number
  readonly timestamp: number
  readonly step: number
}

/**
 * A metric's points, each once.
 * @category model
 * @since 0.3.0
 */
export interface MetricHistory<P extends Point> {
  /** The points, in the order they were first added. */
  readonly points: ReadonlyArray<P>
  /** Adds `point` unless an identical one is there; whether it was added. */
  readonly add: (point: P) => boolean
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** NaN after every number; 0 and -0 are one value (the journal and the server keep one). */
const byValue = (a: number, b: number): number => {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b))
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * How points are ordered to be told apart: by step, then timestamp, then value (NaN last).
 * Negative when `a` comes first, 0 when they are identical.
 * @category utils
 * @since 0.3.0
 */
export const comparePoints = (a: Point, b: Point): number => a.step - b.step || a.timestamp - b.timestamp || byValue(a.value, b.value)

const identity = (p: Point): string => `${p.step} ${p.timestamp} ${p.value}`

/** Points by step, then timestamp: the order a history is kept in while it has no index. */
const byTime = (a: Point, b: Point): number => a.step - b.step || a.timestamp - b.timestamp

/** Where the points at `p`'s step and timestamp begin in `sorted` (sorted `byTime`). */
const groupStart = (sorted: ReadonlyArray<Point>, p: Point): number => {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (byTime(sorted[middle]!, p) < 0) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * How many points at one step and timestamp are compared one by one before an index pays:
 * points logged without a step come in bursts within one millisecond.
 */
const GROUP = 512

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * An empty history.
 * @category constructors
 * @since 0.3.0
 */
export const metricHistory = <P extends Point = Point>(): MetricHistory<P> => {
  const points: Array<P> = []
  /** Every point's identity, once the points are no longer in order. */
  let index: Set<string> | undefined
  const add = (point: P): boolean => {
    if (index === undefined) {
      const last = points[points.length - 1]
      if (last === undefined || byTime(last, point) < 0) {
        points.push(point)
        return true
      }
      let i = groupStart(points, point)
      const end = Math.min(points.length, i + GROUP)
      for (; i < end && byTime(points[i]!, point) === 0; i++) if (byValue(points[i]!.value, point.value) === 0) return false
      // a new value at the last step and timestamp keeps the points in order
      if (i === points.length) {
        points.push(point)
        return true
      }
      index = new Set(points.map(identity))
    }
    const id = identity(point)
    if (index.has(id)) return false
    index.add(id)
    points.push(point)
    return true
  }
  return { points, add }
}
