// `charmory-track runs --from URI` against a real MLflow server: the same flags as on the
// local store, answered by the server.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { randomUUID } from 'node:crypto'
import { Errors, mlflowSink } from 'charmory-track'
import { runsCommand, table } from '../../lib/cli/runs.js'
import { testIo } from '../support/local-cli.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

// the server may be shared with other spec files: every query names this file's experiment or
// a param value only this file writes
const uniq = randomUUID().slice(0, 8)
const experiment = `cli runs ${uniq}`
const vit = `vit-${uniq}`

t.test('runs --from URI searches the server, as a table or as JSON', async (t) => {
  const sink = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
  t.teardown(() => sink.close())
  const experimentId = right(await sink.experiment(experiment)())
  const open = async (runName: string, startTime: number, accuracy: number) => {
    const r = right(await sink.openRun({ experimentId, runName, startTime, tags: [['mlflow.runName', runName]] })())
    right(await r.logParams([['model', runName === 'b' ? vit : 'resnet']])())
    right(await r.logMetrics([{ key: 'accuracy', value: accuracy, step: 0, timestamp: startTime }])())
    right(await r.end('FINISHED', startTime + 1000)())
    return r.runId
  }
  const a = await open('a', Date.UTC(2024, 4, 1, 12, 0, 0), 0.5)
  const b = await open('b', Date.UTC(2024, 4, 2, 12, 0, 0), 0.9)
  const c = await open('c', Date.UTC(2024, 4, 3, 12, 0, 0), 0.7)

  const io = testIo(t)
  t.equal(await runsCommand(['--from', server.url, '--experiment', experiment, '--order-by', 'metrics.accuracy DESC'], io), 0)
  t.equal(
    io.out(),
    table([
      ['EXPERIMENT', 'RUN ID', 'NAME', 'STATUS', 'START', 'PARAMS', 'METRICS'],
      [experiment, b, 'b', 'FINISHED', '2024-05-02T12:00:00Z', '1', '1'],
      [experiment, c, 'c', 'FINISHED', '2024-05-03T12:00:00Z', '1', '1'],
      [experiment, a, 'a', 'FINISHED', '2024-05-01T12:00:00Z', '1', '1']
    ])
  )
  t.equal(io.err(), '')

  const json = testIo(t)
  t.equal(await runsCommand(['--from', server.url, '--experiment', experiment, '--filter', "params.model = 'resnet'", '--json', '--max', '1'], json), 0)
  const found = JSON.parse(json.out()) as ReadonlyArray<{ runId: string; metrics: Record<string, number>; params: Record<string, string> }>
  t.strictSame(found.map((r) => [r.runId, r.metrics, r.params]), [[c, { accuracy: 0.7 }, { model: 'resnet' }]], 'newest first, one of two')
  t.equal(json.err(), 'charmory-track runs: more runs match than the 1 shown (see --max, --filter)\n')

  const none = testIo(t)
  t.equal(await runsCommand(['--from', server.url, '--experiment', experiment, '--filter', 'metrics.accuracy > 0.95'], none), 0)
  t.equal(none.out(), `no runs of experiment ${JSON.stringify(experiment)} matching the filter on ${server.url}\n`)

  const bad = testIo(t)
  t.equal(await runsCommand(['--from', server.url, '--filter', 'metrics.accuracy >'], bad), 1)
  t.equal(bad.err(), 'charmory-track runs: invalid query "metrics.accuracy >" at column 19: expected a number, found the end\n')
})

t.test('runs --from: every experiment when none is named; a bad address or credentials are errors', async (t) => {
  const all = testIo(t)
  t.equal(await runsCommand(['--from', server.url, '--filter', `params.model = '${vit}'`], all), 0)
  t.match(all.out(), new RegExp(`^EXPERIMENT +RUN ID +NAME +STATUS +START +PARAMS +METRICS\n${experiment} +\\w{32} +b +FINISHED +2024-05-02T12:00:00Z +1 +1\n$`))

  const wrong = testIo(t)
  t.equal(await runsCommand(['--from', 'ftp://example.org'], wrong), 1)
  t.match(wrong.err(), /^charmory-track runs: MLFLOW_TRACKING_URI: /)

  const creds = testIo(t, { MLFLOW_TRACKING_TOKEN: 'tok' , MLFLOW_TRACKING_INSECURE_TLS: 'maybe' })
  t.equal(await runsCommand(['--from', server.url], creds), 1)
  t.match(creds.err(), /^charmory-track runs: MLFLOW_TRACKING_INSECURE_TLS: /)
  t.notMatch(creds.err(), /tok/)

  const gone = testIo(t, { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' })
  t.equal(await runsCommand(['--from', 'http://127.0.0.1:9'], gone), 1)
  t.match(gone.err(), /^charmory-track runs: POST api\/2\.0\/mlflow\/experiments\/search: /)
})
