import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, Sink } from 'charmory-track'

import { defaultQueueOptions, metricQueue, type QueueOptions } from '../../lib/mlflow/MetricQueue.js'
import { plainTimers, systemClock } from '../../lib/platform/web.js'

const points = (n: number, from = 0): Array<Sink.Metric> =>
  Array.from({ length: n }, (_, i) => ({ key: 'm', value: from + i, step: from + i, timestamp: 0 }))

/** A send whose answers the test releases by hand. */
const controlled = () => {
  const sent: Array<ReadonlyArray<Sink.Metric>> = []
  const pending: Array<(r: E.Either<Errors.TrackError, void>) => void> = []
  const send = (batch: ReadonlyArray<Sink.Metric>) => () =>
    new Promise<E.Either<Errors.TrackError, void>>((ok) => {
      sent.push(batch)
      pending.push(ok)
    })
  const release = (r: E.Either<Errors.TrackError, void> = E.right(undefined)) => pending.shift()?.(r)
  return { sent, pending, send, release }
}

const tick = () => new Promise((ok) => setImmediate(ok))

t.test('points go out in full batches, at most `concurrency` in flight', async (t) => {
  const c = controlled()
  const q = metricQueue(c.send, { batchSize: 10, concurrency: 2, capacity: 1000, lingerMs: 10_000 }, plainTimers, systemClock)
  await q.push(points(45))
  t.equal(c.sent.length, 2, 'two batches in flight')
  t.strictSame(c.sent.map((b) => b.length), [10, 10])
  c.release()
  await tick()
  t.equal(c.sent.length, 3, 'a freed slot takes the next full batch')
  const flushed = q.flush()
  for (let i = 0; i < 10; i++) {
    c.release()
    await tick()
  }
  t.strictSame(await flushed, E.right(undefined))
  t.strictSame(c.sent.map((b) => b.length), [10, 10, 10, 10, 5], 'flush sends the partial batch too')
  t.strictSame(c.sent.flat().map((m) => m.value), points(45).map((m) => m.value), 'every point once, in order')
})

t.test('a producer faster than the server waits for room (backpressure)', async (t) => {
  const c = controlled()
  const q = metricQueue(c.send, { batchSize: 10, concurrency: 1, capacity: 30, lingerMs: 10_000 }, plainTimers, systemClock)
  let accepted = false
  const push = q.push(points(50)).then((r) => {
    accepted = true
    return r
  })
  await tick()
  t.notOk(accepted, '50 points wait while only 30 fit')
  c.release()
  await tick()
  t.notOk(accepted, 'still 40 waiting')
  c.release()
  await tick()
  t.ok(accepted, 'accepted once 30 or fewer wait')
  t.strictSame(await push, E.right(undefined))
})

t.test('a slow stream still goes out after the linger time', async (t) => {
  const c = controlled()
  const q = metricQueue(c.send, { batchSize: 1000, concurrency: 1, capacity: 5000, lingerMs: 5 }, plainTimers, systemClock)
  await q.push(points(3))
  t.equal(c.sent.length, 0)
  await new Promise((ok) => setTimeout(ok, 30))
  t.equal(c.sent.length, 1)
  t.equal(c.sent[0]?.length, 3)
  c.release()
  t.strictSame(await q.flush(), E.right(undefined))
})

t.test('the first failed send is reported by later pushes and by flush', async (t) => {
  const c = controlled()
  const q = metricQueue(c.send, { batchSize: 2, concurrency: 2, capacity: 1000, lingerMs: 10_000 }, plainTimers, systemClock)
  await q.push(points(4))
  const boom = Errors.httpError(503, 'TEMPORARILY_UNAVAILABLE', 'down', 'POST log-batch')
  c.release(E.left(boom))
  c.release(E.left(Errors.httpError(500, 'INTERNAL_ERROR', 'later', 'POST log-batch')))
  await tick()
  t.strictSame(await q.push(points(1)), E.left(boom))
  t.strictSame(await q.flush(), E.left(boom))
})

