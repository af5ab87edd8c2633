// Faults a real server cannot produce on demand, injected by a proxy in front of a real one:
// the run still arrives complete, with no duplicated metric point.
import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Platform, evaluate, Mlflow, mlflowSink, run } from 'charmory-track'
import { startFaultProxy, type Fault } from '../support/fault-proxy.js'
import { serverFor } from '../support/mlflow-server.js'
import { readRun, runIdsOf } from '../support/mlflow-read.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const pass: Fault = { kind: 'pass' }
const T0 = 1_760_000_000_000
const quiet: Platform.Logger = { warn: () => undefined, info: () => undefined }

// A short timeout only where a hung answer is the point: a busy 2-core machine can take
// seconds over a batch, and a timed-out batch is sent again (correctly, but noisily).
const sinkThrough = async (url: string, logger: Platform.Logger = quiet, timeout = '60') => {
  const config = Mlflow.configFromEnv({
    MLFLOW_TRACKING_URI: url,
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.02',
    MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0.01',
    MLFLOW_HTTP_REQUEST_TIMEOUT: timeout,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '6'
  })
  if (E.isLeft(config)) throw new Error('bad config')
  return await built(mlflowSink(config.right, { journal: false }), { logger })
}

const streamRun = async (url: string, experiment: string, points: number, logger?: Platform.Logger, timeout?: string) => {
  const sink = await sinkThrough(url, logger, timeout)
  try {
    return await run(
      evaluate({ experiment }, async (r) => {
        await r.setTag('phase', 'streaming')
        for (let i = 0; i < points; i++) await r.logMetric(`m${i % 5}`, i * 0.5, { step: i, timestamp: T0 + i })
        return { done: 1 }
      }),
      { sink, clock: { now: () => T0 }, logger: quiet }
    )
  } finally {
    await sink.close()
  }
}

const assertComplete = async (t: Test, runId: string, points: number): Promise<void> => {
  const view = await readRun(server.url, runId)
  t.equal(view.status, 'FINISHED')
  t.equal(view.tags['phase'], 'streaming')
  let total = 0
  for (let m = 0; m < 5; m++) {
    const h = view.metrics[`m${m}`] ?? []
    total += h.length
    const expected = Array.from({ length: points / 5 }, (_, j) => {
      const i = j * 5 + m
      return { value: i * 0.5, step: i, timestamp: T0 + i }
    })
    t.strictSame(h, expected, `m${m}: every point exactly once`)
  }
  t.equal(total, points)
  t.strictSame(view.metrics['done'], [{ value: 1, step: 0, timestamp: T0 }])
}

const batchFaults = (faults: Record<number, Fault>) => (endpoint: string, n: number): Fault =>
  endpoint === 'POST /api/2.0/mlflow/runs/log-batch' ? (faults[n] ?? pass) : pass

t.test('streamed points travel in full batches over a few kept-alive connections', async (t) => {
  const proxy = await startFaultProxy(server.url, () => pass)
  t.teardown(proxy.close)
  const r = await streamRun(proxy.url, 'batched', 20_000)
  t.ok(E.isRight(r))
  if (E.isRight(r)) await assertComplete(t, r.right.runId, 20_000)
  const batches = proxy.seen.filter((e) => e.endsWith('log-batch')).length
  t.ok(batches <= 30, `20,000 points and a few tags took ${batches} log-batch requests, not one per point`)
  t.ok(proxy.connections() <= 5, `${proxy.connections()} connections for ${proxy.seen.length} requests`)
})

t.test('503 bursts are retried until the server takes the batch', async (t) => {
  const burst: Fault = { kind: 'status', status: 503 }
  const proxy = await startFaultProxy(server.url, batchFaults({ 2: burst, 3: burst, 4: burst, 7: burst, 8: burst }))
  t.teardown(proxy.close)
  const r = await streamRun(proxy.url, 'bursts', 5000)
  t.ok(E.isRight(r))
  if (E.isRight(r)) await assertComplete(t, r.right.runId, 5000)
})

t.test('429 with Retry-After waits as told, then succeeds', async (t) => {
  const limited: Fault = { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: 'slow down' }
  const proxy = await startFaultProxy(server.url, batchFaults({ 2: limited }))
  t.teardown(proxy.close)
  const warnings: Array<string> = []
  const r = await streamRun(proxy.url, 'limited', 3000, { warn: (m) => void warnings.push(m), info: () => undefined })
  t.ok(E.isRight(r))
  if (E.isRight(r)) await assertComplete(t, r.right.runId, 3000)
  t.match(warnings.join('\n'), /log-batch: retry 1 after .*429 REQUEST_LIMIT_EXCEEDED: slow down/)
})

t.test('a connection dropped before or after the server acted is retried without duplicates', async (t) => {
  const proxy = await startFaultProxy(
    server.url,
    batchFaults({ 1: { kind: 'drop' }, 3: { kind: 'drop-after' }, 5: { kind: 'drop-after', delayMs: 50 } })
  )
  t.teardown(proxy.close)
  const r = await streamRun(proxy.url, 'dropped', 5000)
  t.ok(E.isRight(r))
  if (E.isRight(r)) await assertComplete(t, r.right.runId, 5000)
})

t.test('a hung answer times out and the request is sent again', async (t) => {
  const proxy = await startFaultProxy(server.url, batchFaults({ 2: { kind: 'hang' } }))
  t.teardown(proxy.close)
  const r = await streamRun(proxy.url, 'hung', 3000, quiet, '5')
  t.ok(E.isRight(r))
  if (E.isRight(r)) await assertComplete(t, r.right.runId, 3000)
  t.ok(proxy.seen.filter((e) => e.endsWith('log-batch')).length > 3, 'the hung batch was sent again')
})

t.test('when the retries run out the error is typed and the run still ends FAILED', async (t) => {
  let failing = false
  const proxy = await startFaultProxy(server.url, (endpoint) =>
    failing && endpoint.endsWith('log-batch') ? { kind: 'status', status: 503 } : pass
  )
  t.teardown(proxy.close)
  const sink = await sinkThrough(proxy.url)
  t.teardown(() => sink.close())
  const r = await run(
    evaluate({ experiment: 'exhausted' }, async (h) => {
      failing = true
      await h.logMetric('x', 1)
      await h.logMetric('y', 2)
      return { z: 3 }
    }),
    { sink, clock: { now: () => T0 }, logger: quiet }
  )
  t.match(r, { _tag: 'Left', left: { _tag: 'HttpError', status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE' } })
  t.ok(proxy.seen.includes('POST /api/2.0/mlflow/runs/update'), 'runs/update was still called')
  const [runId] = await runIdsOf(server.url, 'exhausted')
  const view = await readRun(server.url, runId ?? '')
  t.equal(view.status, 'FAILED', 'ended FAILED, not left RUNNING')
})
