import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Errors, LocalStore, Sink, evaluate, localSink, type LocalSink, memorySink, type MemorySink, openSink, run, withLocalFallback, withLocalJournal, type RunRecord, type SyncProgress, syncStore } from 'charmory-track'
import * as Codecs from '../../lib/local/Codecs.js'
import * as Layout from '../../lib/local/Layout.js'
import { openStore } from '../support/local-store.js'
import { journalOver } from '../../lib/local/Fallback.js'
import { captureLogger } from '../support/behaviour.js'
import { failing } from '../support/sinks.js'
import { asStored, left, right, tempDir, writeOldRun } from '../support/local-store.js'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Writes a run through the local sink's own interface. */
const write = async (
  sink: LocalSink,
  experiment: string,
  runName: string,
  startTime: number,
  body: (r: Sink.RunSink) => Promise<unknown>,
  tags: ReadonlyArray<readonly [string, string]> = []
): Promise<string> => {
  const experimentId = right(await sink.experiment(experiment)())
  const r = right(await sink.openRun({ experimentId, runName, startTime, tags: [['mlflow.runName', runName], ...tags] })())
  await body(r)
  return r.runId
}

const must = async (te: TE.TaskEither<Errors.TrackError, void>): Promise<void> => void right(await te())

/** A parent with a failed child, a running run and a run with every kind of record. */
const sampleStore = async (dir: string) => {
  const sink = openStore(dir)
  const parent = await write(sink, 'exp', 'parent', 1000, async (r) => {
    await must(r.logParams([['lr', '0.1'], ['model.name', 'resnet']]))
    for (let step = 0; step < 30; step++) await must(r.logMetrics([{ key: 'loss', value: 1 / (step + 1), step, timestamp: 1000 + step }]))
    await must(r.logMetrics([{ key: 'odd', value: NaN, step: 0, timestamp: 5 }, { key: 'odd', value: -Infinity, step: 1, timestamp: 5 }]))
    await must(r.setTags([['phase', 'train']]))
    await must(r.setTags([['phase', 'test']]))
    await must(r.logArtifact('plots/roc.bin', new Uint8Array([1, 2, 3])))
    await must(r.logArtifact('notes.txt', utf8('first')))
    await must(r.logArtifact('notes.txt', utf8('second')))
    await must(r.end('FINISHED', 2000))
  })
  const child = await write(
    sink,
    'exp',
    'child',
    1100,
    async (r) => {
      await must(r.logMetrics([{ key: 'inner', value: 1, step: 0, timestamp: 1100 }]))
      await must(r.setTags([['charmory.error', 'task failed: boom']]))
      await must(r.end('FAILED', 1200))
    },
    [['mlflow.parentRunId', parent]]
  )
  const running = await write(sink, 'other', 'running', 3000, async (r) => {
    await must(r.logParams([['seed', '7']]))
    await must(r.flush())
  })
  return { sink, parent, child, running }
}

/** What the memory sink holds of a run, as the store shows it (parent link on the target's ids). */

const expected = async (dir: string, stored: LocalStore.StoredRun, parentOnTarget?: string) => {
  const artifacts: Record<string, Uint8Array> = {}
  for (const a of stored.artifacts) artifacts[a.path] = right(await LocalStore.readArtifact(dir, stored.runId, a.path)())
  return {
    runName: stored.runName,
    status: stored.status,
    startTime: stored.startTime,
    endTime: stored.endTime,
    params: stored.paramValues,
    metrics: stored.metricHistories,
    tags: parentOnTarget === undefined ? stored.tags : { ...stored.tags, 'mlflow.parentRunId': parentOnTarget },
    artifacts
  }
}

const targetRun = (target: MemorySink, runId: string | undefined): RunRecord => {
  const found = target.snapshot().runs.find((r) => r.runId === runId)
  if (found === undefined) throw new Error(`no run ${runId} on the target`)
  return found
}

