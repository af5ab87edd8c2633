import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { LocalStore, Runtime, evaluate, fork, localSink, memorySink, reopen, run, type RunRecord, Track, trackParam } from 'charmory-track'
import * as Codecs from '../../lib/local/Codecs.js'
import * as Layout from '../../lib/local/Layout.js'
import { openStore } from '../support/local-store.js'
import { behaviourSuite, fixedSource } from '../support/behaviour.js'
import { asStored, childEnv, left, right, root, runTs, tempDir, tsNode, viewOf, withVars } from '../support/local-store.js'
import { built } from '../support/sinks.js'

const writer = join(root, 'spec/support/local-writer.ts')
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

void behaviourSuite(t, 'local sink', async () => {
  const dir = tempDir(t)
  return {
    sink: openStore(dir),
    readRun: async (runId) => viewOf(dir, right(await LocalStore.loadRun(dir, runId)())),
    close: async () => undefined
  }
})

/** One program touching everything a sink records, run against a memory and a local sink. */
const everything = (folder: string) =>
  pipe(
    trackParam('model', { name: 'resnet', layers: [64, 64], lr: 1e-3 }),
    Track.flatMap(() =>
      evaluate({ experiment: 'round trip', runName: 'parent', description: 'all of it', tags: { team: 'vision' } }, (r) =>
        pipe(
          Track.fromPromise(async () => {
            await r.logMetric('loss', NaN, { step: 0 })
            await r.logMetric('loss', Infinity, { step: 1, timestamp: 5 })
            await r.logMetric('loss', -Infinity, { step: 2 })
            await r.logMetric('loss', 1e-300, { step: -3 })
            await r.logMetrics({ 'eval/a': 1, 'eval/b': -2.5 }, { step: 3 })
            await r.setTag('phase', 'train')
            await r.setTag('phase', 'test')
            await r.logArtifact({ path: 'bytes.bin', bytes: new Uint8Array([0, 255, 7]) })
            await r.logArtifact({ path: 'notes/ü.txt', text: 'über' })
            await r.logArtifacts(folder, 'folder')
          }),
          Track.flatMap(() =>
            fork(
              evaluate({ experiment: 'round trip', runName: 'child' }, async (c) => {
                await c.logMetric('inner', 1)
                throw new Error('child failed')
              }),
              { nested: true }
            )
          ),
          Track.map(() => undefined),
          Track.orElse(() => Track.of(undefined)),
          Track.map(() => ({ accuracy: 0.5, per_class: [0.25, 0.75] }))
        )
      )
    ),
    Track.tap(({ runId }) => reopen(runId, (r) => r.logMetric('custom_metric', 42)))
  )

const comparable = async (dir: string, stored: LocalStore.StoredRun) => {
  const view = await viewOf(dir, stored)
  return { runName: stored.runName, ...view, metrics: stored.metricHistories }
}

t.test('round trip: the local store reads back everything the memory sink records', async (t) => {
  const dir = tempDir(t)
  const folder = tempDir(t)
  mkdirSync(join(folder, 'sub'))
  writeFileSync(join(folder, 'a.txt'), 'a')
  writeFileSync(join(folder, 'sub', 'b.txt'), 'b')
  let now = 1_700_000_000_000
  const env = (sink: Runtime.EnvInput['sink']): Runtime.EnvInput => ({
    sink,
    clock: { now: () => (now += 7) },
    source: () => fixedSource(O.none),
    logger: { warn: () => undefined, info: () => undefined }
  })
  const memory = memorySink()
  now = 1_700_000_000_000
  right(await run(everything(folder), env(memory)))
  now = 1_700_000_000_000
  const local = right(await run(everything(folder), env(openStore(dir))))

  const snapshot = memory.snapshot()
  const stored = right(await LocalStore.listRuns(dir)())
  t.equal(stored.length, 2)
  for (const m of snapshot.runs) {
    const summary = stored.find((s) => s.runName === m.runName)!
    const run = right(await LocalStore.loadRun(dir, summary.runId)())
    const expected = asStored(m)
    const parent = m.tags['mlflow.parentRunId']
    const tags =
      parent === undefined ? expected.tags : { ...expected.tags, 'mlflow.parentRunId': local.runId }
    t.strictSame(await comparable(dir, run), { ...expected, tags }, `run ${m.runName}`)
    t.equal(run.parentRunId, parent === undefined ? undefined : local.runId)
  }
  t.strictSame(right(await LocalStore.listExperiments(dir)()), [{ experimentId: local.experimentId, name: 'round trip' }])
})

