// A sync never feeds itself: a store synced into a sink that journals (or falls back) into that
// very store, against a real MLflow server. Each way a user reaches a server (an opened
// mlflowSink with its journal, withLocalJournal, sinkFromEnv in journal and fallback modes,
// withLocalFallback, `charmory-track sync`, `charmory-track server`'s sync at start) ends with
// one copy of each run on the server (read back through its REST API), journals that did not
// grow and one sync target per server; and the outage story: a journaled run, the server
// killed mid-run, restarted on its store, the run synced back through the journaling sink.
import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Errors, LocalStore, Sink, evaluate, localSink, Mlflow, mlflowSink, openSink, run, sinkFromEnv, syncStore, withLocalFallback, withLocalJournal } from 'charmory-track'
import { cli } from '../../lib/cli/cli.js'
import { serve } from '../../lib/cli/server.js'
import { openStore } from '../support/local-store.js'
import * as Layout from '../../lib/local/Layout.js'
import { captureLogger, fixedSource } from '../support/behaviour.js'
import { testIo } from '../support/local-cli.js'
import { right, tempDir } from '../support/local-store.js'
import { readRun } from '../support/mlflow-read.js'
import { freePort, mlflowExecutable, removeServerDir, serverFor, startMlflowServer } from '../support/mlflow-server.js'

const quiet = captureLogger().logger

/** `task`'s result, or a failure after `ms`: a sync that feeds itself never ends. */
const within = async <A>(task: TE.TaskEither<Errors.TrackError, A>, ms = 120_000): Promise<E.Either<Errors.TrackError, A>> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`not done after ${ms} ms`)), ms)))
  try {
    return await Promise.race([task(), late])
  } finally {
    clearTimeout(timer)
  }
}

/** Each run of the store with the size of its journal. */
const journals = (dir: string): Record<string, number> =>
  existsSync(join(dir, 'runs')) ? Object.fromEntries(readdirSync(join(dir, 'runs')).map((id) => [id, statSync(Layout.journalPath(dir, id)).size])) : {}

/**
 * A run streamed through `sink` (journaled in `store` under the server's run id), with points
 * and a later end added to it in the store alone since, and a run of the store alone: both
 * are for a sync to complete.
 */
const unsynced = async (sink: Sink.Sink, store: string, experiment: string): Promise<{ streamed: string; alone: string }> => {
  let now = 1_700_000_000_000
  const done = right(
    await run(
      evaluate({ experiment, runName: 'streamed', resultsArtifact: false }, async (r) => {
        await r.setTag('phase', 'eval')
        for (let step = 0; step < 2_000; step++) await r.logMetric('loss', 1 / (step + 1), { step, timestamp: 1_000 + step })
      }),
      { sink, logger: quiet, clock: { now: () => (now += 1) }, source: () => fixedSource(O.none) }
    )
  )
  const local = openStore(store)
  const more = right(await local.reopenRun(done.runId)())
  right(await more.logMetrics(Array.from({ length: 500 }, (_, i) => ({ key: 'loss', value: -i, step: 2_000 + i, timestamp: 5_000 + i })))())
  right(await more.end('FINISHED', now + 1_000)())
  const experimentId = right(await local.experiment(experiment)())
  const alone = right(await local.openRun({ experimentId, runName: 'alone', startTime: now + 2_000, tags: [['mlflow.runName', 'alone']] })())
  right(await alone.logParams([['seed', '7']])())
  right(await alone.logMetrics([{ key: 'acc', value: 0.5, step: 0, timestamp: now + 2_001 }])())
  right(await alone.end('FINISHED', now + 2_002)())
  await local.close()
  return { streamed: done.runId, alone: alone.runId }
}

/**
 * What a sync of `store` must have left: every run on the server at `url` once (every point
 * once, its status and end time), no journal grown, no run added, one target for the server.
 */
