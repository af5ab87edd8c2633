import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, Sink, memorySink, type MemorySink } from 'charmory-track'

const right = async <A>(task: () => Promise<E.Either<Errors.TrackError, A>>): Promise<A> => {
  const r = await task()
  if (E.isLeft(r)) throw new Error(`expected success, got ${JSON.stringify(r.left)}`)
  return r.right
}

const openOne = async (sink: MemorySink): Promise<Sink.RunSink> => {
  const experimentId = await right(sink.experiment('exp'))
  return right(sink.openRun({ experimentId, runName: 'r', startTime: 1000, tags: [['mlflow.runName', 'r']] }))
}

const runOf = (sink: MemorySink, runId: string) => sink.snapshot().runs.find((r) => r.runId === runId)

t.test('experiments are got by name or created, in creation order', async (t) => {
  const sink = memorySink()
  t.equal(sink.name, 'memory')
  const a = await right(sink.experiment('a'))
  const b = await right(sink.experiment('b'))
  t.equal(await right(sink.experiment('a')), a)
  t.not(a, b)
  t.strictSame(sink.snapshot().experiments, [
    { experimentId: a, name: 'a' },
    { experimentId: b, name: 'b' }
  ])
})

t.test('openRun starts a RUNNING run with its name, start time and tags', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  t.match(run.runId, /^[0-9a-f]{32}$/)
  t.strictSame(sink.snapshot().runs, [
    {
      runId: run.runId,
      experimentId: run.experimentId,
      runName: 'r',
      status: 'RUNNING',
      startTime: 1000,
      endTime: undefined,
      params: {},
      metrics: {},
      tags: { 'mlflow.runName': 'r' },
      artifacts: {},
      inputs: []
    }
  ])
})

t.test('openRun refuses an unknown experiment and a bad tag key', async (t) => {
  const sink = memorySink()
  t.strictSame(
    await sink.openRun({ experimentId: '99', runName: 'r', startTime: 0, tags: [] })(),
    E.left({ _tag: 'NotFound', what: 'experiment', id: '99' })
  )
  const experimentId = await right(sink.experiment('exp'))
  t.match(await sink.openRun({ experimentId, runName: 'r', startTime: 0, tags: [['a//b', 'x']] })(), E.left({ _tag: 'InvalidKey', key: 'a//b' }))
  t.strictSame(sink.snapshot().runs, [])
})

t.test('params are immutable within a run, as on an MLflow server', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  t.strictSame(await run.logParams([['lr', '0.1'], ['bs', '16']])(), E.right(undefined))
  t.strictSame(await run.logParams([['lr', '0.1']])(), E.right(undefined), 'the same value again is fine')
  t.strictSame(
    await run.logParams([['new', 'x'], ['lr', '0.2']])(),
    E.left({ _tag: 'ParamConflict', runId: run.runId, key: 'lr', recorded: '0.1', attempted: '0.2' })
  )
  t.match(await run.logParams([['other', 'y'], ['bad key,', 'z']])(), E.left({ _tag: 'InvalidKey', key: 'bad key,' }))
  t.strictSame(runOf(sink, run.runId)?.params, { lr: '0.1', bs: '16' }, 'a refused batch logs nothing')
})

t.test('metrics keep their whole history; bad points are refused as a batch', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  await right(run.logMetrics([{ key: 'loss', value: 1, step: 0, timestamp: 10 }]))
  await right(
    run.logMetrics([
      { key: 'loss', value: 0.5, step: 1, timestamp: 20 },
      { key: 'acc', value: NaN, step: 1, timestamp: 20 }
    ])
  )
  t.match(await run.logMetrics([{ key: 'loss', value: 0, step: 2, timestamp: 30 }, { key: '/x', value: 1, step: 0, timestamp: 0 }])(), E.left({ _tag: 'InvalidKey', key: '/x' }))
  const reason = 'a metric needs a number value and an integer step'
  t.strictSame(
    await run.logMetrics([{ key: 'loss', value: '1' as unknown as number, step: 2, timestamp: 30 }])(),
    E.left({ _tag: 'InvalidValue', key: 'loss', reason })
  )
  t.strictSame(
    await run.logMetrics([{ key: 'loss', value: 1, step: 0.5, timestamp: 30 }])(),
    E.left({ _tag: 'InvalidValue', key: 'loss', reason })
  )
  t.strictSame(runOf(sink, run.runId)?.metrics, {
    loss: [
      { value: 1, step: 0, timestamp: 10 },
      { value: 0.5, step: 1, timestamp: 20 }
    ],
    acc: [{ value: NaN, step: 1, timestamp: 20 }]
  })
})

t.test('an identical point (key, value, timestamp, step) is one point, as on an MLflow server', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  const points = [
    { key: 'loss', value: 1, step: 0, timestamp: 10 },
    { key: 'loss', value: 0.5, step: 1, timestamp: 20 }
  ]
  await right(run.logMetrics(points))
  await right(run.logMetrics([...points, { key: 'loss', value: 0.75, step: 1, timestamp: 20 }, { key: 'acc', value: 1, step: 0, timestamp: 10 }]))
  const again = await right(sink.reopenRun(run.runId))
  await right(again.logMetrics(points))
  const want = [...points.map(({ value, step, timestamp }) => ({ value, step, timestamp })), { value: 0.75, step: 1, timestamp: 20 }]
  t.strictSame(runOf(sink, run.runId)?.metrics, { loss: want, acc: [{ value: 1, step: 0, timestamp: 10 }] })
  t.strictSame((await right(sink.query.getMetricHistory(run.runId, 'loss'))).metrics.length, 3, 'and the queries agree')
})