t.test('the sink enforces what the server enforces', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('rules')())
  t.equal(right(await sink.experiment('rules')()), experimentId, 'an experiment is found again')
  t.match(left(await sink.openRun({ experimentId: 'unknown', runName: 'r', startTime: 1, tags: [] })()), {
    _tag: 'NotFound',
    what: 'experiment'
  })
  t.match(left(await sink.openRun({ experimentId: Layout.experimentIdOf('nope'), runName: 'r', startTime: 1, tags: [] })()), {
    _tag: 'NotFound',
    what: 'experiment'
  })
  t.match(left(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [['a//b', 'x']] })()), {
    _tag: 'InvalidKey',
    key: 'a//b'
  })
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  t.match(r.runId, /^[0-9a-f]{32}$/)
  t.equal(r.experimentId, experimentId)
  right(await r.logParams([['lr', '0.1']])())
  right(await r.logParams([['lr', '0.1']])())
  t.match(left(await r.logParams([['lr', '0.2']])()), { _tag: 'ParamConflict', key: 'lr', recorded: '0.1', attempted: '0.2' })
  t.match(left(await r.logParams([['bad key!', '1']])()), { _tag: 'InvalidKey', key: 'bad key!' })
  t.match(left(await r.setTags([['/lead', '1']])()), { _tag: 'InvalidKey', key: '/lead' })
  right(await r.setTags([])())
  t.match(left(await r.logMetrics([{ key: 'a..b/../c', value: 1, step: 0, timestamp: 1 }])()), { _tag: 'InvalidKey' })
  t.match(left(await r.logMetrics([{ key: 'm', value: 1, step: 0.5, timestamp: 1 }])()), { _tag: 'InvalidValue', key: 'm' })
  t.match(left(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1.5 }])()), { _tag: 'InvalidValue', key: 'm' })
  t.match(left(await r.logMetrics([{ key: 'm', value: '1' as unknown as number, step: 0, timestamp: 1 }])()), {
    _tag: 'InvalidValue'
  })
  t.match(left(await r.logArtifact('../escape.txt', utf8('x'))()), { _tag: 'InvalidArtifactPath' })
  t.match(left(await r.end('FINISHED', 1.5)()), { _tag: 'InvalidValue', key: 'endTime' })
  right(await r.end('FINISHED', 2)())
  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.strictSame(stored.paramValues, { lr: '0.1' })
  t.strictSame(stored.metricHistories, {}, 'nothing of a refused batch is recorded')
  t.equal(
    readFileSync(Layout.journalPath(dir, r.runId), 'utf8').split('\n').filter((l) => l.includes('"params"')).length,
    1,
    'a param logged again with its value is not written twice'
  )
  t.match(left(await sink.reopenRun('0123')()), { _tag: 'NotFound', what: 'run', id: '0123' })
  t.match(left(await sink.reopenRun('../x')()), { _tag: 'NotFound', what: 'run', id: '../x' })
})

