// Nothing lost when the server dies, without the fallback: an evaluation streams points into
// an mlflowSink as users build it (journaled by default), the server is killed mid-stream,
// `run` returns an Unsynced Left naming the local run and the command that completes it; the
// server is restarted over the same store, the command is run, and the server has every
// point exactly once and the run's final status.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { join } from 'node:path'
import { Errors, LocalStore, evaluate, Mlflow, mlflowSink, run } from 'charmory-track'
import { cli } from '../../lib/cli/cli.js'
import { captureLogger, fixedSource } from '../support/behaviour.js'
import { testIo } from '../support/local-cli.js'
import { right, tempDir, withVars } from '../support/local-store.js'
import { readRun } from '../support/mlflow-read.js'
import { mlflowExecutable, removeServerDir, startMlflowServer } from '../support/mlflow-server.js'

if (mlflowExecutable() === undefined) {
  const message = 'MLflow integration tests need Python 3: run `bash scripts/mlflow-venv.sh`'
  if (process.env['CI'] === 'true') t.fail(message)
  else t.comment(`SKIPPING: ${message}`)
  process.exit(0)
}

t.test('server killed mid-stream: the Left says where the run is; the sync it names completes it exactly', async (t) => {
  const home = tempDir(t)
  withVars(t, { ARMORY_HOME: home })
  withVars(t, { CHARMORY_TRACK_FALLBACK: undefined })
  const serverDir = tempDir(t, 'charmory-mlflow-')
  const first = await startMlflowServer({ dir: serverDir })
  t.teardown(() => first.stop())
  const config = Mlflow.configFromEnv({
    MLFLOW_TRACKING_URI: first.url,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1',
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1'
  })
  if (E.isLeft(config)) return t.fail(Errors.describeError(config.left))
  const sink = mlflowSink(config.right)
  const { logger, warnings } = captureLogger()

  let accepted = 0
  const result = await run(
    evaluate({ experiment: 'server dies', runName: 'streaming' }, async (r) => {
      await r.setTag('phase', 'eval')
      for (let step = 0; step < 11_000; step++) {
        if (step === 3_000) await first.stop()
        await r.logMetric('loss', step / 11_000, { step, timestamp: 1_000 + step })
        accepted++
      }
      return { accuracy: 1 }
    }),
    { sink, logger, source: () => fixedSource(O.none) }
  )

  const store = join(home, 'mlruns')
  t.ok(E.isLeft(result), 'the evaluation fails')
  const error = E.isLeft(result) ? result.left : undefined
  if (error?._tag !== 'Unsynced') return t.fail(`expected Unsynced, got ${JSON.stringify(error)}`)
  t.equal(error.store, store, 'it names the local store')
  t.equal(error.command, `npx charmory-track sync --to ${first.url}`, 'and the command that completes the run')
  t.match(Errors.describeError(error), `run ${error.runId} is kept in the local store ${store}`)
  t.match(Errors.describeError(error), `complete it there with \`npx charmory-track sync --to ${first.url}\``)
  t.ok(['NetworkError', 'HttpError'].includes(error.cause._tag), 'the server\'s failure is the cause')
  t.equal(warnings.filter((w) => w.includes(`run ${error.runId} is kept in the local store`)).length, 1, 'the run\'s loss is reported once (retries are reported too: one logger gets every warning)')
  t.ok(accepted >= 3_000, `logMetric accepted ${accepted} points`)

  const runs = right(await LocalStore.listRuns(store)())
  t.strictSame(runs.map((r) => [r.runId, r.status, r.synced]), [[error.runId, 'FAILED', false]])
  const journal = right(await LocalStore.loadRun(store, error.runId)())
  const points = journal.metricHistories['loss'] ?? []
  t.ok(points.length >= accepted, 'every accepted point is journaled')
  t.strictSame(points.map((p) => p.step), Array.from({ length: points.length }, (_, i) => i))

  const second = await startMlflowServer({ dir: serverDir, port: first.port })
  t.teardown(async () => {
    await second.stop()
    removeServerDir(second)
  })
  t.equal((await readRun(second.url, error.runId)).status, 'RUNNING', 'the server has the run as far as it got')

  // the command, as the Left gives it, from a shell where ARMORY_HOME is what the program had
  const argv = error.command.replace(/^npx charmory-track /, '').split(' ')
  const io = testIo(t, { ARMORY_HOME: home })
  t.equal(await cli(argv, io), 0, io.err())
  t.match(io.out(), /synced 1 of 1 run/)

  const onServer = await readRun(second.url, error.runId)
  t.equal(onServer.status, 'FAILED', 'the final status reached the server')
  t.equal(onServer.endTime, journal.endTime)
  t.equal(onServer.tags['charmory.error.type'], 'Unsynced')
  t.equal(onServer.tags['phase'], 'eval')
  t.strictSame(onServer.metrics['loss'], points, 'every point, exactly once')
  t.equal(right(await LocalStore.listRuns(store)())[0]?.synced, true)
})
