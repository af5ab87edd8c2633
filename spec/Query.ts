import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Errors, evaluate, memorySink, Query, run, Track } from 'charmory-track'
import { failing } from './support/sinks.js'

const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

const held = (metrics: Query.HeldRun['metrics']): Query.HeldRun => ({
  runId: 'r',
  experimentId: '1',
  runName: 'n',
  status: 'RUNNING',
  startTime: 1,
  endTime: undefined,
  params: {},
  tags: {},
  metrics
})

t.test('a found run holds each metric\'s latest value: greatest step, then timestamp, then value', async (t) => {
  const found = Query.foundRun(
    held({
      byStep: [
        { value: 1, step: 2, timestamp: 1 },
        { value: 2, step: 1, timestamp: 9 }
      ],
      byTime: [
        { value: 1, step: 0, timestamp: 5 },
        { value: 2, step: 0, timestamp: 4 }
      ],
      byValue: [
        { value: 1, step: 0, timestamp: 5 },
        { value: 3, step: 0, timestamp: 5 },
        { value: 2, step: 0, timestamp: 5 }
      ],
      nanCountsAsZero: [
        { value: -1, step: 0, timestamp: 5 },
        { value: NaN, step: 0, timestamp: 5 }
      ],
      empty: []
    })
  )
  t.strictSame(found.metrics, { byStep: 1, byTime: 1, byValue: 3, nanCountsAsZero: NaN })
  t.equal(found.userId, '', 'no mlflow.user tag, no user')
})

t.test('a metric history has each point once, by timestamp, step and value', async (t) => {
  const sink = memorySink()
  const experimentId = right(await sink.experiment('e')())
  const r = right(await sink.openRun({ experimentId, runName: 'n', startTime: 0, tags: [] })())
  right(
    await r.logMetrics([
      { key: 'm', value: 2, step: 1, timestamp: 5 },
      { key: 'm', value: 1, step: 1, timestamp: 5 },
      { key: 'm', value: 2, step: 1, timestamp: 5 },
      { key: 'm', value: 9, step: 0, timestamp: 6 },
      { key: 'm', value: 7, step: 3, timestamp: 4 }
    ])()
  )
  const history = right(await sink.query.getMetricHistory(r.runId, 'm')())
  t.strictSame(history.metrics.map((m) => [m.timestamp, m.step, m.value]), [[4, 3, 7], [5, 1, 1], [5, 1, 2], [6, 0, 9]])
  t.match(await sink.query.getMetricHistory(r.runId, 'm', { maxResults: 2, pageToken: 'bad' })(), E.left({ _tag: 'InvalidValue', key: 'pageToken' }))
  t.match(await sink.query.getRun('nope')(), E.left(Errors.notFound('run', 'nope')))
})

t.test('runs by experiment id; experiments by their tags', async (t) => {
  const sink = memorySink()
  const a = right(await sink.experiment('a')())
  const b = right(await sink.experiment('b')())
  for (const experimentId of [a, b]) right(await sink.openRun({ experimentId, runName: `in ${experimentId}`, startTime: 0, tags: [] })())
  t.strictSame(right(await sink.query.searchRuns({ experimentIds: [b] })()).runs.map((r) => r.runName), [`in ${b}`])
  t.strictSame(right(await sink.query.searchRuns({ experimentIds: [a], experiments: ['b'] })()).runs.map((r) => r.runName).sort(), [`in ${a}`, `in ${b}`])
  t.strictSame(right(await sink.query.searchExperiments({ filter: 'tags.team IS NULL', orderBy: ['name DESC'] })()).experiments.map((e) => e.name), ['b', 'a'])
  t.strictSame(right(await sink.query.searchExperiments({ filter: 'creation_time > 0' })()).experiments, [], 'the memory sink records no times')
  t.strictSame(right(await sink.query.searchExperiments()()).experiments.map((e) => e.name), ['a', 'b'], 'by id when no time is known')
  const tagged = Query.experimentLookup({ experimentId: '1', name: 'x', tags: { team: 'a' }, creationTime: 5, lastUpdateTime: undefined })
  t.equal(tagged('tag', 'team'), 'a')
  t.equal(tagged('tag', 'constructor'), undefined)
  t.equal(tagged('attribute', 'creation_time'), 5)
})

t.test('a sink without queries fails the steps with a ConfigError naming it', async (t) => {
  const sink = failing(Errors.notFound('run', 'x'))
  t.match(Query.queryOf(sink), E.left({ _tag: 'ConfigError', variable: 'sink', message: `${sink.name} cannot answer queries` }))
  t.match(await run(Query.searchRuns(), { sink }), E.left({ _tag: 'ConfigError', variable: 'sink' }))
})

t.test('bestRun: an empty filter is no filter; a run whose value is NaN is not the best', async (t) => {
  const sink = memorySink()
  const logged = (value: number) => evaluate({ experiment: 'e' }, async (r) => void (await r.logMetric('acc', value)))
  right(await run(logged(NaN), { sink }))
  t.equal(right(await run(Query.bestRun({ experiment: 'e', metric: 'acc', filter: ' ' }), { sink })), undefined)
  right(await run(logged(0.5), { sink }))
  const best = right(await run(pipe(Query.bestRun({ experiment: 'e', metric: 'acc', filter: '' }), Track.map((r) => r?.metrics['acc'])), { sink }))
  t.equal(best, 0.5)
})