t.test('values are kept as an MLflow server keeps them, and no record the reader would refuse is written', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('kept')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [['opened', 'o'.repeat(8001)]] })())
  right(await r.logParams([['p', 'x'.repeat(6001)]])())
  right(await r.logParams([['p', `${'x'.repeat(6000)}another tail`]])())
  right(await r.setTags([['t', 'y'.repeat(8001)]])())
  right(await r.logMetrics([{ key: 'kept', value: 1, step: 0, timestamp: 1 }])())
  const bad = <A>(u: unknown): A => u as A
  t.match(left(await r.logParams([['n', bad(5)]])()), { _tag: 'InvalidValue', key: 'n' })
  t.match(left(await r.setTags([['n', bad(null)]])()), { _tag: 'InvalidValue', key: 'n' })
  t.match(left(await r.logMetrics([bad({ key: 123, value: 1, step: 0, timestamp: 1 })])()), { _tag: 'InvalidKey', key: '123' })
  t.match(left(await r.logInputs([bad({ name: 7, digest: 'd', sourceType: 'local', source: '{}', tags: [] })])()), {
    _tag: 'InvalidValue',
    key: 'datasets.0.name',
    reason: 'logInputs takes datasets.0.name as string, not a number'
  })
  t.match(left(await r.end(bad('DONE'), 2)()), { _tag: 'InvalidValue', key: 'status' })
  t.match(left(await sink.openRun(bad({ experimentId, runName: 5, startTime: 1, tags: [] }))()), { _tag: 'InvalidValue', key: 'runName' })
  t.match(left(await sink.openRun(bad(null))()), { _tag: 'TaskFailed' }, 'a task that neither throws nor rejects')
  t.match(left(await r.logParams(bad(null))()), { _tag: 'TaskFailed' })
  t.match(left(await sink.experiment(bad(7))()), { _tag: 'InvalidValue', key: 'name' })
  right(await r.end('FINISHED', 2)())
  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.equal(stored.paramValues['p'], 'x'.repeat(6000))
  t.equal(stored.tags['t'], 'y'.repeat(8000))
  t.equal(stored.tags['opened'], 'o'.repeat(8000))
  t.strictSame(stored.metricHistories, { kept: [{ value: 1, step: 0, timestamp: 1 }] })
  t.equal(stored.status, 'FINISHED')
  t.equal(right(await LocalStore.listRuns(dir)()).length, 1, 'the store lists')
})

t.test('a run can be opened with a given id, once', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('ids')())
  const request = { experimentId, runName: 'r', startTime: 1, tags: [] }
  const r = right(await sink.openRun({ ...request, runId: 'abc123' })())
  t.equal(r.runId, 'abc123')
  t.match(left(await sink.openRun({ ...request, runId: 'abc123' })()), { _tag: 'FileError', path: Layout.runDir(dir, 'abc123') })
  t.match(left(await sink.openRun({ ...request, runId: 'a/b' })()), { _tag: 'InvalidValue', key: 'runId' })
})

t.test('a reopened run keeps its params immutable and appends after what is there', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('reopen')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logParams([['lr', '0.1']])())
  right(await r.end('FINISHED', 9)())
  const again = right(await openStore(dir).reopenRun(r.runId)())
  t.equal(again.experimentId, experimentId)
  t.equal(again.written(), right(await LocalStore.loadRun(dir, r.runId)()).journalBytes)
  t.match(left(await again.logParams([['lr', '0.3']])()), { _tag: 'ParamConflict' })
  right(await again.logMetrics([{ key: 'late', value: 1, step: 0, timestamp: 10 }])())
  right(await again.flush()())
  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.equal(stored.status, 'FINISHED', 'reopening leaves the status')
  t.equal(stored.endTime, 9)
  t.strictSame(stored.metricHistories, { late: [{ value: 1, step: 0, timestamp: 10 }] })
  t.equal(again.written(), stored.journalBytes, 'after a flush, written() is the journal length')
})

t.test('a flushed run keeps no file open: reopening a run again and again leaks no file descriptor', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('descriptors')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.end('FINISHED', 2)())
  const journal = Layout.journalPath(dir, r.runId)
  const openOnJournal = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === journal
      } catch {
        return false
      }
    }).length
  for (let i = 0; i < 20; i++) {
    const result = await run(reopen(r.runId, (h) => h.logMetric('late', i, { step: i })), { sink })
    t.ok(E.isRight(result))
  }
  t.equal(openOnJournal(), 0, 'no descriptor of the journal is left open')
  t.equal(right(await LocalStore.loadRun(dir, r.runId)()).metricHistories['late']?.length, 20)
})