t.test('sync pushes every run exactly: params, histories, tags, status, times, artifacts, parent links', async (t) => {
  const dir = tempDir(t)
  const { parent, child, running } = await sampleStore(dir)
  const target = memorySink()
  const report = right(await syncStore(dir, target)())
  t.equal(report.target, 'memory')
  t.equal(report.dryRun, false)
  t.strictSame(
    report.runs.map((r) => r.runId),
    [parent, running, child],
    'parents first, then by start time'
  )
  t.ok(report.runs.every((r) => r.error === undefined))
  const byId = new Map(report.runs.map((r) => [r.runId, r]))
  t.match(byId.get(parent), { params: 2, metrics: 32, tags: 3, artifacts: 3 })

  const parentRemote = byId.get(parent)?.remoteRunId
  for (const id of [parent, child, running]) {
    const stored = right(await LocalStore.loadRun(dir, id)())
    const remote = targetRun(target, byId.get(id)?.remoteRunId)
    t.strictSame(asStored(remote), await expected(dir, stored, id === child ? parentRemote : undefined), `run ${stored.runName}`)
  }
  t.strictSame(
    target.snapshot().experiments.map((e) => e.name),
    ['exp', 'other']
  )
  const after = right(await LocalStore.listRuns(dir)())
  t.ok(after.every((r) => r.synced), 'every run is marked synced')
  t.strictSame(
    right(await LocalStore.loadRun(dir, child)()).sync,
    [{ target: 'memory', remoteRunId: byId.get(child)?.remoteRunId, offset: right(await LocalStore.loadRun(dir, child)()).journalBytes }]
  )
})

t.test('a second sync sends nothing; data added later goes into the run already on the target', async (t) => {
  const dir = tempDir(t)
  const { sink, parent, running } = await sampleStore(dir)
  const target = memorySink()
  const first = right(await syncStore(dir, target)())
  const before = target.snapshot()
  t.strictSame(right(await syncStore(dir, target)()).runs, [], 'nothing is pending')
  t.strictSame(target.snapshot(), before, 'and nothing was sent')

  const r = right(await sink.reopenRun(running)())
  await must(r.logMetrics([{ key: 'late', value: 2, step: 5, timestamp: 3500 }]))
  await must(r.end('FINISHED', 4000))
  const again = right(await openStore(dir).reopenRun(parent)())
  await must(again.logArtifact('extra.txt', utf8('after the end')))
  await must(again.flush())

  const second = right(await syncStore(dir, target)())
  t.strictSame(
    second.runs.map((x) => [x.runId, x.remoteRunId, x.metrics, x.artifacts]),
    [
      [parent, first.runs.find((x) => x.runId === parent)?.remoteRunId, 0, 1],
      [running, first.runs.find((x) => x.runId === running)?.remoteRunId, 1, 0]
    ]
  )
  const snap = target.snapshot()
  t.equal(snap.runs.length, 3, 'no new run on the target')
  const remoteRunning = targetRun(target, second.runs[1]?.remoteRunId)
  t.equal(remoteRunning.status, 'FINISHED')
  t.equal(remoteRunning.endTime, 4000)
  t.strictSame(remoteRunning.metrics['late'], [{ value: 2, step: 5, timestamp: 3500 }])
  t.strictSame(targetRun(target, second.runs[0]?.remoteRunId).artifacts['extra.txt'], utf8('after the end'))
  t.equal(targetRun(target, second.runs[0]?.remoteRunId).status, 'FINISHED', 'status stays as it ended')
})

/** A target that dies (unreachable) once it has taken `budget` metric batches. */
const dying = (inner: Sink.Sink, budget: number): Sink.Sink & { calls: () => number } => {
  let calls = 0
  const wrap = (rs: Sink.RunSink): Sink.RunSink => ({
    ...rs,
    logMetrics: (ms) => (++calls > budget ? TE.left(Errors.networkError('connection refused', 'runs/log-batch')) : rs.logMetrics(ms))
  })
  return {
    name: inner.name,
    calls: () => calls,
    experiment: inner.experiment,
    openRun: (req) => TE.map(wrap)(inner.openRun(req)),
    reopenRun: (id) => TE.map(wrap)(inner.reopenRun(id))
  }
}

