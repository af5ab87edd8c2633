import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Errors, LocalStore, Sink, evaluate, localSink, memorySink, type MemorySink, openSink, reopen, run, syncStore, withLocalFallback, withLocalJournal } from 'charmory-track'
import { isUnreachable, syncCommandFor } from '../../lib/local/Fallback.js'
import { fallbackOver, journalOver } from '../../lib/local/Fallback.js'
import * as Layout from '../../lib/local/Layout.js'
import { openStore } from '../support/local-store.js'
import { captureLogger } from '../support/behaviour.js'
import { left, right, tempDir } from '../support/local-store.js'

const down = Errors.networkError('connect ECONNREFUSED 127.0.0.1:5999', 'experiments/get-by-name')

/** A memory sink standing in for a server that can be taken down (every call then fails). */
const server = () => {
  const inner: MemorySink = memorySink()
  let failure: Errors.TrackError | undefined
  let calls = 0
  const gate =
    <A>(te: TE.TaskEither<Errors.TrackError, A>): TE.TaskEither<Errors.TrackError, A> =>
    () => {
      calls++
      return failure === undefined ? te() : Promise.resolve(E.left(failure))
    }
  const wrap = (rs: Sink.RunSink): Sink.RunSink => ({
    runId: rs.runId,
    experimentId: rs.experimentId,
    logParams: (p) => gate(rs.logParams(p)),
    logMetrics: (m) => gate(rs.logMetrics(m)),
    setTags: (tags) => gate(rs.setTags(tags)),
    logArtifact: (path, bytes) => gate(rs.logArtifact(path, bytes)),
    flush: () => gate(rs.flush()),
    end: (status, endTime) => gate(rs.end(status, endTime))
  })
  const sink: Sink.Sink = {
    name: 'mlflow:http://127.0.0.1:5999',
    experiment: (name) => gate(inner.experiment(name)),
    openRun: (request) => TE.map(wrap)(gate(inner.openRun(request))),
    reopenRun: (runId) => TE.map(wrap)(gate(inner.reopenRun(runId)))
  }
  return { sink, inner, fail: (e: Errors.TrackError | undefined) => void (failure = e), calls: () => calls }
}

const setup = (t: { teardown: (f: () => void) => void }) => {
  const dir = tempDir(t)
  const remote = server()
  const local = openStore(dir)
  const { logger, warnings } = captureLogger()
  const sink = fallbackOver(remote.sink, local, { logger })
  return { dir, remote, local, sink, warnings }
}

const evaluation = (experiment: string, onStep?: (step: number) => void) =>
  evaluate({ experiment, runName: 'eval' }, async (r) => {
    await r.setTag('phase', 'train')
    for (let step = 0; step < 10; step++) {
      onStep?.(step)
      await r.logMetric('loss', 1 / (step + 1), { step, timestamp: 1000 + step })
    }
    await r.logArtifact({ path: 'notes.txt', text: 'done' })
    return { accuracy: 0.5 }
  })

t.test('which failures mean the server cannot be reached', async (t) => {
  t.ok(isUnreachable(down))
  t.ok(isUnreachable(Errors.httpError(503, 'TEMPORARILY_UNAVAILABLE', '', 'x')))
  t.ok(isUnreachable(Errors.httpError(500, 'INTERNAL_ERROR', '', 'x')))
  t.ok(isUnreachable(Errors.httpError(429, 'REQUEST_LIMIT_EXCEEDED', '', 'x')))
  t.notOk(isUnreachable(Errors.httpError(401, 'UNAUTHENTICATED', '', 'x')))
  t.notOk(isUnreachable(Errors.httpError(400, 'INVALID_PARAMETER_VALUE', '', 'x')))
  t.notOk(isUnreachable(Errors.notFound('run', 'x')))
})

