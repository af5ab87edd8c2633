import t from 'tap'
import { experimentLookup, foundRun } from '../lib/internal/query.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
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
  const found = foundRun(
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
  const tagged = experimentLookup({ experimentId: '1', name: 'x', tags: { team: 'a' }, creationTime: 5, lastUpdateTime: undefined })
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

t.test('every query decodes its arguments: a typed Left naming the field, never a throw nor a rejection', async (t) => {
  const sink = memorySink()
  const { runId } = right(
    await run(evaluate({ experiment: 'args' }, async (r) => r.logMetric('kept', 1)), { sink })
  )
  const js = <A>(u: unknown): A => u as A
  const q = sink.query
  const cases: ReadonlyArray<readonly [string, () => Promise<E.Either<Errors.TrackError, unknown>>, string, RegExp]> = [
    ['searchRuns(null)', q.searchRuns(js(null)), 'request', /^searchRuns takes request as a search request .*, not null$/],
    ['searchRuns([])', q.searchRuns(js([])), 'request', /not an array$/],
    ['filter: 5', q.searchRuns(js({ filter: 5 })), 'filter', /^searchRuns takes filter as a string, not a number$/],
    ["experiments: 'sweep'", q.searchRuns(js({ experiments: 'sweep' })), 'experiments', /as an array of strings, not a string$/],
    ['experimentIds: [1]', q.searchRuns(js({ experimentIds: [1] })), 'experimentIds.0', /as a string, not a number$/],
    ["orderBy: 'x'", q.searchRuns(js({ orderBy: 'metrics.a' })), 'orderBy', /array of strings/],
    ["maxResults: '5'", q.searchRuns(js({ maxResults: '5' })), 'maxResults', /as a number, not a string$/],
    ['pageToken: 1', q.searchRuns(js({ pageToken: 1 })), 'pageToken', /as a string/],
    ['getRun(null)', q.getRun(js(null)), 'runId', /^getRun takes runId as a string, not null$/],
    ['getMetricHistory(1, k)', q.getMetricHistory(js(1), 'kept'), 'runId', /^getMetricHistory takes runId/],
    ['getMetricHistory(id, {})', q.getMetricHistory(runId, js({})), 'key', /^getMetricHistory takes key as a string, not an object$/],
    ['getMetricHistory page', q.getMetricHistory(runId, 'kept', js('all')), 'page', /as a page request/],
    ['searchExperiments(7)', q.searchExperiments(js(7)), 'request', /^searchExperiments takes request/],
    ['searchExperiments filter', q.searchExperiments(js({ filter: ['name'] })), 'filter', /not an array$/]
  ]
  for (const [what, task, key, reason] of cases) t.match(await task(), E.left({ _tag: 'InvalidValue', key, reason }), what)
  const throwing = js<Query.SearchRunsRequest>({
    get filter(): string {
      throw new Error('no filter today')
    }
  })
  t.match(await q.searchRuns(throwing)(), E.left({ _tag: 'InvalidValue', key: 'request', reason: 'searchRuns could not read request: no filter today' }))
  t.strictSame(E.map((p: Query.RunsPage) => p.runs.map((r) => r.metrics))(await q.searchRuns()()), E.right([{ kept: 1 }]), 'what was recorded is still there')
})

t.test('a query of a sink that throws or rejects is a TaskFailed Left', async (t) => {
  const boom: Query.RunQuery = Query.guardedQuery({
    searchRuns: () => {
      throw new Error('thrown')
    },
    getRun: () => () => Promise.reject(new Error('rejected')),
    getMetricHistory: () => () => Promise.reject(new Error('rejected')),
    searchExperiments: () => () => Promise.reject(new Error('rejected'))
  })
  t.match(await boom.searchRuns()(), E.left({ _tag: 'TaskFailed', message: 'thrown' }))
  t.match(await boom.getRun('r')(), E.left({ _tag: 'TaskFailed', message: 'rejected' }))
  t.match(await boom.getMetricHistory('r', 'k')(), E.left({ _tag: 'TaskFailed' }))
  t.match(await boom.searchExperiments()(), E.left({ _tag: 'TaskFailed' }))
})

t.test('keys named after Object.prototype are keys like any other', async (t) => {
  const sink = memorySink()
  const { runId } = right(
    await run(
      evaluate({ experiment: 'proto' }, async (r) => {
        await r.logParams({ ['__proto__']: 'p', constructor: 'c' })
        await r.logMetric('toString', 2, { step: 1 })
        await r.setTag('constructor', 'tag')
      }),
      { sink }
    )
  )
  const found = right(await sink.query.getRun(runId)())
  t.equal(Object.getPrototypeOf(found.params), Object.prototype)
  t.strictSame([found.params['__proto__'], found.params['constructor'], found.metrics['toString'], found.tags['constructor']], ['p', 'c', 2, 'tag'])
  for (const key of ['constructor', '__proto__', 'hasOwnProperty']) {
    t.strictSame(right(await sink.query.getMetricHistory(runId, key)()), { metrics: [], nextPageToken: undefined }, `no ${key} history`)
  }
  t.strictSame(right(await sink.query.getMetricHistory(runId, 'toString')()).metrics.map((m) => m.value), [2])
  const search = async (filter: string): Promise<number> => right(await sink.query.searchRuns({ filter })()).runs.length
  t.equal(await search("params.`__proto__` = 'p'"), 1)
  t.equal(await search("params.constructor = 'c'"), 1)
  t.equal(await search('metrics.toString = 2'), 1)
  t.equal(await search("tags.constructor = 'tag'"), 1)
  t.equal(await search("tags.toString = 'x'"), 0, 'a key the run does not have')
  t.equal(right(await sink.query.searchExperiments({ filter: "tags.constructor = 'x'" })()).experiments.length, 0)
})

t.test('bestRun decodes its options', async (t) => {
  const sink = memorySink()
  right(await run(evaluate({ experiment: 'best' }, async () => ({ accuracy: 0.5 })), { sink }))
  type Options = Parameters<typeof Query.bestRun>[0]
  const js = (u: unknown): Options => u as Options
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [null, 'options'],
    [{ metric: 'accuracy' }, 'experiment'],
    [{ experiment: 'best', metric: 1 }, 'metric'],
    [{ experiment: 'best', metric: 'accuracy', lowestIsBest: 'yes' }, 'lowestIsBest'],
    [{ experiment: 'best', metric: 'accuracy', filter: 5 }, 'filter']
  ]
  for (const [options, key] of cases) t.match(await run(Query.bestRun(js(options)), { sink }), E.left({ _tag: 'InvalidValue', key }), key)
  t.match(await run(Query.bestRun({ experiment: 'best', metric: 'accuracy' }), { sink }), E.right({ metrics: { accuracy: 0.5 } }))
})

t.test('queryOver, for a sink of your own: identical points of a history are one point, as the server keeps them', async (t) => {
  const point = { value: 0.5, step: 1, timestamp: 10 }
  const held: Query.HeldRun = {
    runId: 'r1',
    experimentId: '1',
    runName: 'mine',
    status: 'FINISHED',
    startTime: 0,
    endTime: 20,
    params: {},
    tags: {},
    metrics: { loss: [point, { ...point }, { value: 0.25, step: 2, timestamp: 11 }] }
  }
  const query = Query.queryOver({
    experiments: () => TE.right([{ experimentId: '1', name: 'own' }]),
    runs: () => TE.right([held]),
    run: () => TE.right(held)
  })
  const history = await query.getMetricHistory('r1', 'loss')()
  t.strictSame(E.map((h: Query.HistoryPage) => h.metrics.map((m) => m.value))(history), E.right([0.5, 0.25]))
})
