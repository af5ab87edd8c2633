// syncStore against a real MLflow server: exact data through the REST API, idempotence, and
// a sync interrupted by the server's death that resumes without duplicates.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import { LocalStore, evaluate, fork, localSink, Mlflow, mlflowSink, reopen, run, syncStore, Track, trackParam } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { captureLogger, fixedSource } from '../support/behaviour.js'
import { right, tempDir, writeOldRun } from '../support/local-store.js'
import { readRun, type RunView } from '../support/mlflow-read.js'
import { mlflowExecutable, removeServerDir, serverFor, startMlflowServer } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

/** What the server should hold for a stored run (it keeps +-Infinity as +-MAX_VALUE). */
const expected = async (dir: string, stored: LocalStore.StoredRun, parentOnServer?: string) => {
  const artifacts: Record<string, Uint8Array> = {}
  for (const a of stored.artifacts) artifacts[a.path] = right(await LocalStore.readArtifact(dir, stored.runId, a.path)())
  const onServer = (v: number): number => (v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v)
  return {
    runName: stored.runName,
    status: stored.status,
    startTime: stored.startTime,
    endTime: stored.endTime,
    params: stored.paramValues,
    metrics: Object.fromEntries(
      Object.entries(stored.metricHistories).map(([k, points]) => [
        k,
        points.map((p) => ({ ...p, value: onServer(p.value) })).sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
      ])
    ),
    tags: parentOnServer === undefined ? stored.tags : { ...stored.tags, 'mlflow.parentRunId': parentOnServer },
    artifacts
  }
}

const actual = (view: RunView, expectedTags: Record<string, string>) => ({
  runName: view.runName,
  status: view.status,
  startTime: view.startTime,
  endTime: view.endTime,
  params: view.params,
  metrics: view.metrics,
  // the server adds tags of its own, all under mlflow.*
  tags: Object.fromEntries(Object.entries(view.tags).filter(([k]) => k in expectedTags || !k.startsWith('mlflow.'))),
  artifacts: view.artifacts
})

const program = pipe(
  trackParam('model', { name: 'resnet', lr: 1e-3, layers: [64, 64] }),
  Track.flatMap(() =>
    evaluate({ experiment: 'local sync', runName: 'parent', description: 'synced later' }, (r) =>
      pipe(
        Track.fromPromise(async () => {
          for (let step = 0; step < 50; step++) await r.logMetric('loss', 1 / (step + 1), { step, timestamp: 1_000 + step })
          await r.logMetric('odd', NaN, { step: 0, timestamp: 5 })
          await r.logMetric('odd', Infinity, { step: 1, timestamp: 5 })
          await r.logMetric('odd', -Infinity, { step: 2, timestamp: 5 })
          await r.setTag('phase', 'test')
          await r.logArtifact({ path: 'plots/roc.bin', bytes: new Uint8Array([0, 1, 2, 255]) })
          await r.logArtifact({ path: 'notes.txt', text: 'über' })
        }),
        Track.flatMap(() =>
          fork(
            pipe(
              evaluate({ experiment: 'local sync', runName: 'child' }, async (c) => {
                await c.logMetric('inner', 2, { timestamp: 1_100 })
                throw new Error('child failed')
              }),
              Track.map(() => undefined),
              Track.orElse(() => Track.of(undefined))
            ),
            { nested: true }
          )
        ),
        Track.map(() => ({ accuracy: 0.75 }))
      )
    )
  ),
  Track.tap(({ runId }) => reopen(runId, (r) => r.logMetric('after', 1, { timestamp: 9_000 })))
)