t.test('with the server up, every run is on both sides under one id, and synced', async (t) => {
  const { dir, remote, sink, warnings } = setup(t)
  t.equal(sink.name, `mlflow:http://127.0.0.1:5999 (falling back to local:${dir})`)
  const done = right(await run(evaluation('up'), { sink }))
  const onServer = remote.inner.snapshot()
  t.equal(onServer.runs[0]?.runId, done.runId, 'the run id is the server\'s')
  t.equal(onServer.experiments[0]?.experimentId, done.experimentId, 'and so is the experiment id')
  const stored = right(await LocalStore.loadRun(dir, done.runId)())
  t.strictSame(stored.metricHistories, onServer.runs[0]?.metrics)
  t.strictSame(stored.paramValues, onServer.runs[0]?.params)
  t.strictSame(stored.tags, onServer.runs[0]?.tags)
  t.equal(stored.status, 'FINISHED')
  t.ok(stored.synced, 'the local run is marked synced')
  t.strictSame(right(await syncStore(dir, remote.sink)()).runs, [], 'so a sync sends nothing')
  t.strictSame(warnings, [])

  right(await run(reopen(done.runId, (r) => r.logMetric('custom', 42, { timestamp: 7 })), { sink }))
  t.strictSame(remote.inner.snapshot().runs[0]?.metrics['custom'], [{ value: 42, step: 0, timestamp: 7 }])
  t.ok(right(await LocalStore.loadRun(dir, done.runId)()).synced, 'a reopened run that the server confirmed stays synced')

  const quiet = fallbackOver(remote.sink, openStore(dir), { logger: captureLogger().logger })
  t.ok(right(await LocalStore.loadRun(dir, right(await run(evaluation('up'), { sink: quiet })).runId)()).synced, 'no warning while the server takes the run')
})

t.test('server down at the start: the run goes on locally, unsynced, and sync pushes it later', async (t) => {
  const { dir, remote, sink, warnings } = setup(t)
  remote.fail(down)
  const done = right(await run(evaluation('down at start'), { sink }))
  t.equal(warnings.length, 1)
  t.match(warnings[0], /mlflow:http:\/\/127\.0\.0\.1:5999 cannot be reached .*ECONNREFUSED.*charmory-track sync/)
  t.strictSame(remote.inner.snapshot().runs, [])
  const stored = right(await LocalStore.loadRun(dir, done.runId)())
  t.equal(stored.status, 'FINISHED')
  t.equal(stored.synced, false)
  t.strictSame(stored.sync, [], 'no run was created on the server')

  const callsBefore = remote.calls()
  right(await run(evaluation('down at start'), { sink }))
  t.equal(remote.calls(), callsBefore, 'once down, the sink stays local: no more waiting on the server')
  t.equal(warnings.length, 1, 'and warns once')

  remote.fail(undefined)
  const report = right(await syncStore(dir, remote.sink)())
  t.equal(report.runs.length, 2)
  const pushed = remote.inner.snapshot().runs.find((r) => r.runId === report.runs.find((x) => x.runId === done.runId)?.remoteRunId)
  t.strictSame(pushed?.metrics, stored.metricHistories)
  t.equal(pushed?.status, 'FINISHED')
})

t.test('server refusing runs as unreachable (503) at run creation: the run goes on locally', async (t) => {
  const { dir, remote, local, sink, warnings } = setup(t)
  const experimentId = right(await sink.experiment('e')())
  remote.fail(Errors.httpError(503, 'TEMPORARILY_UNAVAILABLE', 'busy', 'runs/create'))
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  right(await r.end('FINISHED', 2)())
  t.equal(warnings.length, 1)
  t.equal(right(await LocalStore.loadRun(dir, r.runId)()).status, 'FINISHED')
  t.equal(r.experimentId, right(await local.experiment('e')()), 'the local experiment id')
})

t.test('server dying mid-run: the run finishes locally and sync completes it in the same server run', async (t) => {
  const { dir, remote, sink, warnings } = setup(t)
  const experimentId = right(await sink.experiment('dies')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [['mlflow.runName', 'r']] })())
  right(await r.logParams([['lr', '0.1']])())
  for (let step = 0; step < 5; step++) right(await r.logMetrics([{ key: 'm', value: step, step, timestamp: step }])())
  right(await r.flush()())
  remote.fail(down)
  for (let step = 5; step < 10; step++) right(await r.logMetrics([{ key: 'm', value: step, step, timestamp: step }])())
  right(await r.logArtifact('late.txt', new TextEncoder().encode('late'))())
  right(await r.end('FINISHED', 50)())
  t.equal(warnings.length, 1)

  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.equal(stored.synced, false)
  t.equal(stored.sync[0]?.remoteRunId, r.runId, 'the server run is remembered')
  t.equal(stored.metricHistories['m']?.length, 10, 'nothing is lost')
  t.equal(remote.inner.snapshot().runs[0]?.status, 'RUNNING', 'the server has the run as far as it got')

  remote.fail(undefined)
  const report = right(await syncStore(dir, remote.sink)())
  t.strictSame(report.runs.map((x) => [x.runId, x.remoteRunId, x.metrics]), [[r.runId, r.runId, 5]])
  const onServer = remote.inner.snapshot().runs
  t.equal(onServer.length, 1)
  t.strictSame(onServer[0]?.metrics['m'], stored.metricHistories['m'], 'every point once')
  t.equal(onServer[0]?.status, 'FINISHED')
  t.equal(onServer[0]?.endTime, 50)
  t.strictSame(onServer[0]?.artifacts['late.txt'], new TextEncoder().encode('late'))
})

