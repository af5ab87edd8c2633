/**
 * The query side of the shared behaviour suite: the same runs are written to a sink, and the
 * same searches must find the same runs in the same order on every sink (memory, local,
 * MLflow). Runs are named r1..r6 so that answers compare across sinks, whose run ids differ;
 * where MLflow breaks a tie by run id, the expectation is built from the ids the sink gave.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { Errors, Runtime, Sink, evaluate, Query, run, Track, trackParam } from 'charmory-track'

const expectRight = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

/** What the suite needs from one subtest's setup. */
export interface QuerySetup {
  readonly env: Runtime.EnvInput & { readonly sink: Sink.Sink }
  readonly clock: { readonly set: (t: number) => void }
}

interface Planned {
  readonly name: string
  readonly experiment: 'main' | 'other'
  readonly start: number
  readonly params: Readonly<Record<string, string>>
  readonly tags: Readonly<Record<string, string>>
  /** Logged inside the run, at steps 0, 1, 2, ... */
  readonly loss?: ReadonlyArray<number>
  readonly accuracy?: number
  readonly fails?: boolean
}

const T0 = Date.UTC(2024, 5, 1, 0, 0, 0)

const plan: ReadonlyArray<Planned> = [
  { name: 'r1', experiment: 'main', start: T0 + 1000, params: { model: 'resnet18', lr: '0.1' }, tags: { stage: 'prod' }, loss: [0.9, 0.5, 0.25], accuracy: 0.95 },
  { name: 'r2', experiment: 'main', start: T0 + 2000, params: { model: 'resnet50', lr: '0.01' }, tags: { stage: 'dev' }, accuracy: 0.91 },
  { name: 'r3', experiment: 'main', start: T0 + 3000, params: { model: 'vit', lr: '0.1' }, tags: { stage: 'prod' }, accuracy: 0.85 },
  { name: 'r4', experiment: 'main', start: T0 + 4000, params: { model: 'resnet18', lr: '0.1' }, tags: {}, fails: true },
  { name: 'r5', experiment: 'main', start: T0 + 3000, params: { model: 'ResNet18' }, tags: { stage: 'prod' }, accuracy: NaN },
  { name: 'r6', experiment: 'other', start: T0 + 5000, params: { model: 'resnet18', lr: '0.5' }, tags: { stage: 'prod' }, accuracy: 0.99 }
]

/**
 * Adds the query cases to `t`. `experimentName` gives names unique to this suite's run;
 * `setup` a sink for one subtest.
 */
