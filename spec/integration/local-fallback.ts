// The offline fallback against a real MLflow server: a server down when the run starts, and
// a server dying in the middle of a run. Both runs end whole in the local store, and whole on
// the server after a sync.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import * as O from 'fp-ts/lib/Option.js'
import { LocalStore, evaluate, mlflowSink, run, sinkFromEnv, syncStore } from 'charmory-track'
import { captureLogger, fixedSource } from '../support/behaviour.js'
import { right, tempDir } from '../support/local-store.js'
import { readRun, type RunView } from '../support/mlflow-read.js'
import { freePort, mlflowExecutable, removeServerDir, serverFor, startMlflowServer, type MlflowServer } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const available = (t: { fail: (m: string) => void; comment: (m: string) => void }): boolean => {
  if (mlflowExecutable() !== undefined) return true
  const message = 'MLflow integration tests need Python 3: run `bash scripts/mlflow-venv.sh`'
  if (process.env['CI'] === 'true') t.fail(message)
  else t.comment(`SKIPPING: ${message}`)
  return false
}

/** The environment of a program with the fallback on, pointed at `port`. */
const fallbackEnv = (port: number, home: string) => {
  const { logger, warnings } = captureLogger()
  const vars = {
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`,
    CHARMORY_TRACK_FALLBACK: 'local',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1',
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1'
  }
  return { env: { sink: sinkFromEnv(), vars, home, logger, source: () => fixedSource(O.none) }, warnings, store: `${home}/.armory/mlruns` }
}

/** The stored run as the server should show it, and the server's view restricted to compare. */
const same = async (t: Test, dir: string, stored: LocalStore.StoredRun, view: RunView): Promise<void> => {
  const artifacts: Record<string, Uint8Array> = {}
  for (const a of stored.artifacts) artifacts[a.path] = right(await LocalStore.readArtifact(dir, stored.runId, a.path)())
  t.strictSame(
    {
      status: view.status,
      startTime: view.startTime,
      endTime: view.endTime,
      params: view.params,
      metrics: view.metrics,
      tags: Object.fromEntries(Object.entries(view.tags).filter(([k]) => k in stored.tags)),
      artifacts: view.artifacts
    },
    {
      status: stored.status,
      startTime: stored.startTime,
      endTime: stored.endTime,
      params: stored.paramValues,
      metrics: stored.metricHistories,
      tags: stored.tags,
      artifacts
    }
  )
}

const stopLater = (t: Test, server: MlflowServer): void =>
  t.teardown(async () => {
    await server.stop()
    removeServerDir(server)
  })

t.test('server down at run start: the run ends whole in the local store, and on the server after sync', async (t) => {
  if (!available(t)) return
  const home = tempDir(t)
  const port = await freePort()
  const { env, warnings, store } = fallbackEnv(port, home)
  const done = right(
    await run(
      evaluate({ experiment: `offline ${randomUUID().slice(0, 8)}`, runName: 'down at start' }, async (r) => {
        for (let step = 0; step < 100; step++) await r.logMetric('loss', 1 / (step + 1), { step, timestamp: 1_000 + step })
        await r.logArtifact({ path: 'notes.txt', text: 'written offline' })
        return { accuracy: 0.5 }
      }),
      env
    )
  )
  t.equal(warnings.filter((w) => /cannot be reached/.test(w)).length, 1, 'a warning says the server cannot be reached')
  const stored = right(await LocalStore.loadRun(store, done.runId)())
  t.equal(stored.status, 'FINISHED')
  t.equal(stored.synced, false)
  t.equal(stored.metricHistories['loss']?.length, 100)

  // a server that is up by now: the tap run's shared one (this run has an experiment of its own there)
  const server = await serverFor(t)
  if (server === undefined) return
  const target = await built(mlflowSink(server.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())
  const report = right(await syncStore(store, target)())
  t.equal(report.runs.length, 1)
  await same(t, store, stored, await readRun(server.url, report.runs[0]!.remoteRunId!))
  t.ok(right(await LocalStore.listRuns(store)())[0]?.synced)
})

t.test('server dying mid-run: the evaluation finishes locally; sync completes the same server run', async (t) => {
  if (!available(t)) return
  const serverDir = tempDir(t, 'charmory-mlflow-')
  const first = await startMlflowServer({ dir: serverDir })
  t.teardown(() => first.stop())
  const home = tempDir(t)
  const { env, warnings, store } = fallbackEnv(first.port, home)
  let stopped: Promise<void> | undefined
  const done = right(
    await run(
      evaluate({ experiment: 'offline', runName: 'dies midway' }, async (r) => {
        await r.setTag('phase', 'train')
        for (let step = 0; step < 2_000; step++) {
          if (step === 1_000) {
            stopped = first.stop()
            await stopped
          }
          await r.logMetric('loss', step / 2_000, { step, timestamp: 1_000 + step })
        }
        await r.logArtifact({ path: 'late.txt', text: 'after the server died' })
        return { accuracy: 0.9 }
      }),
      env
    )
  )
  t.ok(stopped !== undefined)
  t.equal(warnings.filter((w) => /cannot be reached/.test(w)).length, 1)
  const stored = right(await LocalStore.loadRun(store, done.runId)())
  t.equal(stored.status, 'FINISHED', 'the evaluation did not fail')
  t.equal(stored.metricHistories['loss']?.length, 2_000, 'nothing is lost')
  t.equal(stored.synced, false)
  t.equal(stored.sync[0]?.remoteRunId, done.runId, 'the run keeps the server\'s id')

  const second = await startMlflowServer({ dir: serverDir, port: first.port })
  stopLater(t, second)
  const before = await readRun(second.url, done.runId)
  t.equal(before.status, 'RUNNING', 'the server has the run as far as it got')
  const target = await built(mlflowSink(second.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())
  const report = right(await syncStore(store, target)())
  t.strictSame(report.runs.map((r) => [r.runId, r.remoteRunId, r.error]), [[done.runId, done.runId, undefined]])
  await same(t, store, stored, await readRun(second.url, done.runId))
})