t.test('two runs losing the server at once warn once; both finish locally', async (t) => {
  const { dir, remote, sink, warnings } = setup(t)
  const experimentId = right(await sink.experiment('two')())
  const a = right(await sink.openRun({ experimentId, runName: 'a', startTime: 1, tags: [] })())
  const b = right(await sink.openRun({ experimentId, runName: 'b', startTime: 1, tags: [] })())
  remote.fail(down)
  const point = [{ key: 'm', value: 1, step: 0, timestamp: 1 }]
  await Promise.all([a.logMetrics(point)(), b.logMetrics(point)()])
  right(await a.end('FINISHED', 2)())
  right(await b.end('FINISHED', 2)())
  t.equal(warnings.length, 1)
  t.strictSame(
    right(await LocalStore.listRuns(dir)()).map((x) => [x.status, x.metrics, x.synced]),
    [
      ['FINISHED', 1, false],
      ['FINISHED', 1, false]
    ]
  )
})

t.test('a server that answers with a refusal is an error, as without the fallback', async (t) => {
  const { remote, sink, warnings } = setup(t)
  remote.fail(Errors.httpError(401, 'UNAUTHENTICATED', 'credentials required', 'experiments/get-by-name'))
  t.match(left(await sink.experiment('e')()), { _tag: 'HttpError', status: 401 })
  remote.fail(undefined)
  const experimentId = right(await sink.experiment('e')())
  remote.fail(Errors.httpError(400, 'INVALID_PARAMETER_VALUE', 'no', 'runs/create'))
  t.match(left(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })()), { status: 400 })
  remote.fail(undefined)
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  remote.fail(Errors.httpError(400, 'INVALID_PARAMETER_VALUE', 'no', 'runs/log-batch'))
  t.match(left(await r.logParams([['a', '1']])()), { status: 400 })
  t.match(left(await r.logParams([['bad//key', '1']])()), { _tag: 'InvalidKey' }, 'the local store refuses first')
  t.strictSame(warnings, [])
  t.match(left(await sink.openRun({ experimentId: 'unknown', runName: 'r', startTime: 1, tags: [] })()), {
    _tag: 'NotFound',
    what: 'experiment'
  })
})

t.test('when the local store fails after the server created the run, that run is ended FAILED', async (t) => {
  const { dir, remote, sink } = setup(t)
  const experimentId = right(await sink.experiment('e')())
  rmSync(join(dir, 'runs'), { recursive: true })
  writeFileSync(join(dir, 'runs'), 'in the way')
  t.match(left(await sink.openRun({ experimentId, runName: 'r', startTime: 5, tags: [] })()), { _tag: 'FileError' })
  t.match(remote.inner.snapshot().runs, [{ status: 'FAILED', endTime: 5 }])
})