const oneCopyEach = async (t: Test, store: string, url: string, before: Record<string, number>): Promise<void> => {
  t.strictSame(journals(store), before, 'no journal grew and no run was added to the store')
  for (const summary of right(await LocalStore.listRuns(store)())) {
    const stored = right(await LocalStore.loadRun(store, summary.runId)())
    const state = stored.sync.find((s) => s.target === `mlflow:${url}`)
    t.equal(state?.offset, stored.journalBytes, `${stored.runName}: the server confirmed all of it`)
    t.strictSame(stored.sync.map((s) => s.target), [`mlflow:${url}`], `${stored.runName}: one target for the server`)
    const view = await readRun(url, state?.remoteRunId ?? '')
    t.match(view, { runName: stored.runName, status: stored.status, endTime: stored.endTime, params: stored.paramValues }, `${stored.runName} on the server`)
    const sorted = Object.fromEntries(
      Object.entries(stored.metricHistories).map(([k, points]) => [k, [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)])
    )
    t.strictSame(view.metrics, sorted, `${stored.runName}: every point once`)
  }
}

// -------------------------------------------------------------------------------------
// every sink kind, on one server
// -------------------------------------------------------------------------------------

t.test('a store synced into the sink that journals into it: one copy on the server, nothing journaled again', async (t) => {
  const server = await serverFor(t)
  if (server === undefined) return
  const url = server.url
  type Kind = { readonly name: string; readonly sink: (store: string) => Sink.SinkDescription; readonly vars?: Record<string, string> }
  const kinds: ReadonlyArray<Kind> = [
    { name: 'an opened mlflowSink, its journal in the default store', sink: () => mlflowSink(url) },
    { name: 'an mlflowSink journaled in a store of its own', sink: (store) => mlflowSink(url, { journal: { dir: store } }) },
    { name: 'withLocalJournal', sink: (store) => withLocalJournal(mlflowSink(url, { journal: false }), localSink({ dir: store })) },
    { name: 'withLocalFallback', sink: (store) => withLocalFallback(mlflowSink(url, { journal: false }), localSink({ dir: store })) },
    { name: 'sinkFromEnv, journal mode', sink: () => sinkFromEnv(), vars: { MLFLOW_TRACKING_URI: url } },
    { name: 'sinkFromEnv, CHARMORY_TRACK_FALLBACK=local', sink: () => sinkFromEnv(), vars: { MLFLOW_TRACKING_URI: url, CHARMORY_TRACK_FALLBACK: 'local' } }
  ]
  for (const kind of kinds) {
    t.test(kind.name, async (t) => {
      const home = tempDir(t)
      const store = join(home, 'mlruns')
      const sink = right(await openSink(kind.sink(store), { vars: { ARMORY_HOME: home, ...kind.vars }, home, logger: quiet }))
      t.teardown(() => sink.close())
      t.equal(Sink.unmirrored(sink).name, `mlflow:${url}`, 'the sink says which server it journals for')
      const { streamed } = await unsynced(sink, store, `sync-self ${randomUUID()}`)
      const before = journals(store)

      const report = right(await within(syncStore(store, sink)))
      t.equal(report.target, `mlflow:${url}`)
      t.strictSame(report.runs.map((r) => r.error), [undefined, undefined], 'both runs are synced')
      t.equal(report.runs.find((r) => r.runId === streamed)?.remoteRunId, streamed, 'the journaled run is completed in place')
      t.equal(report.runs.find((r) => r.runId === streamed)?.metrics, 500, 'with what the server lacked')
      await oneCopyEach(t, store, url, before)
      t.strictSame(right(await syncStore(store, sink)()).runs, [], 'a second sync sends nothing')
    })
  }
})