t.test('tags can be overwritten; a bad tag key is refused', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  await right(run.setTags([['stage', 'train']]))
  await right(run.setTags([['stage', 'eval']]))
  t.match(await run.setTags([['ok', '1'], ['a/./b', 'x']])(), E.left({ _tag: 'InvalidKey', key: 'a/./b' }))
  t.strictSame(runOf(sink, run.runId)?.tags, { 'mlflow.runName': 'r', stage: 'eval' })
})

t.test('artifacts are stored at their normal path, as a copy of the bytes', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  const bytes = Uint8Array.of(1, 2, 3)
  await right(run.logArtifact('plots/./roc.bin', bytes))
  bytes[0] = 99
  t.match(await run.logArtifact('../escape', bytes)(), E.left({ _tag: 'InvalidArtifactPath', path: '../escape' }))
  t.strictSame(runOf(sink, run.runId)?.artifacts, { 'plots/roc.bin': Uint8Array.of(1, 2, 3) })
})

t.test('end records status and end time; a run can be reopened after it ended', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  await right(run.flush())
  await right(run.end('FINISHED', 2000))
  const again = await right(sink.reopenRun(run.runId))
  t.equal(again.runId, run.runId)
  t.equal(again.experimentId, run.experimentId)
  await right(again.logMetrics([{ key: 'late', value: 42, step: 0, timestamp: 3000 }]))
  t.match(runOf(sink, run.runId), {
    status: 'FINISHED',
    endTime: 2000,
    metrics: { late: [{ value: 42, step: 0, timestamp: 3000 }] }
  })
  t.strictSame(await sink.reopenRun('nope')(), E.left({ _tag: 'NotFound', what: 'run', id: 'nope' }))
})

t.test('a snapshot is a deep copy: changing it changes nothing held', async (t) => {
  const sink = memorySink()
  const run = await openOne(sink)
  await right(run.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 0 }]))
  await right(run.logArtifact('a.bin', Uint8Array.of(7)))
  const snap = sink.snapshot()
  const held = snap.runs[0]
  if (held === undefined) throw new Error('no run')
  ;(held.metrics['m'] as unknown as Array<{ value: number }>)[0]!.value = 5
  ;(held.artifacts['a.bin'] as Uint8Array)[0] = 0
  ;(held.params as Record<string, string>)['x'] = 'y'
  t.match(sink.snapshot().runs[0], { params: {}, metrics: { m: [{ value: 1 }] }, artifacts: { 'a.bin': Uint8Array.of(7) } })
  t.notOk('x' in (sink.snapshot().runs[0]?.params ?? {}))
})

t.test('two memory sinks share nothing', async (t) => {
  const a = memorySink()
  const b = memorySink()
  await openOne(a)
  t.equal(a.snapshot().runs.length, 1)
  t.strictSame(b.snapshot(), { experiments: [], runs: [] })
})

t.test('values are kept as an MLflow server keeps them: strings, a long param or tag cut to its limit', async (t) => {
  const sink = memorySink()
  const experimentId = await right(sink.experiment('exp'))
  const run = await right(sink.openRun({ experimentId, runName: 'r', startTime: 0, tags: [['opened', 'o'.repeat(8001)]] }))
  t.strictSame(await run.logParams([['p', 'x'.repeat(6001)]])(), E.right(undefined))
  t.strictSame(await run.logParams([['p', `${'x'.repeat(6000)}different tail`]])(), E.right(undefined), 'the same once cut: no conflict, as on the server')
  t.strictSame(await run.setTags([['t', 'y'.repeat(8001)]])(), E.right(undefined))
  const stored = runOf(sink, run.runId)!
  t.equal(stored.params['p'], 'x'.repeat(6000))
  t.equal(stored.tags['t'], 'y'.repeat(8000))
  t.equal(stored.tags['opened'], 'o'.repeat(8000))
  t.match(await run.logParams([['n', 5 as unknown as string]])(), E.left({ _tag: 'InvalidValue', key: 'n' }))
  t.match(await run.setTags([['n', null as unknown as string]])(), E.left({ _tag: 'InvalidValue', key: 'n' }))
  t.notOk('n' in runOf(sink, run.runId)!.params)
})

t.test('used directly from JavaScript, the sink answers a Left: it never throws nor rejects', async (t) => {
  const sink = memorySink()
  const experimentId = await right(sink.experiment('exp'))
  const run = await right(sink.openRun({ experimentId, runName: 'r', startTime: 0, tags: [] }))
  await right(run.logMetrics([{ key: 'kept', value: 1, step: 0, timestamp: 0 }]))
  const anything = null as unknown as never
  t.match(await sink.experiment(7 as unknown as string)(), E.left({ _tag: 'InvalidValue', key: 'name' }))
  t.match(await sink.openRun(anything)(), E.left({ _tag: 'TaskFailed' }))
  t.match(await run.logParams(anything)(), E.left({ _tag: 'TaskFailed' }))
  t.match(await run.logMetrics([anything])(), E.left({ _tag: 'TaskFailed' }))
  t.match(await run.logMetrics([{ key: 123, value: 1, step: 0, timestamp: 0 } as unknown as never])(), E.left({ _tag: 'InvalidKey', key: '123' }))
  t.match(await run.setTags([[{}, 'v'] as unknown as never])(), E.left({ _tag: 'InvalidKey', key: 'an object' }))
  t.match(await run.logArtifact(anything, new Uint8Array(0))(), E.left({ _tag: 'InvalidArtifactPath' }))
  t.strictSame(runOf(sink, run.runId)!.metrics, { kept: [{ value: 1, step: 0, timestamp: 0 }] }, 'what was logged before is kept')
  t.strictSame(sink.snapshot().experiments.map((e) => e.name), ['exp'])
})