export const queryCases = (t: Test, experimentName: (label: string) => string, setup: (t: Test) => Promise<QuerySetup>): void => {
  /** Writes the planned runs into experiments of its own; yields the sink's queries and each run's id by name. */
  const written = async (t: Test) => {
    const { env, clock } = await setup(t)
    // a server is shared by the subtests: each writes into experiments of its own
    const suffix = randomUUID().slice(0, 8)
    const main = experimentName(`query main ${suffix}`)
    const other = experimentName(`query other ${suffix}`)
    const ids: Record<string, string> = {}
    for (const p of plan) {
      clock.set(p.start)
      let runId = ''
      const program = pipe(
        Object.entries(p.params).reduce<Track.Track<void>>((acc, [k, v]) => pipe(acc, Track.flatMap(() => trackParam(k, v))), Track.of(undefined)),
        Track.flatMap(() =>
          evaluate({ experiment: p.experiment === 'main' ? main : other, runName: p.name, tags: p.tags }, async (r) => {
            runId = r.runId
            for (const [step, value] of (p.loss ?? []).entries()) await r.logMetric('loss', value, { step, timestamp: p.start + 10 * step })
            if (p.accuracy !== undefined) await r.logMetric('accuracy', p.accuracy)
            if (p.fails === true) throw new Error('diverged')
            return {}
          })
        )
      )
      const result = await run(program, env)
      if (E.isLeft(result) !== (p.fails === true)) throw new Error(`run ${p.name}: unexpected ${JSON.stringify(result)}`)
      ids[p.name] = runId
    }
    const query = expectRight(Query.queryOf(env.sink))
    return { env, query, ids, main, other }
  }

  const names = async (query: Query.RunQuery, request: Query.SearchRunsRequest): Promise<ReadonlyArray<string>> =>
    expectRight(await query.searchRuns(request)()).runs.map((r) => r.runName)

  /** Names in MLflow's natural order: newest start first, then by run id. */
  const natural = (ids: Record<string, string>, chosen: ReadonlyArray<string>): ReadonlyArray<string> =>
    [...chosen].sort((a, b) => {
      const pa = plan.find((p) => p.name === a)!
      const pb = plan.find((p) => p.name === b)!
      return pb.start - pa.start || (ids[a]! < ids[b]! ? -1 : 1)
    })

  t.test('queries: filters find the same runs in the same order on every sink', async (t) => {
    const { query, ids, main, other } = await written(t)
    t.strictSame(await names(query, { experiments: [main] }), natural(ids, ['r1', 'r2', 'r3', 'r4', 'r5']), 'the whole experiment')
    t.strictSame(
      await names(query, { experiments: [main], filter: "metrics.accuracy > 0.9 and params.model LIKE 'resnet%' and tags.stage != 'dev'" }),
      ['r1']
    )
    t.strictSame(
      await names(query, { experiments: [main], filter: "attributes.status = 'FINISHED'", orderBy: ['metrics.accuracy DESC'] }),
      ['r1', 'r2', 'r3', 'r5'],
      'NaN after every number'
    )
    t.strictSame(await names(query, { experiments: [main], filter: "attributes.status = 'FAILED'" }), ['r4'])
    t.strictSame(await names(query, { experiments: [main], filter: "params.model ILIKE 'RESNET18'" }), natural(ids, ['r1', 'r4', 'r5']))
    t.strictSame(await names(query, { experiments: [main], filter: "params.model LIKE 'resnet_8'" }), natural(ids, ['r1', 'r4']))
    t.strictSame(await names(query, { experiments: [main], filter: "attributes.run_name = 'r2' and attributes.user_id = 'ada'" }), ['r2'])
    t.strictSame(
      await names(query, { experiments: [main], filter: `attributes.start_time >= ${T0 + 3000} and attributes.start_time < ${T0 + 4000}` }),
      natural(ids, ['r3', 'r5']),
      'a tie on start time is broken by run id'
    )
    t.strictSame(await names(query, { experiments: [main], filter: 'tags.stage IS NULL' }), ['r4'])
    t.strictSame(await names(query, { experiments: [main], filter: 'params.lr IS NULL' }), ['r5'])
    t.strictSame(await names(query, { experiments: [main], filter: `attributes.run_id IN ('${ids['r1']}', '${ids['r2']}')` }), ['r2', 'r1'])
    t.strictSame(await names(query, { experiments: [main], filter: 'metrics.loss < 0.5' }), ['r1'], 'a metric compares its latest value')
    t.strictSame(await names(query, { experiments: [main], filter: 'metrics.loss > 0.5' }), [])
    t.strictSame(await names(query, { experiments: [main], filter: 'metrics.accuracy != 0.5' }), natural(ids, ['r1', 'r2', 'r3', 'r5']), 'NaN is != anything')
    t.strictSame(await names(query, { experiments: [main, other], filter: "params.model = 'resnet18'" }), ['r6', 'r4', 'r1'])
    t.strictSame(
      await names(query, { experiments: [main, other], orderBy: ['params.lr ASC', 'attributes.start_time DESC'] }),
      ['r2', 'r4', 'r3', 'r1', 'r6', 'r5'],
      'params order as text; a run without the key comes last'
    )
    t.strictSame(await names(query, { experiments: [main, other], orderBy: ['tags.stage DESC', 'attributes.run_name'] }), ['r1', 'r3', 'r5', 'r6', 'r2', 'r4'])
    t.strictSame(await names(query, { experiments: [`${main} (none such)`] }), [], 'an experiment the sink does not know matches nothing')
  })

  t.test('queries: pages, single runs and metric histories', async (t) => {
    const { query, ids, main, other } = await written(t)
    const seen: Array<string> = []
    let token: string | undefined
    let pages = 0
    do {
      const p = expectRight(await query.searchRuns({ experiments: [main], maxResults: 2, ...(token === undefined ? {} : { pageToken: token }) })())
      seen.push(...p.runs.map((r) => r.runName))
      token = p.nextPageToken
      pages++
    } while (token !== undefined)
    t.equal(pages, 3)
    t.strictSame(seen, natural(ids, ['r1', 'r2', 'r3', 'r4', 'r5']))

    const r1: Query.FoundRun = expectRight(await query.getRun(ids['r1']!)())
    t.match(r1, {
      runId: ids['r1'],
      runName: 'r1',
      status: 'FINISHED',
      startTime: T0 + 1000,
      userId: 'ada',
      params: { model: 'resnet18', lr: '0.1' },
      metrics: { loss: 0.25, accuracy: 0.95 },
      tags: { stage: 'prod', 'mlflow.runName': 'r1', 'mlflow.user': 'ada' }
    })
    t.type(r1.endTime, 'number')
    const r5 = expectRight(await query.getRun(ids['r5']!)())
    t.ok(Number.isNaN(r5.metrics['accuracy']), 'a NaN metric reads back as NaN')
    t.match(await query.getRun('0123456789abcdef0123456789abcdef')(), E.left({ _tag: 'NotFound', what: 'run' }))

    const history = expectRight(await query.getMetricHistory(ids['r1']!, 'loss')())
    t.strictSame(history, {
      metrics: [
        { key: 'loss', value: 0.9, timestamp: T0 + 1000, step: 0 },
        { key: 'loss', value: 0.5, timestamp: T0 + 1010, step: 1 },
        { key: 'loss', value: 0.25, timestamp: T0 + 1020, step: 2 }
      ],
      nextPageToken: undefined
    })
    const first = expectRight(await query.getMetricHistory(ids['r1']!, 'loss', { maxResults: 2 })())
    t.strictSame(first.metrics.map((m) => m.value), [0.9, 0.5])
    t.type(first.nextPageToken, 'string')
    const rest = expectRight(await query.getMetricHistory(ids['r1']!, 'loss', { maxResults: 2, pageToken: first.nextPageToken! })())
    t.strictSame(rest, { metrics: [{ key: 'loss', value: 0.25, timestamp: T0 + 1020, step: 2 }], nextPageToken: undefined })
    t.strictSame(expectRight(await query.getMetricHistory(ids['r2']!, 'loss')()), { metrics: [], nextPageToken: undefined })
    t.match(await query.getMetricHistory('0123456789abcdef0123456789abcdef', 'loss')(), E.left({ _tag: 'NotFound', what: 'run' }))
  })

  t.test('queries: experiments, bad queries, and pipeline steps', async (t) => {
    const { env, query, ids, main, other } = await written(t)
    // every experiment of this subtest, and only those
    const found = expectRight(await query.searchExperiments({ filter: `name LIKE 'query %${main.slice('query main'.length)}'`, orderBy: ['name DESC'] })())
    t.strictSame(
      found.experiments.map((e) => e.name),
      [main, other].sort().reverse()
    )
    const one = expectRight(await query.searchExperiments({ filter: `name = '${other}'` })())
    t.strictSame(one.experiments.map((e) => e.name), [other])
    const byId = expectRight(await query.searchExperiments({ filter: `experiment_id IN ('${one.experiments[0]!.experimentId}')` })())
    t.strictSame(byId.experiments.map((e) => e.name), [other])

    for (const bad of ['metrics.accuracy > high', "params.model = 'x' or params.model = 'y'"]) {
      t.match(await query.searchRuns({ experiments: [main], filter: bad })(), E.left({ _tag: 'InvalidQuery', query: bad }), bad)
    }
    t.match(await query.searchRuns({ experiments: [main], orderBy: ['metrics.accuracy UP'] })(), E.left({ _tag: 'InvalidQuery', column: 18 }))
    t.match(await query.searchRuns({ experiments: [main], maxResults: 0 })(), E.left({ _tag: 'InvalidValue', key: 'maxResults' }))
    t.match(await query.searchExperiments({ filter: 'status = 1' })(), E.left({ _tag: 'InvalidQuery', column: 1 }))

    // a step that compares a new result with the best earlier run of the experiment
    const compare = pipe(
      Query.bestRun({ experiment: main, metric: 'accuracy' }),
      Track.bindTo('best'),
      Track.bind('worst', () => Query.bestRun({ experiment: main, metric: 'accuracy', lowestIsBest: true })),
      Track.bind('bestResnet', () => Query.bestRun({ experiment: main, metric: 'accuracy', filter: "params.model = 'resnet50'" })),
      Track.bind('none', () => Query.bestRun({ experiment: main, metric: 'absent' })),
      Track.bind('run', () => Query.getRun(ids['r2']!)),
      Track.bind('history', () => Query.getMetricHistory(ids['r1']!, 'loss', { maxResults: 1 })),
      Track.bind('page', () => Query.searchRuns({ experiments: [main], maxResults: 1 })),
      Track.bind('experiments', () => Query.searchExperiments({ filter: `name = '${main}'` }))
    )
    const r = expectRight(await run(compare, env))
    t.equal(r.best?.runName, 'r1')
    t.equal(r.worst?.runName, 'r3', 'NaN is never the best')
    t.equal(r.bestResnet?.runName, 'r2')
    t.equal(r.none, undefined)
    t.equal(r.run.runName, 'r2')
    t.strictSame(r.history.metrics.map((m) => m.value), [0.9])
    t.strictSame(r.page.runs.map((x) => x.runName), ['r4'])
    t.strictSame(r.experiments.experiments.map((e) => e.name), [main])
  })
}