t.test('charmory-track sync, and server\'s sync at start, on a store journaled by the default mlflowSink', async (t) => {
  const server = await serverFor(t)
  if (server === undefined) return
  const url = server.url
  const home = tempDir(t)
  const store = join(home, 'mlruns')
  const sink = right(await openSink(mlflowSink(url), { vars: { ARMORY_HOME: home }, home, logger: quiet }))
  await unsynced(sink, store, `sync-self cli ${randomUUID()}`)
  await sink.close()
  const before = journals(store)

  const io = testIo(t, { ARMORY_HOME: home })
  t.equal(await cli(['sync', '--to', url], io), 0, io.err())
  t.match(io.out(), /^synced 2 of 2 runs to /)
  await oneCopyEach(t, store, url, before)

  // `charmory-track server` starts a server of its own over $ARMORY_HOME and syncs into it
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) return
  const port = await freePort()
  const own = `http://127.0.0.1:${port}`
  const cmd = testIo(t, { ARMORY_HOME: home, PATH: `${dirname(mlflow)}:${process.env['PATH'] ?? ''}` })
  const serving = serve(['--port', String(port), '--workers', '1'], cmd, { startMs: 120_000, stopMs: 10_000, pollMs: 250 })
  t.teardown(async () => {
    cmd.stop()
    await serving
  })
  const ended = serving.then(() => true)
  const deadline = Date.now() + 180_000
  while (!cmd.out().includes('MLflow is serving') && Date.now() < deadline) {
    if (await Promise.race([ended, new Promise<false>((ok) => setTimeout(() => ok(false), 250))])) break
  }
  if (!t.match(cmd.out(), /^synced 2 of 2 runs to .*\nMLflow is serving at /, 'the command synced, then served')) t.comment(cmd.err().slice(-4000))
  t.strictSame(journals(store), before, 'no journal grew')
  for (const summary of right(await LocalStore.listRuns(store)())) {
    const stored = right(await LocalStore.loadRun(store, summary.runId)())
    t.strictSame(stored.sync.map((s) => s.target), [`mlflow:${url}`, `mlflow:${own}`], `${stored.runName}: one target per server`)
    const view = await readRun(own, stored.sync[1]?.remoteRunId ?? '')
    t.equal(view.status, 'FINISHED')
    t.equal(
      Object.values(view.metrics).reduce((n, points) => n + points.length, 0),
      Object.values(stored.metricHistories).reduce((n, points) => n + points.length, 0),
      `${stored.runName}: every point once on the command's server`
    )
  }
  cmd.stop()
  t.equal(await serving, 0)
})

// -------------------------------------------------------------------------------------
// the outage story
// -------------------------------------------------------------------------------------

t.test('a journaled run whose server is killed mid-run, synced back through the journaling sink once it is restarted', async (t) => {
  if (mlflowExecutable() === undefined) return t.comment('SKIPPING: MLflow integration tests need Python 3')
  const home = tempDir(t)
  const store = join(home, 'mlruns')
  const serverDir = tempDir(t, 'charmory-mlflow-')
  const first = await startMlflowServer({ dir: serverDir })
  t.teardown(() => first.stop())
  const vars = { ARMORY_HOME: home, MLFLOW_TRACKING_URI: first.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1' }
  const config = right(Mlflow.configFromEnv(vars))
  let killed: Promise<void> | undefined
  let accepted = 0
  const result = await run(
    evaluate({ experiment: 'outage', runName: 'killed' }, async (r) => {
      for (let step = 0; step < 10_000; step++) {
        if (step === 3_000) killed = first.kill!()
        await r.logMetric('loss', step / 10_000, { step, timestamp: 1_000 + step })
        accepted++
      }
    }),
    { sink: mlflowSink(config), vars, home, logger: quiet, source: () => fixedSource(O.none) }
  )
  await killed
  if (E.isRight(result) || result.left._tag !== 'Unsynced') return t.fail(`expected Unsynced, got ${E.isLeft(result) ? Errors.describeError(result.left) : 'success'}`)
  const { runId } = result.left
  const journaled = right(await LocalStore.loadRun(store, runId)())
  const points = journaled.metricHistories['loss'] ?? []
  t.ok(accepted > 3_000 && points.length >= accepted, `the journal has every point accepted (${accepted})`)

  const second = await startMlflowServer({ dir: serverDir, port: first.port })
  t.teardown(async () => {
    await second.stop()
    removeServerDir(second)
  })
  const sink = right(await openSink(mlflowSink(second.url), { vars: { ARMORY_HOME: home }, home, logger: quiet }))
  t.teardown(() => sink.close())
  const before = journals(store)
  const report = right(await within(syncStore(store, sink)))
  t.match(report.runs, [{ runId, remoteRunId: runId, error: undefined }], 'the run is completed in place')
  t.strictSame(journals(store), before, 'the journal did not grow')
  const stored = right(await LocalStore.loadRun(store, runId)())
  t.strictSame(stored.sync.map((s) => s.target), [`mlflow:${second.url}`], 'one target for the server')
  const view = await readRun(second.url, runId)
  t.equal(view.status, stored.status, `ended ${stored.status} as in the journal`)
  t.equal(view.endTime, stored.endTime)
  t.strictSame(view.metrics['loss'], stored.metricHistories['loss'], 'every point once')
  t.strictSame(right(await syncStore(store, sink)()).runs, [])
})