t.test('a sync interrupted by an unreachable target resumes without duplicating anything', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const ids: Array<string> = []
  for (const name of ['a', 'b']) {
    ids.push(
      await write(sink, 'exp', name, name === 'a' ? 1 : 2, async (r) => {
        for (let step = 0; step < 40; step++) {
          await must(r.logMetrics([{ key: 'm', value: step, step, timestamp: step }]))
          await must(r.flush())
        }
        await must(r.end('FINISHED', 100))
      })
    )
  }
  const target = memorySink()
  const failed = await syncStore(dir, dying(target, 55), { checkpointBytes: 1 })()
  t.match(left(failed), { _tag: 'NetworkError' }, 'an unreachable target stops the sync')
  const halfway = target.snapshot()
  t.equal(halfway.runs.length, 2, 'the second run was under way')
  t.equal(halfway.runs[1]?.metrics['m']?.length, 15)
  t.equal(right(await LocalStore.listRuns(dir)()).filter((r) => r.synced).length, 1)

  const resumed = right(await syncStore(dir, target, { checkpointBytes: 1 })())
  t.strictSame(resumed.runs.map((r) => [r.runId, r.metrics]), [[ids[1], 25]], 'only what was missing is sent')
  const snap = target.snapshot()
  t.equal(snap.runs.length, 2, 'the run created before the interruption is reused')
  for (const r of snap.runs) {
    t.strictSame(
      r.metrics['m'],
      Array.from({ length: 40 }, (_, step) => ({ value: step, step, timestamp: step })),
      `run ${r.runName}: every point once`
    )
    t.equal(r.status, 'FINISHED')
  }
})

t.test('without checkpoints in between, a resumed sync re-sends from the last one only', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  await write(sink, 'exp', 'a', 1, async (r) => {
    for (let step = 0; step < 10; step++) {
      await must(r.logMetrics([{ key: 'm', value: step, step, timestamp: step }]))
      await must(r.flush())
    }
  })
  const target = memorySink()
  const sent: Array<number> = []
  const record = TE.map((rs: Sink.RunSink): Sink.RunSink => ({ ...rs, logMetrics: (ms) => (sent.push(...ms.map((m) => m.step)), rs.logMetrics(ms)) }))
  const recording: Sink.Sink = { ...target, openRun: (req) => record(target.openRun(req)), reopenRun: (id) => record(target.reopenRun(id)) }
  t.ok(E.isLeft(await syncStore(dir, dying(recording, 6))()))
  right(await syncStore(dir, recording)())
  t.strictSame(
    sent,
    [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'everything after the run was created is sent again'
  )
  t.strictSame(
    target.snapshot().runs[0]?.metrics['m']?.map((p) => p.step),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'and stored once, as an MLflow server stores identical points'
  )
})

t.test('a journal that holds its run twice is sent with each point once, also by a sync that resumes', async (t) => {
  const dir = tempDir(t)
  const loss = (steps: ReadonlyArray<number>): Codecs.JournalRecord => ({ t: 'metrics', m: steps.map((s) => ['loss', s, 10 + s, s] as const) })
  const copy: ReadonlyArray<Codecs.JournalRecord> = [loss([0, 1, 2, 3, 4]), loss([5, 6, 7, 8, 9]), { t: 'end', status: 'FINISHED', endTime: 100 }]
  // `once` comes in order: its points are sent without being remembered
  const last: Codecs.JournalRecord = { t: 'metrics', m: [['loss', 10, 20, 10], ['once', 1, 30, 0]] }
  await writeOldRun(dir, 'polluted', 'twice', [...copy, ...copy, last])
  const target = memorySink()
  const sent: Array<number> = []
  const record = TE.map((rs: Sink.RunSink): Sink.RunSink => ({ ...rs, logMetrics: (ms) => (sent.push(...ms.map((m) => m.step)), rs.logMetrics(ms)) }))
  const recording: Sink.Sink = { ...target, openRun: (req) => record(target.openRun(req)), reopenRun: (id) => record(target.reopenRun(id)) }
  t.ok(E.isLeft(await syncStore(dir, dying(recording, 1), { checkpointBytes: 1 })()), 'the first sync stops after one batch')
  t.strictSame(sent, [0, 1, 2, 3, 4])
  const resumed = right(await syncStore(dir, recording)())
  t.match(resumed.runs, [{ runId: 'twice', metrics: 7, error: undefined }])
  t.strictSame(sent.slice(5), [5, 6, 7, 8, 9, 10, 0], 'the resumed sync sends what the first did not, once')
  t.match(targetRun(target, resumed.runs[0]?.remoteRunId), { status: 'FINISHED', endTime: 100 })
})

