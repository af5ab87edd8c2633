/**
 * How many `log-batch` requests the metric queue keeps in flight: fixed, or found while the
 * run streams.
 *
 * The best number depends on the server: one worker on SQLite serves one write at a time and
 * does worst with many requests queued on its lock; several workers, or PostgreSQL, take more
 * at once. `adaptiveInFlight` finds it by hill climbing on measured throughput: it counts the
 * points delivered over a window of completed requests at the current limit, keeps a smoothed
 * rate for every limit it has tried, tries the untried neighbours (upwards first while that
 * pays), settles on the best (the lower one when two are within 1%), and re-measures a
 * neighbour now and then, since a shared server's load changes. Only windows in which the
 * queue was the bottleneck count: when the producer is slower than the server, the number in
 * flight makes no difference and nothing is learnt.
 *
 * The controller is pure: it is fed completions with their time, so that it can be tested
 * without a clock.
 *
 * @example
 * import { InFlight } from 'charmory-track'
 *
 * // a server that delivers 4,000 points/s with 1 in flight, 6,000 with 2 and no more after
 * const rate = (n: number) => (n === 1 ? 4000 : 6000 - (n - 2) * 300)
 * const c = InFlight.adaptiveInFlight({ initial: 1, min: 1, max: 8 })
 * let now = 0
 * for (let i = 0; i < 400; i++) {
 *   now += (1000 / rate(c.limit())) * 1000 // one batch of 1,000 points
 *   c.completed(1000, now, true)
 * }
 * assert.strictEqual(c.limit(), 2)
 *
 * @since 0.2.0
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Decides how many requests may be in flight.
 * @category model
 * @since 0.2.0
 */
export interface InFlight {
  /** How many requests may be in flight now. */
  readonly limit: () => number
  /**
   * A request carrying `points` completed at `now` (milliseconds, any origin); `saturated`
   * when work was waiting for a free slot (the number in flight was the bottleneck).
   */
  readonly completed: (points: number, now: number, saturated: boolean) => void
}

/**
 * Bounds and pace of `adaptiveInFlight`.
 * @category model
 * @since 0.2.0
 */
export interface AdaptiveOptions {
  /** The limit to start with. */
  readonly initial: number
  readonly min: number
  readonly max: number
  /** Windows at one limit before a neighbour is measured again; 8. */
  readonly probeEvery?: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Always `n` in flight.
 * @category constructors
 * @since 0.2.0
 */
export const fixedInFlight = (n: number): InFlight => ({ limit: () => n, completed: () => undefined })

/** Two rates within this share of each other are a tie, settled for the lower limit. */
const TIE = 0.01

/**
 * A limit found by hill climbing on throughput (see the module's description).
 * @category constructors
 * @since 0.2.0
 */
export const adaptiveInFlight = (options: AdaptiveOptions): InFlight => {
  const { min, max } = options
  const probeEvery = options.probeEvery ?? 8
  const rates = new Map<number, number>()
  let limit = Math.min(max, Math.max(min, options.initial))
  let windows = 0 // windows measured at this limit since it was chosen
  let probeUp = true
  let starting = true // doubling while each doubling pays
  // the current window: opened by a saturated completion, closed after `size` more
  let start: number | undefined
  let points = 0
  let count = 0

  const size = (): number => Math.max(3, limit + 2)
  const better = (a: number, b: number): boolean => {
    const ra = rates.get(a) as number
    const rb = rates.get(b) as number
    return ra > rb * (1 + TIE) || (ra >= rb * (1 - TIE) && a < b)
  }
  const known = (n: number): boolean => rates.has(n)
  const choose = (): number => {
    if (starting) {
      const previous = limit / 2 // before the last doubling; never measured at the start
      const paid = !known(previous) || better(limit, previous)
      if (paid && limit * 2 <= max) return limit * 2
      starting = false
      if (!paid) return previous
    }
    const up = limit + 1
    const down = limit - 1
    if (up <= max && !known(up) && (down < min || !known(down) || better(limit, down))) return up
    if (down >= min && !known(down)) return down
    let best = limit
    for (const n of [down, up]) if (known(n) && better(n, best)) best = n
    if (best !== limit || windows < probeEvery) return best
    // re-measure a neighbour now and then, alternately above and below
    probeUp = !probeUp
    const [first, second] = probeUp ? [up, down] : [down, up]
    return [first, second, limit].find((n) => n >= min && n <= max) as number
  }
  const measured = (rate: number): void => {
    // the first window at a limit replaces what was known of it (it may be old: the server's
    // load changes); the next ones are averaged in
    rates.set(limit, windows === 0 ? rate : ((rates.get(limit) as number) + rate) / 2)
    windows++
    const next = choose()
    if (next !== limit) {
      limit = next
      windows = 0
    }
  }

  return {
    limit: () => limit,
    completed: (n, now, saturated) => {
      if (!saturated) {
        start = undefined
        return
      }
      if (start === undefined) {
        start = now
        points = 0
        count = 0
        return
      }
      points += n
      count++
      if (count < size()) return
      // a clock that did not move counts as one millisecond
      measured(points / Math.max(1, now - start))
      start = undefined
    }
  }
}