t.test('a failure releases a producer waiting for room', async (t) => {
  const c = controlled()
  const q = metricQueue(c.send, { batchSize: 5, concurrency: 1, capacity: 5, lingerMs: 10_000 }, plainTimers, systemClock)
  const push = q.push(points(20))
  await tick()
  c.release(E.left(Errors.httpError(503, 'X', 'down', 'e')))
  t.match(await push, { _tag: 'Left', left: { status: 503 } })
})

t.test('defaults fit MLflow limits', async (t) => {
  t.equal(defaultQueueOptions.batchSize, 1000)
  t.equal(defaultQueueOptions.concurrency, 'adaptive')
  t.ok(defaultQueueOptions.capacity >= defaultQueueOptions.batchSize * (defaultQueueOptions.maxConcurrency ?? 0))
  const q = metricQueue(() => async () => E.right(undefined), defaultQueueOptions, plainTimers, systemClock)
  t.strictSame(await q.flush(), E.right(undefined), 'flushing an empty queue is immediate')
})

/**
 * A server on a simulated clock: each request takes `latencyMs(inFlight)` from when it is sent.
 * The producer pushes `batches` batches as fast as the queue takes them.
 */
const simulate = async (options: QueueOptions | undefined, batches: number, latencyMs: (inFlight: number) => number) => {
  let now = 0
  let inFlight = 0
  const due: Array<{ at: number; ok: (r: E.Either<Errors.TrackError, void>) => void }> = []
  const inFlightSeen: Array<number> = []
  const send = () => () =>
    new Promise<E.Either<Errors.TrackError, void>>((ok) => {
      inFlight++
      inFlightSeen.push(inFlight)
      due.push({ at: now + latencyMs(inFlight), ok })
    })
  const q = metricQueue(send, options ?? defaultQueueOptions, plainTimers, { now: () => now })
  const producer = (async () => {
    for (let i = 0; i < batches; i++) await q.push(points(1000, i * 1000))
    return q.flush()
  })()
  let done = false
  void producer.then(() => (done = true))
  while (!done) {
    await tick()
    due.sort((a, b) => a.at - b.at)
    const next = due.shift()
    if (next === undefined) continue
    now = next.at
    inFlight--
    next.ok(E.right(undefined))
  }
  return { result: await producer, inFlightSeen, seconds: now / 1000 }
}

t.test('by default the number in flight adapts: it starts at 1 and climbs on a server that serves requests in parallel', async (t) => {
  // every request takes 100 ms however many are in flight: more in flight, more throughput
  const parallel = await simulate(undefined, 200, () => 100)
  t.strictSame(parallel.result, E.right(undefined))
  t.equal(parallel.inFlightSeen[0], 1)
  t.equal(Math.max(...parallel.inFlightSeen.slice(0, 4)), 1, 'one in flight at first')
  t.equal(Math.max(...parallel.inFlightSeen), 4, 'up to maxConcurrency, 4 by default')
  const wider = await simulate({ ...defaultQueueOptions, maxConcurrency: 8 }, 200, () => 100)
  t.equal(Math.max(...wider.inFlightSeen), 8, 'or as many as it says')
  const unsaid = await simulate({ batchSize: 1000, concurrency: 'adaptive', capacity: 8000, lingerMs: 200 }, 100, () => 100)
  t.equal(Math.max(...unsaid.inFlightSeen), 4, 'options without maxConcurrency: 4')
  // a server that serves one request at a time, and slower the more wait on its lock
  const serial = await simulate(undefined, 200, (n) => 100 * n + 20 * (n - 1) * n)
  t.ok(serial.inFlightSeen.slice(-50).every((n) => n <= 2), 'it stays low on a server that does worse with more')
})

t.test('a fixed concurrency pins the number in flight', async (t) => {
  const pinned = await simulate({ ...defaultQueueOptions, concurrency: 3 }, 100, () => 100)
  t.equal(Math.max(...pinned.inFlightSeen), 3)
})