t.test('a run the target refuses is reported and the others go on; its children wait for it', async (t) => {
  const dir = tempDir(t)
  const { parent, child, running } = await sampleStore(dir)
  const inner = memorySink()
  const refused = Errors.httpError(400, 'INVALID_PARAMETER_VALUE', 'no', 'runs/create')
  const refusing: Sink.Sink = {
    ...inner,
    openRun: (req) => (req.runName === 'parent' ? TE.left(refused) : inner.openRun(req))
  }
  const report = right(await syncStore(dir, refusing)())
  const byId = new Map(report.runs.map((r) => [r.runId, r]))
  t.strictSame(byId.get(parent)?.error, refused)
  t.equal(byId.get(parent)?.remoteRunId, undefined)
  t.equal(byId.get(running)?.error, undefined)
  t.match(byId.get(child)?.error, { _tag: 'InvalidValue', key: 'mlflow.parentRunId', reason: /not synced to memory/ })
  t.equal(byId.get(child)?.remoteRunId, undefined)
  t.strictSame(
    right(await LocalStore.listRuns(dir)()).map((r) => [r.runName, r.synced]),
    [
      ['running', true],
      ['child', false],
      ['parent', false]
    ]
  )
  const later = right(await syncStore(dir, inner)())
  t.strictSame(
    later.runs.map((r) => [r.runId, r.error]),
    [
      [parent, undefined],
      [child, undefined]
    ]
  )
  t.equal(targetRun(inner, later.runs[1]?.remoteRunId).tags['mlflow.parentRunId'], later.runs[0]?.remoteRunId)
})

t.test('a run refused midway keeps its place on the target; its children link to it', async (t) => {
  const dir = tempDir(t)
  const { parent, child } = await sampleStore(dir)
  const inner = memorySink()
  const refusing: Sink.Sink = {
    ...inner,
    openRun: (req) =>
      TE.map(
        (rs: Sink.RunSink): Sink.RunSink =>
          req.runName === 'parent'
            ? { ...rs, logParams: () => TE.left(Errors.httpError(400, 'INVALID_PARAMETER_VALUE', 'no', 'runs/log-batch')) }
            : rs
      )(inner.openRun(req))
  }
  const report = right(await syncStore(dir, refusing)())
  const byId = new Map(report.runs.map((r) => [r.runId, r]))
  t.match(byId.get(parent)?.error, { _tag: 'HttpError', status: 400 })
  t.type(byId.get(parent)?.remoteRunId, 'string', 'the run was created on the target before it was refused')
  t.equal(byId.get(child)?.error, undefined)
  t.equal(targetRun(inner, byId.get(child)?.remoteRunId).tags['mlflow.parentRunId'], byId.get(parent)?.remoteRunId)
  right(await syncStore(dir, inner)())
  t.equal(inner.snapshot().runs.length, 3, 'the parent was resumed in the run created before')
  t.strictSame(targetRun(inner, byId.get(parent)?.remoteRunId).params, { lr: '0.1', 'model.name': 'resnet' })
})

t.test('a run that fails midway ends on the target as it ended here; one that never ended stays RUNNING', async (t) => {
  const dir = tempDir(t)
  const bad = '%2e%2e/x.txt'
  const records = (end: boolean): ReadonlyArray<Codecs.JournalRecord> => [
    { t: 'params', params: [['lr', '0.1']] },
    { t: 'metrics', m: [['loss', 0.5, 1500, 0]] },
    { t: 'artifact', path: bad, size: 1 },
    { t: 'metrics', m: [['loss', 0.25, 1600, 1]] },
    ...(end ? [{ t: 'end', status: 'KILLED', endTime: 1700 } as const] : [])
  ]
  await writeOldRun(dir, 'old', 'ended', records(true), { [bad]: utf8('x') })
  await writeOldRun(dir, 'old', 'unended', records(false), { [bad]: utf8('x') })
  const target = memorySink()
  const report = right(await syncStore(dir, target)())
  const refused = { _tag: 'InvalidArtifactPath', path: bad }
  t.match(report.runs, [
    { runId: 'ended', params: 1, metrics: 1, artifacts: 0, error: refused },
    { runId: 'unended', params: 1, metrics: 1, artifacts: 0, error: refused }
  ])
  t.match(targetRun(target, report.runs[0]?.remoteRunId), { status: 'KILLED', endTime: 1700, params: { lr: '0.1' }, metrics: { loss: [{ value: 0.5 }] } })
  t.match(targetRun(target, report.runs[1]?.remoteRunId), { status: 'RUNNING', endTime: undefined })
  t.strictSame(
    right(await LocalStore.listRuns(dir)()).map((r) => r.synced),
    [false, false],
    'neither is confirmed: a later sync tries the rest again'
  )
})