t.test('a run written to after its end writes on (the file is opened again)', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('after end')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.end('FINISHED', 2)())
  right(await r.flush()())
  right(await r.setTags([['late', 'yes']])())
  right(await r.flush()())
  t.equal(right(await LocalStore.loadRun(dir, r.runId)()).tags['late'], 'yes')
})

t.test('a torn last line is ignored when reading and cut off when the run is reopened', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('torn')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  right(await r.flush()())
  appendFileSync(Layout.journalPath(dir, r.runId), '{"t":"metrics","m":[["m",2,')
  const before = right(await LocalStore.loadRun(dir, r.runId)())
  t.equal(before.status, 'RUNNING', 'a run that did not end is shown as not finished')
  t.strictSame(before.metricHistories, { m: [{ value: 1, step: 0, timestamp: 1 }] })
  const again = right(await sink.reopenRun(r.runId)())
  right(await again.logMetrics([{ key: 'm', value: 3, step: 1, timestamp: 2 }])())
  right(await again.end('KILLED', 3)())
  const after = right(await LocalStore.loadRun(dir, r.runId)())
  t.equal(after.status, 'KILLED')
  t.strictSame(after.metricHistories['m']?.map((p) => p.value), [1, 3])
  t.equal(readFileSync(Layout.journalPath(dir, r.runId), 'utf8').includes('["m",2,'), false)
})

t.test('a corrupt line inside a journal is skipped and named (file and line); the run reads and reopens', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('corrupt')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  right(await r.logParams([['lr', '0.1']])())
  right(await r.end('FINISHED', 2)())
  appendFileSync(Layout.journalPath(dir, r.runId), 'garbage\n{"t":"end","status":"FAILED","endTime":3}\n')
  const stored = right(await LocalStore.loadRun(dir, r.runId)())
  t.match(stored, { status: 'FAILED', endTime: 3, paramValues: { lr: '0.1' } }, 'the lines after it are read')
  t.match(stored.unreadable, [{ _tag: 'DecodeError', source: `${Layout.journalPath(dir, r.runId)}:4`, path: '(line)', message: /^not JSON/ }])
  const again = right(await sink.reopenRun(r.runId)())
  t.match(left(await again.logParams([['lr', '0.2']])()), { _tag: 'ParamConflict' }, 'the params before it are still known')
  right(await again.logParams([['later', '1']])())
  right(await again.flush()())
  t.strictSame(right(await LocalStore.loadRun(dir, r.runId)()).paramValues, { lr: '0.1', later: '1' })
})

t.test('data is written within the flush interval, and at once when the buffer is full', async (t) => {
  const dir = tempDir(t)
  const open = async (options: { flushIntervalMs?: number; bufferBytes?: number }) => {
    const sink = openStore(dir, options)
    const experimentId = right(await sink.experiment('flushing')())
    return right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  }
  const onDisk = async (runId: string): Promise<number> =>
    right(await LocalStore.loadRun(dir, runId)()).metricHistories['m']?.length ?? 0
  const point = (step: number) => [{ key: 'm', value: step, step, timestamp: 1 }]

  const timed = await open({ flushIntervalMs: 30 })
  right(await timed.logMetrics(point(0))())
  // polled, up to a bound far past the interval: a point never written fails here, not at tap's timeout
  for (let polls = 0; polls < 3000 && (await onDisk(timed.runId)) === 0; polls++) await new Promise((ok) => setTimeout(ok, 10))
  t.equal(await onDisk(timed.runId), 1, 'a point is written by the interval timer, with no flush and no end')

  const immediate = await open({ flushIntervalMs: 0 })
  right(await immediate.logMetrics(point(0))())
  t.equal(await onDisk(immediate.runId), 1, 'an interval of 0 writes every point as it is logged')

  const small = await open({ bufferBytes: 1 })
  right(await small.logMetrics([...point(0), ...point(1)])())
  t.equal(await onDisk(small.runId), 2, 'a full buffer is written before logMetrics resolves')

  const batched = await open({})
  for (let i = 0; i < 2500; i++) right(await batched.logMetrics(point(i))())
  right(await batched.flush()())
  const lines = readFileSync(Layout.journalPath(dir, batched.runId), 'utf8').trim().split('\n')
  t.equal(lines.length, 4, 'points are gathered up to a thousand a line')
  t.equal(await onDisk(batched.runId), 2500)
})

