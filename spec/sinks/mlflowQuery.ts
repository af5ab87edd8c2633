// The MLflow sink's queries over a scripted transport: answers a real server gives only in
// unusual cases (fields left out, more than one page of experiments, a failing lookup).
// Against a real server: spec/integration/mlflow-query.ts and the shared behaviour suite.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mlflowSink } from 'charmory-track'
import { scriptedTransport, type Route } from '../support/scripted-transport.js'
import { built } from '../support/sinks.js'

const sinkOver = async (route: Route) => {
  const { fetch, requests: calls } = scriptedTransport(route)
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }), { logger: { warn: () => undefined, info: () => undefined } })
  return { sink, calls }
}

const missing = { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such thing' } }

t.test('runs of every experiment: the experiments are listed page by page first', async (t) => {
  const { sink, calls } = await sinkOver((_, path, body) => {
    if (path === 'mlflow/experiments/search') {
      const token = (body as { page_token?: string }).page_token
      return token === undefined
        ? { status: 200, body: { experiments: [{ experiment_id: '0', name: 'Default' }], next_page_token: 'p2' } }
        : { status: 200, body: { experiments: [{ experiment_id: '7', name: 'seven', tags: [{ key: 'team', value: 'a' }], creation_time: '5' }] } }
    }
    if (path === 'mlflow/runs/search') {
      return { status: 200, body: { runs: [{ info: { run_id: 'r1', experiment_id: '7', status: 'FINISHED' }, data: {} }], next_page_token: '' } }
    }
    return undefined
  })
  const page = await sink.query.searchRuns()()
  t.strictSame(page, E.right({
    runs: [{ runId: 'r1', experimentId: '7', runName: '', status: 'FINISHED', startTime: 0, endTime: undefined, userId: '', params: {}, metrics: {}, tags: {} }],
    nextPageToken: undefined
  }), 'fields the server leaves out read as empty')
  t.strictSame(calls.map((c) => c.replace(/ \{.*$/, '')), ['POST mlflow/experiments/search', 'POST mlflow/experiments/search', 'POST mlflow/runs/search'])
  t.match(calls[2], /"experiment_ids":\["0","7"\]/)
  const experiments = await sink.query.searchExperiments({ pageToken: 'p2', maxResults: 10 })()
  t.strictSame(experiments, E.right({
    experiments: [{ experimentId: '7', name: 'seven', tags: { team: 'a' }, creationTime: 5, lastUpdateTime: undefined }],
    nextPageToken: undefined
  }))
  t.match(calls[3], /"max_results":10,"page_token":"p2"/)
})

t.test('named experiments and ids together; a name the server does not know matches nothing', async (t) => {
  const { sink, calls } = await sinkOver((_, path, __, query) => {
    if (path === 'mlflow/experiments/get-by-name') {
      return query.get('experiment_name') === 'known' ? { status: 200, body: { experiment: { experiment_id: '3', name: 'known' } } } : missing
    }
    if (path === 'mlflow/runs/search') return { status: 200, body: {} }
    return undefined
  })
  t.strictSame(await sink.query.searchRuns({ experiments: ['known', 'unknown'], experimentIds: ['3', '4'] })(), E.right({ runs: [], nextPageToken: undefined }))
  t.match(calls[calls.length - 1], /"experiment_ids":\["3","4"\]/)
  t.strictSame(await sink.query.searchRuns({ experiments: ['unknown'] })(), E.right({ runs: [], nextPageToken: undefined }))
  t.equal(calls.filter((c) => c.startsWith('POST mlflow/runs/search')).length, 1, 'no search without an experiment')
})

t.test('other failures of a lookup are errors; a missing run is NotFound', async (t) => {
  const { sink } = await sinkOver((_, path) => {
    if (path === 'mlflow/experiments/get-by-name') return { status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'no' } }
    if (path === 'mlflow/runs/get') return { status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'no' } }
    return undefined
  })
  t.match(await sink.query.searchRuns({ experiments: ['x'] })(), E.left({ _tag: 'HttpError', errorCode: 'PERMISSION_DENIED' }))
  t.match(await sink.query.getRun('r1')(), E.left({ _tag: 'HttpError', errorCode: 'PERMISSION_DENIED' }))
  t.match(await sink.query.getMetricHistory('r1', 'loss')(), E.left({ _tag: 'HttpError', errorCode: 'PERMISSION_DENIED' }))
  t.match(await sink.query.getMetricHistory('r1', 'loss', { maxResults: 0 })(), E.left({ _tag: 'InvalidValue', key: 'maxResults' }))
  t.match(await sink.query.searchExperiments({ filter: 'name >' })(), E.left({ _tag: 'InvalidQuery', column: 6 }))
  t.match(await sink.query.searchRuns({ orderBy: ['nope.x'] })(), E.left({ _tag: 'InvalidQuery', query: 'nope.x' }))
})

t.test('answers with fields left out: no experiments, no metrics, a point without a step', async (t) => {
  const { sink } = await sinkOver((_, path, __, query) => {
    if (path === 'mlflow/experiments/search') return { status: 200, body: { next_page_token: '' } }
    if (path === 'mlflow/runs/get') return { status: 200, body: { run: { info: { run_id: 'r1', experiment_id: '1', status: 'RUNNING' }, data: {} } } }
    if (path === 'mlflow/metrics/get-history') {
      return query.get('metric_key') === 'none'
        ? { status: 200, body: {} }
        : { status: 200, body: { metrics: [{ key: 'm', value: 'NaN', timestamp: '5' }], next_page_token: '' } }
    }
    return undefined
  })
  t.strictSame(await sink.query.searchExperiments()(), E.right({ experiments: [], nextPageToken: undefined }))
  t.strictSame(await sink.query.searchRuns()(), E.right({ runs: [], nextPageToken: undefined }), 'no experiment, no run')
  t.strictSame(await sink.query.getMetricHistory('r1', 'none')(), E.right({ metrics: [], nextPageToken: undefined }))
  const history = await sink.query.getMetricHistory('r1', 'm', { pageToken: 'p' })()
  t.strictSame(history, E.right({ metrics: [{ key: 'm', value: NaN, timestamp: 5, step: 0 }], nextPageToken: undefined }))
})
