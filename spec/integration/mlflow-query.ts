// The MLflow sink's queries against a real server, checked against MLflow's own Python
// client: for the same filter and ordering, the same run ids in the same order; the same
// metric history; the same experiments.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Errors, evaluate, mlflowSink, run, Track, trackParam } from 'charmory-track'
import { fixedSource } from '../support/behaviour.js'
import { built } from '../support/sinks.js'
import { childEnv } from '../support/local-store.js'
import { mlflowExecutable, serverFor } from '../support/mlflow-server.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

/** Runs MLflow's Python client on `requests` (a JSON list) against the server; yields its JSON answer. */
const python = (requests: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<unknown> => {
  const script = `
import json, math, sys
from mlflow import MlflowClient
client = MlflowClient()
out = []
for q in json.loads(sys.stdin.read()):
    if q["kind"] == "runs":
        runs = client.search_runs(q["experiment_ids"], filter_string=q["filter"], order_by=q["order_by"], max_results=q["max_results"])
        out.append([r.info.run_id for r in runs])
    elif q["kind"] == "history":
        out.append([[m.value, m.step, m.timestamp] for m in client.get_metric_history(q["run_id"], q["key"])])
    else:
        out.append([e.name for e in client.search_experiments(filter_string=q["filter"], order_by=q["order_by"])])
print(json.dumps(out))
`
  const executable = join(dirname(mlflowExecutable()!), 'python')
  const text = execFileSync(executable, ['-c', script], {
    cwd: tmpdir(),
    input: JSON.stringify(requests),
    encoding: 'utf8',
    env: childEnv({ MLFLOW_TRACKING_URI: server.url })
  })
  return JSON.parse(text) as ReadonlyArray<unknown>
}

t.test('searches answer what MLflow\'s Python client answers for the same query', async (t) => {
  const sink = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
  t.teardown(() => sink.close())
  const uniq = randomUUID().slice(0, 8)
  const main = `python compare ${uniq}`
  const other = `python compare other ${uniq}`
  let now = Date.UTC(2024, 6, 1)
  const env = { sink, clock: { now: () => now }, source: () => fixedSource() }
  const models = ['resnet18', 'resnet50', 'vit', 'ResNet18']
  const ids: Array<string> = []
  for (let i = 0; i < 12; i++) {
    now = Date.UTC(2024, 6, 1) + 1000 * (i % 5)
    const program = pipe(
      trackParam('model', models[i % 4]),
      Track.flatMap(() => (i % 3 === 0 ? Track.of(undefined) : trackParam('lr', String(0.1 / (i % 3))))),
      Track.flatMap(() =>
        evaluate({ experiment: i < 9 ? main : other, runName: `run-${i}`, tags: i % 2 === 0 ? { stage: 'prod' } : { stage: 'dev' } }, async (r) => {
          for (let step = 0; step < 3; step++) await r.logMetric('loss', 1 / (i + step + 1), { step, timestamp: now + step })
          if (i === 5) await r.logMetric('accuracy', NaN)
          else if (i !== 7) await r.logMetric('accuracy', (i * 7) % 10 / 10)
          if (i === 4) throw new Error('diverged')
          return {}
        })
      ),
      Track.map((e) => e.runId),
      Track.orElse(() => Track.of(''))
    )
    ids.push(right(await run(program, env)))
  }
  t.equal(ids.filter((id) => id === '').length, 1, 'one run failed')
  const experimentIds = [right(await sink.experiment(main)()), right(await sink.experiment(other)())]

  const queries: ReadonlyArray<{ filter: string; orderBy: ReadonlyArray<string>; maxResults: number }> = [
    { filter: '', orderBy: [], maxResults: 1000 },
    { filter: 'metrics.accuracy > 0.3', orderBy: [], maxResults: 1000 },
    { filter: "params.model = 'resnet18' and tags.stage != 'dev'", orderBy: [], maxResults: 1000 },
    { filter: "params.model ILIKE 'resnet%'", orderBy: ['metrics.accuracy DESC'], maxResults: 1000 },
    { filter: "params.model LIKE 'resnet_%'", orderBy: ['params.lr ASC', 'attributes.run_name DESC'], maxResults: 1000 },
    { filter: "attributes.status = 'FINISHED' and metrics.loss < 0.2", orderBy: ['metrics.loss'], maxResults: 1000 },
    { filter: 'params.lr IS NULL', orderBy: ['attributes.start_time ASC'], maxResults: 1000 },
    { filter: `attributes.start_time >= ${Date.UTC(2024, 6, 1) + 2000}`, orderBy: ['tags.stage DESC'], maxResults: 3 },
    { filter: "attributes.run_name LIKE 'run-1%' and attributes.user_id = 'ada'", orderBy: ['metrics.accuracy ASC'], maxResults: 1000 }
  ]
  const ours: Array<ReadonlyArray<string>> = []
  for (const q of queries) {
    const found = right(await sink.query.searchRuns({ experimentIds, filter: q.filter, orderBy: q.orderBy, maxResults: q.maxResults })())
    ours.push(found.runs.map((r) => r.runId))
  }
  const history = right(await sink.query.getMetricHistory(ids[2]!, 'loss')())
  const experiments = right(await sink.query.searchExperiments({ filter: `name LIKE 'python compare%${uniq}'`, orderBy: ['name ASC'] })())

  const theirs = python([
    ...queries.map((q) => ({ kind: 'runs', experiment_ids: experimentIds, filter: q.filter, order_by: q.orderBy, max_results: q.maxResults })),
    { kind: 'history', run_id: ids[2], key: 'loss' },
    { kind: 'experiments', filter: `name LIKE 'python compare%${uniq}'`, order_by: ['name ASC'] }
  ])
  queries.forEach((q, i) => {
    t.strictSame(ours[i], theirs[i], `${q.filter || '(no filter)'} ordered by ${q.orderBy.join(', ') || 'default'}`)
    t.ok(ours[i]!.length > 0, `${q.filter || '(no filter)'} finds some runs`)
  })
  t.strictSame(
    history.metrics.map((m) => [m.value, m.step, m.timestamp]),
    theirs[queries.length],
    'the same metric history'
  )
  t.strictSame(experiments.experiments.map((e) => e.name), theirs[queries.length + 1])
  t.strictSame(experiments.experiments.map((e) => e.name), [main, other])
})