t.test('a dry run counts what would be sent and touches nothing', async (t) => {
  const dir = tempDir(t)
  const { parent, child, running } = await sampleStore(dir)
  const nowhere = failing(Errors.networkError('must not be called', 'nowhere'))
  const report = right(await syncStore(dir, nowhere, { dryRun: true, target: 'mlflow:http://127.0.0.1:5000' })())
  t.equal(report.dryRun, true)
  t.equal(report.target, 'mlflow:http://127.0.0.1:5000')
  t.strictSame(
    report.runs.map((r) => [r.runId, r.params, r.metrics, r.tags, r.artifacts, r.remoteRunId, r.error]),
    [
      [parent, 2, 32, 3, 3, undefined, undefined],
      [running, 1, 0, 1, 0, undefined, undefined],
      [child, 0, 1, 3, 0, undefined, undefined]
    ]
  )
  t.strictSame(right(await LocalStore.listRuns(dir)()).map((r) => r.sync), [[], [], []], 'no progress recorded')
  const target = memorySink()
  right(await syncStore(dir, target)())
  t.strictSame(right(await syncStore(dir, target, { dryRun: true })()).runs, [])
})

t.test('progress under another name is kept apart', async (t) => {
  const dir = tempDir(t)
  await sampleStore(dir)
  const target = memorySink()
  right(await syncStore(dir, target, { target: 'first' })())
  const second = right(await syncStore(dir, target, { target: 'second' })())
  t.equal(second.runs.length, 3)
  t.equal(target.snapshot().runs.length, 6)
  t.strictSame(right(await LocalStore.listRuns(dir)())[0]?.sync.map((s) => s.target), ['first', 'second'])
})

t.test('progress is reported as journal bytes, up to the total', async (t) => {
  const dir = tempDir(t)
  await sampleStore(dir)
  const seen: Array<SyncProgress> = []
  right(await syncStore(dir, memorySink(), { onProgress: (p) => void seen.push(p) })())
  const total = right(await LocalStore.listRuns(dir)()).reduce((n, r) => n + r.journalBytes, 0)
  t.ok(seen.length > 3)
  t.ok(seen.every((p, i) => p.bytes === total && p.runs === 3 && p.bytesDone >= (seen[i - 1]?.bytesDone ?? 0)))
  t.equal(seen[seen.length - 1]?.bytesDone, total)
  t.equal(seen[seen.length - 1]?.runsDone, 2)
})

t.test('a parent link to a run outside the store is kept; an ancestry is synced top down', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const grandparent = await write(sink, 'e', 'g', 30, (r) => r.end('FINISHED', 31)())
  const parent = await write(sink, 'e', 'p', 20, (r) => r.end('FINISHED', 21)(), [['mlflow.parentRunId', grandparent]])
  const child = await write(sink, 'e', 'c', 10, (r) => r.end('FINISHED', 11)(), [['mlflow.parentRunId', parent]])
  const orphan = await write(sink, 'e', 'o', 5, async (r) => {
    await must(r.setTags([['mlflow.parentRunId', 'elsewhere']]))
    await must(r.flush())
  })
  const target = memorySink()
  const report = right(await syncStore(dir, target)())
  t.strictSame(report.runs.map((r) => r.runId), [orphan, grandparent, parent, child])
  const remote = new Map(report.runs.map((r) => [r.runId, r.remoteRunId]))
  t.equal(targetRun(target, remote.get(orphan)).tags['mlflow.parentRunId'], 'elsewhere')
  t.equal(targetRun(target, remote.get(child)).tags['mlflow.parentRunId'], remote.get(parent))
  t.equal(targetRun(target, remote.get(parent)).tags['mlflow.parentRunId'], remote.get(grandparent))
})