t.test('a failing write is a FileError from that operation on', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('failing')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  rmSync(Layout.journalPath(dir, r.runId))
  mkdirSync(Layout.journalPath(dir, r.runId))
  right(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  t.match(left(await r.flush()()), { _tag: 'FileError', path: Layout.journalPath(dir, r.runId) })
  t.match(left(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])()), { _tag: 'FileError' })
  t.match(left(await r.end('FINISHED', 2)()), { _tag: 'FileError' })

  mkdirSync(join(Layout.runDir(dir, r.runId), 'artifacts'))
  writeFileSync(join(Layout.runDir(dir, r.runId), 'artifacts', 'plots'), 'a file where a folder should be')
  t.match(left(await r.logArtifact('plots/roc.png', utf8('x'))()), { _tag: 'FileError' })

  const s = right(await sink.openRun({ experimentId, runName: 's', startTime: 1, tags: [] })())
  rmSync(Layout.runDir(dir, s.runId), { recursive: true })
  t.match(left(await sink.reopenRun(s.runId)()), { _tag: 'NotFound' })
  mkdirSync(Layout.runDir(dir, s.runId))
  writeFileSync(Layout.journalPath(dir, s.runId), Codecs.encodeRecord({ t: 'start', format: 1, runId: s.runId, experimentId, runName: 's', startTime: 1, tags: [] }))
  const reopened = await pipe(sink.reopenRun(s.runId), (te) => te())
  t.ok(E.isRight(reopened), 'a journal written back is found again')
})

t.test('a store that cannot be created fails every call, until it can be', async (t) => {
  const dir = tempDir(t)
  const blocked = join(dir, 'store')
  writeFileSync(blocked, 'in the way')
  const sink = await built(localSink({ dir: blocked }))
  t.match(left(await sink.experiment('e')()), { _tag: 'FileError' })
  rmSync(blocked)
  t.ok(E.isRight(await sink.experiment('e')()), 'the store is created on the next call')
  t.equal(sink.name, `local:${blocked}`)
  t.equal(localSink({ dir: blocked }).name, `local:${blocked}`, 'the description has the name too')
  t.equal(sink.dir, blocked)
})

t.test('many distinct keys are all checked and recorded', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const experimentId = right(await sink.experiment('keys')())
  const r = right(await sink.openRun({ experimentId, runName: 'r', startTime: 1, tags: [] })())
  for (let i = 0; i < 10_050; i++) right(await r.logMetrics([{ key: `k${i}`, value: i, step: 0, timestamp: 1 }])())
  t.match(left(await r.logMetrics([{ key: 'bad//key', value: 1, step: 0, timestamp: 1 }])()), { _tag: 'InvalidKey' })
  right(await r.logMetrics([{ key: 'k0', value: 1, step: 1, timestamp: 1 }])())
  right(await r.end('FINISHED', 2)())
  t.equal(right(await LocalStore.loadRun(dir, r.runId)()).metrics, 10_050)
})

t.test('by default the store is $ARMORY_HOME/mlruns', async (t) => {
  const home = tempDir(t)
  withVars(t, { ARMORY_HOME: home })
  t.equal((await built(localSink())).dir, join(home, 'mlruns'))
  t.equal(localSink().name, 'local:$ARMORY_HOME/mlruns')
  const elsewhere = tempDir(t)
  t.equal((await built(localSink(), { vars: { ARMORY_HOME: elsewhere } })).dir, join(elsewhere, 'mlruns'), 'the platform\'s variables')
  t.equal((await built(localSink(), { vars: {}, home: elsewhere })).dir, join(elsewhere, '.armory', 'mlruns'), 'the platform\'s home')
  t.equal((await built(localSink(), { vars: {}, home: undefined })).dir, join(homedir(), '.armory', 'mlruns'), 'the user\'s home when the platform has none')
})