t.test('reopening: by the store when it has the run, mirrored only when the server has all of it', async (t) => {
  const { dir, remote, local, sink, warnings } = setup(t)
  const onlyRemote = right(await run(evaluation('remote only'), { sink: remote.sink }))
  right(await run(reopen(onlyRemote.runId, (r) => r.logMetric('late', 1)), { sink }))
  t.equal(remote.inner.snapshot().runs[0]?.metrics['late']?.length, 1, 'a run the store lacks is the server\'s')

  const synced = right(await run(evaluation('both'), { sink }))
  remote.fail(down)
  right(await run(reopen(synced.runId, (r) => r.logMetric('while down', 1)), { sink }))
  t.equal(warnings.length, 1, 'a server down at reopening: the run goes on locally')
  t.equal(right(await LocalStore.loadRun(dir, synced.runId)()).synced, false)
  right(await run(reopen(synced.runId, (r) => r.logMetric('still down', 1)), { sink }))

  remote.fail(undefined)
  const fresh = fallbackOver(remote.sink, local, { logger: captureLogger().logger })
  right(await run(reopen(synced.runId, (r) => r.logMetric('partly synced', 1)), { sink: fresh }))
  const onServer = remote.inner.snapshot().runs.find((r) => r.runId === synced.runId)
  t.notOk(onServer !== undefined && 'partly synced' in onServer.metrics, 'a partly synced run is not mirrored')
  right(await syncStore(dir, remote.sink)())
  t.strictSame(
    Object.keys(remote.inner.snapshot().runs.find((r) => r.runId === synced.runId)?.metrics ?? {}).sort(),
    ['accuracy', 'loss', 'partly synced', 'still down', 'while down']
  )

  const offline = right(await run(evaluation('local only'), { sink: fallbackOver(failing(down), local, { logger: captureLogger().logger }) }))
  right(await run(reopen(offline.runId, (r) => r.logMetric('more', 1)), { sink: fresh }))
  t.equal(right(await LocalStore.loadRun(dir, offline.runId)()).synced, false, 'a run never synced is reopened locally')

  right(await syncStore(dir, remote.sink)())
  remote.fail(Errors.httpError(404, 'RESOURCE_DOES_NOT_EXIST', 'deleted', 'runs/get'))
  t.match(left(await fresh.reopenRun(synced.runId)()), { _tag: 'HttpError', status: 404 })

  appendFileSync(Layout.journalPath(dir, offline.runId), 'garbage\n')
  right(await fresh.reopenRun(offline.runId)())
  // a bad line is skipped; a journal whose start record cannot be read cannot be reopened
  writeFileSync(Layout.journalPath(dir, offline.runId), `garbage\n${readFileSync(Layout.journalPath(dir, offline.runId), 'utf8')}`)
  t.match(left(await fresh.reopenRun(offline.runId)()), { _tag: 'DecodeError' })
})

/** A server that is never there. */
const failing = (e: Errors.TrackError): Sink.Sink => ({
  name: 'mlflow:http://127.0.0.1:5999',
  experiment: () => TE.left(e),
  openRun: () => TE.left(e),
  reopenRun: () => TE.left(e)
})

t.test('dataset inputs go to both sides; a server sink without them is an Unsupported error', async (t) => {
  const dir = tempDir(t)
  const remote = memorySink()
  const sink = fallbackOver(remote, openStore(dir), { logger: captureLogger().logger })
  const ds = { name: 'd', digest: 'abc', sourceType: 'local', source: '/d' }
  const done = right(await run(evaluate({ experiment: 'inputs' }, (r) => r.logInput(ds)), { sink }))
  t.equal(remote.snapshot().runs[0]?.inputs[0]?.name, 'd')
  t.equal(right(await LocalStore.loadRun(dir, done.runId)()).inputs[0]?.name, 'd')
  const { sink: bare } = setup(t)
  const failed = await run(evaluate({ experiment: 'inputs' }, (r) => r.logInput(ds)), { sink: bare })
  t.match(failed, { left: { _tag: 'Unsupported', what: 'dataset inputs', where: 'mlflow:http://127.0.0.1:5999' } })
})

// -------------------------------------------------------------------------------------
// the journal (withLocalJournal)
// -------------------------------------------------------------------------------------

const journaled = (t: { teardown: (f: () => void) => void }) => {
  const dir = tempDir(t)
  const remote = server()
  const local = openStore(dir)
  const { logger, warnings } = captureLogger()
  const sink = journalOver(remote.sink, local, { logger })
  return { dir, remote, local, sink, warnings }
}

t.test('journaled, with the server up: every run on both sides under one id, and synced', async (t) => {
  const { dir, remote, sink, warnings } = journaled(t)
  t.equal(sink.name, `mlflow:http://127.0.0.1:5999 (journaled in local:${dir})`)
  const done = right(await run(evaluation('up'), { sink }))
  const onServer = remote.inner.snapshot().runs
  t.equal(onServer[0]?.runId, done.runId)
  const stored = right(await LocalStore.loadRun(dir, done.runId)())
  t.strictSame(stored.metricHistories, onServer[0]?.metrics)
  t.equal(stored.status, 'FINISHED')
  t.ok(stored.synced)
  t.strictSame(warnings, [])
})

t.test('journaled, with the server down before a run opens: the error as without the journal, no run anywhere', async (t) => {
  const { dir, remote, sink, warnings } = journaled(t)
  remote.fail(down)
  t.strictSame(left(await run(evaluation('down'), { sink })), down)
  remote.fail(undefined)
  const experimentId = right(await sink.experiment('down')())
  remote.fail(down)
  t.strictSame(left(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })()), down)
  t.strictSame(right(await LocalStore.listRuns(dir)()), [])
  t.strictSame(warnings, [])
})