t.test('a run whose store files are damaged is reported with the file at fault', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const missing = await write(sink, 'e', 'missing artifact', 1, async (r) => {
    await must(r.logArtifact('a.txt', utf8('a')))
    await must(r.end('FINISHED', 2))
  })
  rmSync(Layout.artifactFile(dir, missing, 'a.txt'))
  const fine = await write(sink, 'e', 'fine', 2, (r) => r.end('FINISHED', 3)())
  const report = right(await syncStore(dir, memorySink())())
  const byId = new Map(report.runs.map((r) => [r.runId, r]))
  t.match(byId.get(missing)?.error, { _tag: 'NotFound', what: 'artifact', id: `${missing}/a.txt` })
  t.equal(byId.get(fine)?.error, undefined)
  rmSync(Layout.syncPath(dir, fine))
  mkdirSync(Layout.syncPath(dir, fine))
  t.match(left(await syncStore(dir, memorySink())()), { _tag: 'FileError', path: Layout.syncPath(dir, fine) }, 'an unreadable store stops the sync')
})

t.test('a journal line that cannot be read is skipped with a report naming the file and line; the rest is synced', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const id = await write(sink, 'e', 'r', 1, async (r) => {
    await must(r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }]))
    await must(r.flush())
  })
  appendFileSync(Layout.journalPath(dir, id), 'not json\n{"t":"metrics","m":[[123,2,2,1]]}\n' + Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 2 }))
  const lines = [
    { _tag: 'DecodeError', source: `${Layout.journalPath(dir, id)}:3`, path: '(line)' },
    { _tag: 'DecodeError', source: `${Layout.journalPath(dir, id)}:4`, path: 'm.0.0' }
  ]
  t.match(right(await syncStore(dir, memorySink(), { dryRun: true })()).runs, [{ runId: id, metrics: 1, unreadable: lines }])
  const target = memorySink()
  t.match(right(await syncStore(dir, target)()).runs, [{ runId: id, error: undefined, metrics: 1, unreadable: lines }])
  t.match(target.snapshot().runs, [{ status: 'FINISHED', endTime: 2, metrics: { m: [{ value: 1 }] } }])
  t.strictSame(right(await syncStore(dir, target)()).runs, [], 'the whole journal is confirmed: nothing is sent again')
})

t.test('dataset inputs are carried to the target; a target that cannot take them is reported', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const input = { name: 'd', digest: 'abc', sourceType: 'local', source: '{"uri":"/d"}', tags: [['mlflow.data.context', 'eval']] as const }
  const runId = await write(sink, 'exp', 'inputs', 1000, async (r) => {
    await must(r.logInputs!([input]))
    await must(r.logInputs!([]))
    await must(r.end('FINISHED', 2000))
  })
  const inner = memorySink()
  const { logInputs: _none, ...bareRun } = right(await inner.openRun({ experimentId: right(await inner.experiment('x')()), runName: 'x', startTime: 0, tags: [] })())
  const bare: Sink.Sink = { ...inner, name: 'bare', openRun: () => TE.right(bareRun) }
  const refused = right(await syncStore(dir, bare)())
  t.match(refused.runs[0], { runId, error: { _tag: 'Unsupported', what: 'dataset inputs', where: 'bare' } })
  const target = memorySink()
  right(await syncStore(dir, target)())
  t.strictSame(target.snapshot().runs[0]?.inputs, [{ ...input, tags: [['mlflow.data.context', 'eval']] }])
})

