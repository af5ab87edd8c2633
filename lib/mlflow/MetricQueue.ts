/**
 * A bounded queue that turns a stream of metric points into full `log-batch` requests.
 *
 * Points are gathered into batches of up to `batchSize`; up to `concurrency` batches are in
 * flight at once, or, with `'adaptive'` (the default since 0.2.0), as many as serve the server
 * best, found while the points stream (`adaptiveInFlight`, between 1 and `maxConcurrency`, 4
 * by default, starting at 1); a partly filled batch goes out after `lingerMs` so that a slow
 * stream still shows up live. When a push completes a batch and more than `capacity` points wait, `push`
 * does not resolve until there is room again: a producer faster than the server waits instead
 * of growing memory (at most `capacity + batchSize` points are held). The first
 * failed send is kept and reported by every later `push` and by `flush`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'
import type { Clock, Timers } from '../platform/Platform.js'
import type { Metric } from '../Records.js'
import { adaptiveInFlight, fixedInFlight, type InFlight } from './InFlight.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * How a metric queue batches and how much it holds (`mlflowSink`'s option `queue`).
 * @category model
 * @since 0.1.0
 */
export interface QueueOptions {
  /** The most points in one request. */
  readonly batchSize: number
  /**
   * The most requests in flight at once, or `'adaptive'`: found while the run streams
   * (`adaptiveInFlight`), up to `maxConcurrency`. Adaptive since 0.2.0.
   */
  readonly concurrency: number | 'adaptive'
  /**
   * The most requests in flight an adaptive queue tries; 4 (what 0.1 kept in flight always),
   * so that many writers sharing a server do not each climb over one another. Since 0.2.0.
   */
  readonly maxConcurrency?: number
  /** How many points may wait before `push` makes the producer wait. */
  readonly capacity: number
  /** How long a partly filled batch waits for more points before it is sent. */
  readonly lingerMs: number
}

/**
 * A queue of metric points on their way to the server.
 * @category model
 * @since 0.1.0
 */
export interface MetricQueue {
  /** Adds points; resolves at once unless too many wait, with the first failed send if any. */
  readonly push: (metrics: ReadonlyArray<Metric>) => Promise<E.Either<TrackError, void>>
  /** Resolves once everything pushed before it has been sent (or failed). */
  readonly flush: () => Promise<E.Either<TrackError, void>>
}

/**
 * The options the MLflow sink uses unless told. MLflow's `log-batch` takes up to 1000
 * metrics; up to 8 batches waiting or in flight (1 to 4 of them in flight, as suits the
 * server) keep a server busy without holding more than ~9k points in memory.
 * @category constructors
 * @since 0.1.0
 */
export const defaultQueueOptions: QueueOptions = {
  batchSize: 1000,
  concurrency: 'adaptive',
  maxConcurrency: 4,
  capacity: 8000,
  lingerMs: 200
}

/**
 * Where an adaptive queue starts: one request, what a server shared by many writers takes best
 * (16 writers with 2 each in flight already overload a 1-worker server); a lone writer's queue
 * doubles from there within a few batches when the server takes more.
 */
const ADAPTIVE_START = 1

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A queue that sends the points pushed to it with `send`, in batches (see the module's
 * description).
 * @category constructors
 * @since 0.1.0
 */
export const metricQueue = (
  send: (batch: ReadonlyArray<Metric>) => TE.TaskEither<TrackError, void>,
  options: QueueOptions,
  timers: Timers,
  clock: Clock
): MetricQueue => {
  let open: Array<Metric> = []
  const sealed: Array<ReadonlyArray<Metric>> = []
  let waiting = 0
  let inFlight = 0
  let blocked = 0 // producers waiting for room
  const limiter: InFlight =
    options.concurrency === 'adaptive'
      ? adaptiveInFlight({ initial: ADAPTIVE_START, min: 1, max: options.maxConcurrency ?? 4 })
      : fixedInFlight(options.concurrency)
  let failure: TrackError | undefined
  let timer: (() => void) | undefined
  let wakers: Array<() => void> = []

  const wake = (): void => {
    const ws = wakers
    wakers = []
    for (const w of ws) w()
  }
  const changed = (): Promise<void> => new Promise((ok) => wakers.push(ok))
  const status = (): E.Either<TrackError, void> => (failure === undefined ? E.right(undefined) : E.left(failure))

  const seal = (): void => {
    timer?.()
    timer = undefined
    if (open.length === 0) return
    sealed.push(open)
    open = []
  }

  const pump = (): void => {
    while (inFlight < limiter.limit() && sealed.length > 0) {
      const batch = sealed.shift() as ReadonlyArray<Metric>
      inFlight++
      void send(batch)().then((r) => {
        inFlight--
        waiting -= batch.length
        // work waiting for this slot: the number in flight was what held the stream back
        limiter.completed(batch.length, clock.now(), sealed.length > 0 || blocked > 0)
        if (E.isLeft(r) && failure === undefined) failure = r.left
        pump()
        wake()
      })
    }
  }

  const linger = (): void => {
    if (timer !== undefined || open.length === 0) return
    timer = timers.after(options.lingerMs, () => {
      timer = undefined
      seal()
      pump()
    })
  }

  return {
    push: async (metrics) => {
      if (failure !== undefined) return status()
      for (const m of metrics) {
        open.push(m)
        if (open.length >= options.batchSize) seal()
      }
      waiting += metrics.length
      pump()
      linger()
      // Wait only with an empty open batch: a producer blocked with a part-filled batch
      // would let the linger timer send it half empty.
      while (open.length === 0 && waiting > options.capacity && failure === undefined) {
        blocked++
        await changed()
        blocked--
      }
      return status()
    },
    flush: async () => {
      seal()
      pump()
      while (waiting > 0 && failure === undefined) await changed()
      // a failure stops the wait at once; the batches still in flight settle on their own
      return status()
    }
  }
}