t.test('journaled, with the server dying mid-run: the Left says where the run is kept; sync completes it', async (t) => {
  const { dir, remote, sink, warnings } = journaled(t)
  const result = await run(
    evaluation('dies', (step) => step === 6 && remote.fail(down)),
    { sink }
  )
  const error = left(result)
  if (error._tag !== 'Unsynced') return t.fail(`expected Unsynced, got ${error._tag}`)
  t.strictSame(error.cause, down)
  t.equal(error.store, dir)
  t.equal(error.target, 'http://127.0.0.1:5999')
  t.equal(error.command, syncCommandFor(dir, 'mlflow:http://127.0.0.1:5999'))
  t.match(error.command, /^MLFLOW_TRACKING_URI=\S+ npx charmory-track sync --to http:\/\/127\.0\.0\.1:5999$/)
  t.equal(warnings.length, 1, 'one warning, when the server is lost')
  t.match(warnings[0], `run ${error.runId} is kept in the local store ${dir}`)

  const stored = right(await LocalStore.loadRun(dir, error.runId)())
  t.equal(stored.status, 'FAILED', 'the journal has the run to its end')
  t.equal(stored.tags['charmory.error.type'], 'Unsynced')
  t.strictSame(stored.metricHistories['loss']?.map((p) => p.step), [0, 1, 2, 3, 4, 5, 6], 'every point the task logged, the one refused included')
  t.equal(remote.inner.snapshot().runs[0]?.status, 'RUNNING')

  remote.fail(undefined)
  right(await syncStore(dir, remote.sink)())
  const onServer = remote.inner.snapshot().runs
  t.equal(onServer.length, 1, 'into the run the server already had')
  // the memory stand-in keeps a re-sent point twice; MLflow stores it once (the integration spec)
  const once = [...new Map((onServer[0]?.metrics['loss'] ?? []).map((p) => [JSON.stringify(p), p])).values()]
  t.strictSame(once, stored.metricHistories['loss'])
  t.equal(onServer[0]?.status, 'FAILED')
  t.equal(onServer[0]?.endTime, stored.endTime)
})

t.test('journaled, once the server is lost: each operation is journaled and fails, ending FAILED or KILLED does not', async (t) => {
  const { dir, remote, sink } = journaled(t)
  const experimentId = right(await sink.experiment('lost')())
  const point = (step: number) => [{ key: 'm', value: step, step, timestamp: step }]
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logMetrics(point(0))())
  remote.fail(down)
  t.match(left(await r.logMetrics(point(1))()), { _tag: 'Unsynced', cause: down })
  t.match(left(await r.logMetrics(point(2))()), { _tag: 'Unsynced' })
  t.match(left(await r.end('FINISHED', 5)()), { _tag: 'Unsynced' })
  right(await r.end('FAILED', 6)())
  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.match(stored, { status: 'FAILED', endTime: 6 })
  t.equal(stored.metricHistories['m']?.length, 3)

  const k = right(await sink.openRun({ experimentId: right(await (async () => (remote.fail(undefined), sink.experiment('lost')()))()), runName: 'k', startTime: 1, tags: [] })())
  remote.fail(down)
  t.match(left(await k.flush()()), { _tag: 'Unsynced' })
  right(await k.end('KILLED', 7)())
  t.match(right(await LocalStore.loadRun(dir, k.runId)()), { status: 'KILLED', endTime: 7 })
})