t.test('two processes writing runs into one store at once do not corrupt each other', async (t) => {
  const dir = tempDir(t)
  const [a, b] = await Promise.all([runTs(writer, ['concurrent', dir, 'a']), runTs(writer, ['concurrent', dir, 'b'])])
  t.equal(a.code, 0, a.stderr)
  t.equal(b.code, 0, b.stderr)
  const ids = [
    ...(JSON.parse(a.stdout) as { runIds: Array<string> }).runIds,
    ...(JSON.parse(b.stdout) as { runIds: Array<string> }).runIds
  ]
  t.strictSame(
    right(await LocalStore.listExperiments(dir)()).map((e) => e.name),
    ['shared-0', 'shared-1'],
    'each experiment registered once'
  )
  const runs = right(await LocalStore.listRuns(dir)())
  t.strictSame(runs.map((r) => r.runId).sort(), [...ids].sort())
  for (const summary of runs) {
    const stored = right(await LocalStore.loadRun(dir, summary.runId)())
    const [who, i] = stored.runName.split('-')
    t.equal(stored.status, 'FINISHED')
    t.equal(stored.experimentName, `shared-${Number(i) % 2}`)
    t.equal(stored.metricHistories['loss']?.length, 2000)
    t.ok(stored.metricHistories['loss']?.every((p, step) => p.step === step && p.value === step / 2000))
    t.strictSame(stored.metricHistories['done'], [{ value: Number(i), step: 0, timestamp: stored.metricHistories['done']?.[0]?.timestamp }])
    t.equal(stored.tags['writer'], who)
    t.equal(new TextDecoder().decode(right(await LocalStore.readArtifact(dir, stored.runId, 'who.txt')())), `${who} ${i}`)
  }
})

t.test('SIGKILL mid-run: everything flushed before the kill reads back, the run not finished', async (t) => {
  const dir = tempDir(t)
  const { command, args } = tsNode(writer, ['killed', dir])
  const child = spawn(command, args, { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<NodeJS.Signals | null>((ok) => child.once('exit', (_code, signal) => ok(signal)))
  const flushed = await new Promise<{ runId: string; count: number }>((ok, fail) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const reports = [...out.matchAll(/flushed (\w+) (\d+)\n/g)]
      const last = reports[reports.length - 1]
      if (reports.length >= 3 && last !== undefined) {
        child.kill('SIGKILL')
        ok({ runId: last[1]!, count: Number(last[2]) })
      }
    })
    child.once('exit', () => fail(new Error(`the writer ended before it was killed: ${stderr}`)))
  })
  t.equal(await exited, 'SIGKILL')
  const stored = right(await LocalStore.loadRun(dir, flushed.runId)())
  t.equal(stored.status, 'RUNNING', 'the run is shown as not finished')
  t.equal(stored.endTime, undefined)
  t.strictSame(stored.paramValues, { lr: '0.1' })
  t.equal(stored.tags['phase'], 'train')
  t.strictSame(stored.artifacts, [{ path: 'notes.txt', size: 15 }])
  const loss = stored.metricHistories['loss'] ?? []
  t.ok(loss.length >= flushed.count, `every flushed point is there (${loss.length} >= ${flushed.count})`)
  t.ok(
    loss.every((p, i) => p.value === i && p.step === i && p.timestamp === 2000 + i),
    'the points read back are the ones logged, in order, none missing in between'
  )
  const runs = right(await LocalStore.listRuns(dir)())
  t.strictSame(runs.map((r) => [r.runId, r.status, r.synced]), [[flushed.runId, 'RUNNING', false]])
})