t.test('a run journaled under a server run id is completed in place through another address of that server', async (t) => {
  const dir = tempDir(t)
  const server = memorySink()
  // replica B takes two points, then dies; the run goes on in the local store under B's run id
  const replicaB = dying(server, 2)
  const warnings: Array<string> = []
  const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined }
  const evaluated = right(
    await run(
      evaluate({ experiment: 'team', resultsArtifact: false }, async (r) => {
        for (let step = 0; step < 30; step++) await r.logMetric('loss', step, { step, timestamp: 1000 + step })
      }),
      { sink: withLocalFallback(replicaB, localSink({ dir }), { logger }), logger }
    )
  )
  t.match(warnings.join('\n'), /cannot be reached/)
  t.equal(server.snapshot().runs[0]?.status, 'RUNNING', 'the server holds the run half done')

  // replica A: the same database at another address
  const replicaA: MemorySink = { ...server, name: 'mlflow:replica-a' }
  const dry = right(await syncStore(dir, replicaA, { dryRun: true })())
  t.equal(dry.runs[0]?.metrics, 30, 'a dry run asks the target nothing and counts the whole run')
  const report = right(await syncStore(dir, replicaA)())
  t.strictSame(report.runs.map((r) => [r.runId, r.remoteRunId, r.error]), [[evaluated.runId, evaluated.runId, undefined]])
  t.equal(server.snapshot().runs.length, 1, 'no second copy of the run')
  t.equal(targetRun(server, evaluated.runId).status, 'FINISHED')
  // what was sent again is stored once, as an MLflow server does
  const history = right(await server.query.getMetricHistory(evaluated.runId, 'loss')())
  t.strictSame(history.metrics.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i), 'every point once')
  t.strictSame(right(await syncStore(dir, replicaA)()).runs, [], 'a second sync has nothing to send')

  // a server that does not hold the run gets a copy of its own
  const elsewhere: MemorySink = { ...memorySink(), name: 'mlflow:elsewhere' }
  const copied = right(await syncStore(dir, elsewhere)())
  t.not(copied.runs[0]?.remoteRunId, evaluated.runId)
  t.equal(targetRun(elsewhere, copied.runs[0]?.remoteRunId).metrics['loss']?.length, 30)
})

// -------------------------------------------------------------------------------------
// a sink that journals into the store being synced
// -------------------------------------------------------------------------------------

/** A stand-in for a server: a memory sink under a server's name. */
const standIn = (): MemorySink => ({ ...memorySink(), name: 'mlflow:http://127.0.0.1:5999' })

/**
 * A run journaled through `sink` (its server's run id, confirmed there), with points and an
 * end added to it in the store alone since, and a run of the store alone: both unsynced.
 */
const unsyncedThrough = async (dir: string, sink: Sink.Sink): Promise<{ mirrored: string; local: string }> => {
  let now = 1000
  const done = right(
    await run(
      evaluate({ experiment: 'mirrored', runName: 'eval', resultsArtifact: false }, async (r) => {
        for (let step = 0; step < 20; step++) await r.logMetric('loss', step, { step, timestamp: 1000 + step })
      }),
      { sink, logger: captureLogger().logger, clock: { now: () => (now += 1) } }
    )
  )
  const reopened = right(await openStore(dir).reopenRun(done.runId)())
  await must(reopened.logMetrics([{ key: 'late', value: 1, step: 0, timestamp: 5000 }]))
  await must(reopened.end('FINISHED', 6000))
  const local = await write(openStore(dir), 'alone', 'alone', 7000, async (r) => {
    await must(r.logMetrics([{ key: 'm', value: 2, step: 0, timestamp: 7001 }]))
    await must(r.end('FINISHED', 7002))
  })
  return { mirrored: done.runId, local }
}

/** Each run of the store with the size of its journal. */
const sizes = (dir: string): Record<string, number> =>
  existsSync(join(dir, 'runs'))
    ? Object.fromEntries(readdirSync(join(dir, 'runs')).map((id) => [id, statSync(Layout.journalPath(dir, id)).size]))
    : {}