t.test('ending KILLED ends the journal at once, then the server run, and leaves the run to a sync', async (t) => {
  const { dir, remote, sink } = journaled(t)
  const experimentId = right(await sink.experiment('killed')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  right(await r.end('KILLED', 9)())
  t.match(right(await LocalStore.loadRun(dir, r.runId)()), { status: 'KILLED', endTime: 9, synced: false })
  t.match(remote.inner.snapshot().runs[0], { status: 'KILLED', endTime: 9, metrics: { m: [{ value: 1 }] } })
  t.match(left(await r.logMetrics([{ key: 'm', value: 2, step: 1, timestamp: 2 }])()), { _tag: 'RunEnded', runId: r.runId }, 'a killed run takes nothing more')
  t.match(left(await r.end('FAILED', 10)()), { _tag: 'RunEnded' })
  t.equal(right(await LocalStore.loadRun(dir, r.runId)()).metricHistories['m']?.length, 1)

  const fallback = setup(t)
  const fid = right(await fallback.sink.experiment('killed')())
  const f = right(await fallback.sink.openRun({ experimentId: fid, runName: 'f', startTime: 1, tags: [] })())
  fallback.remote.fail(down)
  right(await f.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  right(await f.end('KILLED', 3)())
  t.match(right(await LocalStore.loadRun(fallback.dir, f.runId)()), { status: 'KILLED', endTime: 3 })

  const g = right(await sink.openRun({ experimentId, runName: 'g', startTime: 1, tags: [] })())
  rmSync(Layout.runDir(dir, g.runId), { recursive: true })
  writeFileSync(Layout.runDir(dir, g.runId), 'in the way')
  t.match(left(await g.end('KILLED', 4)()), { _tag: 'FileError' }, 'a journal that cannot be ended is an error')
  t.equal(remote.inner.snapshot().runs.find((x) => x.runId === g.runId)?.status, 'RUNNING')
})

t.test('syncCommandFor: the command that pushes a store to a server, without credentials', async (t) => {
  t.equal(syncCommandFor('/s', 'mlflow:http://h:5000', '/s'), 'npx charmory-track sync --to http://h:5000')
  t.equal(
    syncCommandFor("/my runs/it's", 'mlflow:https://user:secret@h/prefix/', '/s'),
    `MLFLOW_TRACKING_URI='/my runs/it'\\''s' npx charmory-track sync --to https://h/prefix`
  )
  t.equal(syncCommandFor('/s', 'memory', '/s'), 'npx charmory-track sync --to memory')
  t.match(syncCommandFor('/s', 'mlflow:http://h'), /^MLFLOW_TRACKING_URI=\/s npx/, 'without a default store, the command names the store')
})

t.test('the sink over the server keeps what the server offers besides writing', async (t) => {
  const dir = tempDir(t)
  const remote = { ...server().sink, config: { trackingUri: 'http://h' } }
  const { logger } = captureLogger()
  for (const sink of [journalOver(remote, openStore(dir), { logger }), fallbackOver(remote, openStore(dir), { logger })]) {
    const kept = sink as Sink.Sink & { readonly config?: unknown }
    t.strictSame(kept.config, { trackingUri: 'http://h' })
  }
})

t.test('withLocalFallback and withLocalJournal are descriptions: run builds what they name and closes it', async (t) => {
  const dir = tempDir(t)
  const events: Array<string> = []
  const remote = server()
  const described = Sink.describeSink(remote.sink.name, (context) => {
    events.push('remote built')
    context.scope.addFinalizer(() => void events.push('remote closed'))
    return TE.right(remote.sink)
  })
  const { logger, warnings } = captureLogger()
  const fallback = withLocalFallback(described, localSink({ dir }))
  t.equal(fallback.name, `mlflow:http://127.0.0.1:5999 (falling back to local:${dir})`)
  remote.fail(down)
  const done = right(await run(evaluation('fallback'), { sink: fallback, logger }))
  t.strictSame(events, ['remote built', 'remote closed'])
  t.equal(warnings.length, 1, 'the logger given to run gets the warning')
  t.match(right(await LocalStore.listRuns(dir)()), [{ runId: done.runId, synced: false }])

  // a built remote is kept open; the options' logger wins over run's
  remote.fail(undefined)
  const own = captureLogger()
  events.length = 0
  const live = right(await openSink(described))
  const journaled = withLocalJournal(live, localSink({ dir }), { logger: own.logger })
  t.equal(journaled.name, `mlflow:http://127.0.0.1:5999 (journaled in local:${dir})`)
  t.ok(E.isRight(await run(evaluation('journaled'), { sink: journaled, logger })))
  t.strictSame(events, ['remote built'], 'a sink given built is not released by run')
  await live.close()
  t.strictSame(events, ['remote built', 'remote closed'], 'but by its owner')

  // a local store that cannot be built: the remote built for it is closed again
  const blocked = join(dir, 'blocked')
  writeFileSync(blocked, 'a file')
  events.length = 0
  const unbuildable = withLocalFallback(described, Sink.describeSink('local:nowhere', () => TE.left(Errors.fileError(blocked, 'not a folder'))))
  t.match(await run(evaluation('never'), { sink: unbuildable }), E.left({ _tag: 'FileError' }))
  t.strictSame(events, ['remote built', 'remote closed'])
})
