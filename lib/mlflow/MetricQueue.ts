/**
 * A bounded queue that turns a stream of metric points into full `log-batch` requests.
 *
 * Points are gathered into batches of up to `batchSize`; up to `concurrency` batches are in
 * flight at once; a partly filled batch goes out after `lingerMs` so that a slow stream still
 * shows up live. When a push completes a batch and more than `capacity` points wait, `push`
 * does not resolve until there is room again: a producer faster than the server waits instead
 * of growing memory (at most `capacity + batchSize` points are held). The first
 * failed send is kept and reported by every later `push` and by `flush`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'
import { plainTimers, type Timers } from '../platform/Platform.js'
import type { Metric } from '../Sink.js'

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
  /** The most requests in flight at once. */
  readonly concurrency: number
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
 * metrics; 8 batches waiting and 4 in flight keep a single-worker server busy without holding
 * more than ~12k points in memory.
 * @category constructors
 * @since 0.1.0
 */
export const defaultQueueOptions: QueueOptions = { batchSize: 1000, concurrency: 4, capacity: 8000, lingerMs: 200 }

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
  options: QueueOptions = defaultQueueOptions,
  timers: Timers = plainTimers
): MetricQueue => {
  let open: Array<Metric> = []
  const sealed: Array<ReadonlyArray<Metric>> = []
  let waiting = 0
  let inFlight = 0
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
    while (inFlight < options.concurrency && sealed.length > 0) {
      const batch = sealed.shift() as ReadonlyArray<Metric>
      inFlight++
      void send(batch)().then((r) => {
        inFlight--
        waiting -= batch.length
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
      while (open.length === 0 && waiting > options.capacity && failure === undefined) await changed()
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