t.test('sync to a real server: exact data, parent links on server ids; a second sync sends nothing', async (t) => {
  const server = await serverFor(t)
  if (server === undefined) return
  const dir = tempDir(t)
  let now = 1_700_000_000_000
  const env = { clock: { now: () => (now += 3) }, source: () => fixedSource(O.none), logger: captureLogger().logger }
  const done = right(await run(program, { sink: openStore(dir), ...env }))
  const target = await built(mlflowSink(server.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())

  const report = right(await syncStore(dir, target)())
  t.equal(report.runs.length, 2)
  t.ok(report.runs.every((r) => r.error === undefined))
  const remoteOf = new Map(report.runs.map((r) => [r.runId, r.remoteRunId!]))
  const views = new Map<string, RunView>()
  for (const summary of right(await LocalStore.listRuns(dir)())) {
    t.ok(summary.synced, `${summary.runName} is marked synced`)
    const stored = right(await LocalStore.loadRun(dir, summary.runId)())
    const want = await expected(dir, stored, stored.parentRunId === undefined ? undefined : remoteOf.get(done.runId))
    const view = await readRun(server.url, remoteOf.get(summary.runId)!)
    views.set(summary.runId, view)
    t.strictSame(actual(view, want.tags), want, `run ${stored.runName} on the server`)
  }
  t.equal(views.get(done.runId)?.tags['mlflow.note.content'], 'synced later')

  const again = right(await syncStore(dir, target)())
  t.strictSame(again.runs, [], 'nothing is pending')
  for (const [localId, view] of views) {
    t.strictSame(await readRun(server.url, remoteOf.get(localId)!), view, 'and the server holds the same')
  }
})

t.test('a sync interrupted by the server dying resumes after a restart: exact data, no duplicates', async (t) => {
  if (mlflowExecutable() === undefined) {
    const message = 'MLflow integration tests need Python 3: run `bash scripts/mlflow-venv.sh`'
    if (process.env['CI'] === 'true') t.fail(message)
    else t.comment(`SKIPPING: ${message}`)
    return
  }
  const serverDir = tempDir(t, 'charmory-mlflow-')
  const first = await startMlflowServer({ dir: serverDir })
  t.teardown(() => first.stop())
  const dir = tempDir(t)
  const sink = openStore(dir)
  const points = 60_000
  const done = right(
    await run(
      evaluate({ experiment: 'interrupted', runName: 'big' }, async (r) => {
        await r.setTag('size', 'big')
        for (let step = 0; step < points; step++) await r.logMetric(`m${step % 3}`, step / 7, { step, timestamp: 2_000 + step })
        await r.logArtifact({ path: 'end.txt', text: 'the end' })
      }),
      { sink, source: () => fixedSource(O.none) }
    )
  )
  const stored = right(await LocalStore.loadRun(dir, done.runId)())
  const config = right(Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: first.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }))
  const dying = await built(mlflowSink(config), { logger: captureLogger().logger })
  let killing: Promise<void> | undefined
  const interrupted = await syncStore(dir, dying, {
    checkpointBytes: 64 * 1024,
    onProgress: (p) => {
      if (killing === undefined && p.bytesDone > p.bytes / 2) killing = first.stop()
    }
  })()
  await dying.close()
  await killing
  t.ok(killing !== undefined, 'the server was stopped midway')
  t.match(interrupted, { _tag: 'Left', left: { _tag: 'NetworkError' } }, 'the sync stops when the server is gone')
  const halfway = right(await LocalStore.loadRun(dir, done.runId)())
  t.ok(halfway.sync[0] !== undefined && halfway.sync[0].offset < halfway.journalBytes, 'progress was kept, not complete')

  const second = await startMlflowServer({ dir: serverDir, port: first.port })
  t.teardown(async () => {
    await second.stop()
    removeServerDir(second)
  })
  const target = await built(mlflowSink(second.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())
  const resumed = right(await syncStore(dir, target)())
  t.strictSame(resumed.runs.map((r) => [r.runId, r.remoteRunId, r.error]), [[done.runId, halfway.sync[0]?.remoteRunId, undefined]])
  const view = await readRun(second.url, halfway.sync[0]!.remoteRunId)
  const want = await expected(dir, stored)
  t.equal(view.metrics['m0']?.length, points / 3, 'every point once')
  t.strictSame(actual(view, want.tags), want, 'exactly the stored run')
  t.strictSame(right(await syncStore(dir, target)()).runs, [])
})

t.test('a run of an older store with an artifact the server would refuse: the server copy ends as the local run did', async (t) => {
  const server = await serverFor(t)
  if (server === undefined) return
  const dir = tempDir(t)
  const bad = '%2e%2e/x.txt'
  const runId = randomUUID().replace(/-/g, '')
  await writeOldRun(
    dir,
    `older store ${randomUUID()}`,
    runId,
    [
      { t: 'params', params: [['lr', '0.1']] },
      { t: 'metrics', m: [['loss', 0.5, 1500, 0]] },
      { t: 'artifact', path: 'fine.txt', size: 2 },
      { t: 'artifact', path: bad, size: 1 },
      { t: 'end', status: 'FAILED', endTime: 1700 }
    ],
    { 'fine.txt': new TextEncoder().encode('ok'), [bad]: new TextEncoder().encode('x') }
  )
  const target = await built(mlflowSink(server.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())
  const report = right(await syncStore(dir, target)())
  t.match(report.runs, [{ runId, params: 1, metrics: 1, artifacts: 1, error: { _tag: 'InvalidArtifactPath', path: bad } }])
  const view = await readRun(server.url, report.runs[0]?.remoteRunId ?? '')
  t.equal(view.status, 'FAILED', 'ended as the local run ended, not left RUNNING')
  t.equal(view.endTime, 1700)
  t.strictSame(view.params, { lr: '0.1' })
  t.strictSame(Object.keys(view.artifacts), ['fine.txt'])
})