t.test('a sink that journals into the store being synced: the sync sends to its server, journals nothing, keeps one target', async (t) => {
  // the journal over a journal confirms what it journals under the name of the sink it mirrors
  const kinds: ReadonlyArray<[string, (server: Sink.Sink, dir: string, other: string) => Sink.SinkDescription, (server: Sink.Sink, other: string) => ReadonlyArray<string>]> = [
    ['withLocalJournal', (server, dir) => withLocalJournal(server, localSink({ dir })), (server) => [server.name]],
    ['withLocalFallback', (server, dir) => withLocalFallback(server, localSink({ dir })), (server) => [server.name]],
    [
      'a journal over a journal',
      (server, dir, other) => withLocalJournal(journalOver(server, openStore(other), { logger: captureLogger().logger }), localSink({ dir })),
      (server, other) => [`${server.name} (journaled in local:${other})`, server.name]
    ]
  ]
  for (const [kind, make, targets] of kinds) {
    t.test(kind, async (t) => {
      const dir = tempDir(t)
      const other = tempDir(t)
      const server = standIn()
      const sink = right(await openSink(make(server, dir, other), { logger: captureLogger().logger }))
      t.teardown(() => sink.close())
      t.equal(Sink.unmirrored(sink), server, 'the sink says where it sends')
      const { mirrored, local } = await unsyncedThrough(dir, sink)
      const before = sizes(dir)
      const elsewhere = sizes(other)

      const report = right(await syncStore(dir, sink)())
      t.equal(report.target, server.name, 'progress is kept under the server\'s name')
      t.strictSame(report.runs.map((r) => [r.runId, r.error]), [[mirrored, undefined], [local, undefined]])
      t.equal(report.runs[0]?.remoteRunId, mirrored, 'the journaled run is completed in place')
      t.strictSame(sizes(dir), before, 'no journal grew and no run was added to the store')
      t.strictSame(sizes(other), elsewhere, 'nor to the store of the inner journal')
      const confirmed = right(await LocalStore.loadRun(dir, mirrored)())
      t.strictSame(confirmed.sync.map((s) => s.target), targets(server, other), 'one target for the server')
      t.equal(confirmed.sync.find((s) => s.target === server.name)?.offset, confirmed.journalBytes, 'which has all of the run')
      t.strictSame(right(await LocalStore.loadRun(dir, local)()).sync.map((s) => s.target), [server.name])
      const onServer = targetRun(server, mirrored)
      t.match(onServer, { status: 'FINISHED', endTime: 6000 })
      t.strictSame(onServer.metrics['loss']?.map((p) => p.step), Array.from({ length: 20 }, (_, i) => i), 'every point once')
      t.strictSame(onServer.metrics['late'], [{ value: 1, step: 0, timestamp: 5000 }])
      t.strictSame(targetRun(server, report.runs[1]?.remoteRunId).metrics['m'], [{ value: 2, step: 0, timestamp: 7001 }])
      t.strictSame(right(await syncStore(dir, sink)()).runs, [], 'a second sync has nothing to send')
    })
  }
})

t.test('a sink of one\'s own that says it journals (describeSink) takes part', async (t) => {
  const dir = tempDir(t)
  const server = standIn()
  const own = Sink.describeSink<Sink.Sink>('mine', () => {
    const mirror = journalOver(server, openStore(dir), { logger: captureLogger().logger })
    const sink: Sink.Sink = {
      name: 'mine',
      experiment: mirror.experiment,
      openRun: mirror.openRun,
      reopenRun: mirror.reopenRun,
      journaled: { remote: server, dir }
    }
    return TE.right({ ...sink, close: async () => undefined })
  })
  const sink = right(await openSink(own))
  const { mirrored } = await unsyncedThrough(dir, sink)
  const before = sizes(dir)
  const report = right(await syncStore(dir, sink)())
  t.equal(report.target, server.name)
  t.strictSame(sizes(dir), before)
  t.match(targetRun(server, mirrored), { status: 'FINISHED', metrics: { late: [{ value: 1 }] } })
})

t.test('a sink that journals into the store without saying so cannot make a sync feed itself', async (t) => {
  const dir = tempDir(t)
  const server = standIn()
  const mirror = journalOver(server, openStore(dir), { logger: captureLogger().logger })
  const silent: Sink.Sink = { name: 'silent', experiment: mirror.experiment, openRun: mirror.openRun, reopenRun: mirror.reopenRun }
  const { mirrored } = await unsyncedThrough(dir, mirror)
  const listed = right(await LocalStore.loadRun(dir, mirrored)()).journalBytes
  // the run is adopted, reopened through the sink, and what is replayed is journaled again
  const report = right(await syncStore(dir, silent)())
  t.equal(report.runs.find((r) => r.runId === mirrored)?.error, undefined)
  const grown = right(await LocalStore.loadRun(dir, mirrored)())
  t.ok(grown.journalBytes > listed && grown.journalBytes < 2 * listed, 'the sync sent the journal as it was listed, once')
  t.equal(grown.sync.find((s) => s.target === 'silent')?.offset, listed, 'and confirmed that much')
  t.strictSame(grown.metricHistories['loss']?.map((p) => p.step), Array.from({ length: 20 }, (_, i) => i), 'what it journaled again reads as one copy')
  t.equal(grown.metricHistories['late']?.length, 1)
})
