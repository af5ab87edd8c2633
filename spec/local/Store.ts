import t from 'tap'
import { MetricValue } from '../../lib/Records.js'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t_ from 'io-ts/lib/index.js'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LocalStore, Sink, memorySink, syncStore } from 'charmory-track'
import { runsCommand } from '../../lib/cli/runs.js'
import { openStore } from '../support/local-store.js'

import * as Codecs from '../../lib/local/Codecs.js'
import * as Files from '../../lib/local/Files.js'
import * as Layout from '../../lib/local/Layout.js'
import * as Registry from '../../lib/local/Registry.js'
import * as Summary from '../../lib/local/Summary.js'
import { testIo } from '../support/local-cli.js'
import { left, right, tempDir, writeOldRun } from '../support/local-store.js'

const start = (runId: string, experimentId: string, startTime: number, tags: Array<[string, string]> = []): string =>
  Codecs.encodeRecord({ t: 'start', format: 1, runId, experimentId, runName: `run ${runId}`, startTime, tags })

/** A store holding the experiment `name` and a run written line by line. */
const storeWith = async (dir: string, name: string, runId: string, lines: ReadonlyArray<string>): Promise<string> => {
  right(await Registry.ensureStore(dir)())
  const experimentId = right(await Registry.registerExperiment(dir, name)())
  mkdirSync(Layout.runDir(dir, runId), { recursive: true })
  writeFileSync(Layout.journalPath(dir, runId), [start(runId, experimentId, 1000), ...lines].join(''))
  return experimentId
}

t.test('the store lives in $ARMORY_HOME/mlruns, ARMORY_HOME defaulting to ~/.armory', async (t) => {
  t.equal(LocalStore.defaultStoreDir({}, '/home/ada'), '/home/ada/.armory/mlruns')
  t.equal(LocalStore.defaultStoreDir({ ARMORY_HOME: '' }, '/home/ada'), '/home/ada/.armory/mlruns')
  t.equal(LocalStore.defaultStoreDir({ ARMORY_HOME: '/data/armory' }, '/home/ada'), '/data/armory/mlruns')
  t.equal(LocalStore.armoryHome({ ARMORY_HOME: 'rel' }, '/home/ada'), join(process.cwd(), 'rel'))
})

t.test('metric points are encoded without a whole-record stringify and decode back exactly', async (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.string({ minLength: 1 }),
          fc.double(),
          fc.integer({ min: 0, max: 2 ** 50 }),
          fc.integer({ min: -(2 ** 40), max: 2 ** 40 })
        ),
        { minLength: 1, maxLength: 20 }
      ),
      (points) => {
        const line = Codecs.encodePoints(points.map(([k, v, ts, s]) => Codecs.encodePoint(JSON.stringify(k), v, ts, s)))
        const decoded = Files.decodeLine(Codecs.JournalRecord, line.slice(0, -1), 'journal', 1)
        if (E.isLeft(decoded) || decoded.right.t !== 'metrics') return false
        return decoded.right.m.every(([k, v, ts, s], i) => {
          const [k0, v0, ts0, s0] = points[i]!
          return k === k0 && (Object.is(v, v0) || v === v0) && ts === ts0 && s === s0
        })
      }
    )
  )
  t.equal(Codecs.encodePoint('"a"', NaN, 1, 0), '["a","NaN",1,0]')
  t.equal(Codecs.encodePoint('"a"', -Infinity, 1, 0), '["a","-Infinity",1,0]')
  t.strictSame(Codecs.encodeRecord({ t: 'metrics', m: [['a', Infinity, 5, 2]] }), '{"t":"metrics","m":[["a","Infinity",5,2]]}\n')
})

t.test('a line that does not decode is a DecodeError naming the file, the line and the field', async (t) => {
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '{"t":"metrics"', 'j.jsonl', 7)), {
    _tag: 'DecodeError',
    source: 'j.jsonl:7',
    message: /^not JSON/
  })
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '{"t":"metrics","m":[["a",1,2,3],["b","one",2,3]]}', 'j.jsonl', 3)), {
    _tag: 'DecodeError',
    source: 'j.jsonl:3',
    path: 'm.1.1',
    message: 'expected MetricValue'
  })
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '{"t":"comment"}', 'j.jsonl', 2)), { path: 't', message: /expected a record tag/ })
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '[]', 'j.jsonl', 2)), { path: 't' })
  t.match(left(Files.decodeLine(Codecs.SafeInteger, '1.5', 'f', 1)), { path: '(record)', message: 'expected SafeInteger' })
  const silent = new t_.Type<number>('silent', (u): u is number => false, () => t_.failures([]), (n) => n)
  t.match(left(Files.decodeLine(silent, '1', 'f', 1)), { path: '(record)', message: 'unexpected shape' })
  t.ok(Codecs.JournalRecord.is({ t: 'end', status: 'FINISHED', endTime: 1 }))
  t.notOk(Codecs.RunId.is('../x'))
  t.ok(MetricValue.is(1))
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '{"t":"metrics","m":[["a",null,2,3]]}', 'j', 1)), { path: 'm.0.1' })
})

t.test('readLines walks complete lines across chunk boundaries and skips a torn last line', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'lines.txt')
  const long = 'x'.repeat(700_000)
  writeFileSync(file, `${long}a\n${long}b\nshort\n${long}`)
  const seen: Array<[number, number, number]> = []
  const complete = right(
    await Files.readLines(file, (text, line, end) => E.right(void seen.push([text.length, line, end])))()
  )
  t.strictSame(seen, [
    [700_001, 1, 700_002],
    [700_001, 2, 1_400_004],
    [5, 3, 1_400_010]
  ])
  t.equal(complete, 1_400_010, 'the torn line is not counted')
  t.equal(right(await Files.readLines(join(dir, 'missing'), () => E.right(undefined))()), 0, 'a missing file has no lines')
  const stopped = await Files.readLines(file, async (_text, line) => (line === 2 ? E.left(Files.decodeLine(Codecs.SafeInteger, 'x', file, 2) as never) : E.right(undefined)))()
  t.ok(E.isLeft(stopped), 'onLine stops the walk with a Left')
  t.match(left(await Files.readLines(dir, () => E.right(undefined))()), { _tag: 'FileError', path: dir })
  t.match(left(await Files.readLines(join(file, 'below'), () => E.right(undefined))()), { _tag: 'FileError' })
})

t.test('a journal starts with exactly one start record', async (t) => {
  const dir = tempDir(t)
  await storeWith(dir, 'e', 'r1', [Codecs.encodeRecord({ t: 'params', params: [['a', '1']] })])
  mkdirSync(Layout.runDir(dir, 'r2'))
  writeFileSync(Layout.journalPath(dir, 'r2'), '')
  t.match(left(await LocalStore.loadRun(dir, 'r2')()), { _tag: 'NotFound', id: 'r2' }, 'an empty journal holds no run')
  mkdirSync(Layout.runDir(dir, 'r3'))
  writeFileSync(Layout.journalPath(dir, 'r3'), Codecs.encodeRecord({ t: 'params', params: [] }))
  t.match(left(await LocalStore.loadRun(dir, 'r3')()), { _tag: 'DecodeError', source: `${Layout.journalPath(dir, 'r3')}:1`, path: 't' }, 'no start: the run cannot be read')
  mkdirSync(Layout.runDir(dir, 'r4'))
  writeFileSync(Layout.journalPath(dir, 'r4'), start('r4', 'x', 1) + start('r4', 'x', 1))
  t.match(right(await LocalStore.loadRun(dir, 'r4')()), { runId: 'r4', unreadable: [{ _tag: 'DecodeError', source: `${Layout.journalPath(dir, 'r4')}:2`, path: 't' }] })
  appendFileSync(Layout.journalPath(dir, 'r1'), '{"t":"params","params":[["a"]]}\n' + Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 2 }))
  t.match(
    right(await LocalStore.listRuns(dir)()),
    [
      { runId: 'r1', status: 'FINISHED', params: 1, unreadable: [{ _tag: 'DecodeError', source: `${Layout.journalPath(dir, 'r1')}:3`, path: 'params.0' }] },
      { runId: 'r4', unreadable: [{ source: `${Layout.journalPath(dir, 'r4')}:2` }] }
    ],
    'the runs that have a start are listed, each with the lines skipped; r2 and r3 have none'
  )
})

t.test('listRuns and loadRun read runs back, newest first, with counts and sync state', async (t) => {
  const dir = tempDir(t)
  const expA = await storeWith(dir, 'alpha', 'r1', [
    Codecs.encodeRecord({ t: 'params', params: [['lr', '0.1'], ['bs', '16']] }),
    Codecs.encodeRecord({ t: 'metrics', m: [['loss', 0.5, 1001, 1], ['acc', NaN, 1001, 1], ['loss', 0.25, 1002, 2]] }),
    Codecs.encodeRecord({ t: 'tags', tags: [['phase', 'train']] }),
    Codecs.encodeRecord({ t: 'artifact', path: 'b.txt', size: 3 }),
    Codecs.encodeRecord({ t: 'artifact', path: 'a/x.bin', size: 2 }),
    Codecs.encodeRecord({ t: 'artifact', path: 'b.txt', size: 4 }),
    Codecs.encodeRecord({ t: 'end', status: 'FAILED', endTime: 1500 })
  ])
  const expB = right(await Registry.registerExperiment(dir, 'beta')())
  mkdirSync(Layout.runDir(dir, 'r2'))
  writeFileSync(Layout.journalPath(dir, 'r2'), start('r2', expB, 2000, [['mlflow.parentRunId', 'r1']]) + '{"t":"par')
  mkdirSync(Layout.runDir(dir, 'r0'), { recursive: true })
  mkdirSync(Layout.runDir(dir, 'r5'), { recursive: true })
  writeFileSync(Layout.journalPath(dir, 'r5'), start('r5', 'gone', 2000))

  const runs = right(await LocalStore.listRuns(dir)())
  t.strictSame(
    runs.map((r) => [r.runId, r.experimentName, r.status, r.params, r.metrics, r.parentRunId, r.synced]),
    [
      ['r2', 'beta', 'RUNNING', 0, 0, 'r1', false],
      ['r5', 'gone', 'RUNNING', 0, 0, undefined, false],
      ['r1', 'alpha', 'FAILED', 2, 2, undefined, false]
    ],
    'a run folder without journal is left out; an unknown experiment shows its id'
  )
  t.strictSame(
    right(await LocalStore.listRuns(dir, { experiment: 'alpha' })()).map((r) => r.runId),
    ['r1']
  )

  const r1 = right(await LocalStore.loadRun(dir, 'r1')())
  t.match(r1, {
    runId: 'r1',
    experimentId: expA,
    experimentName: 'alpha',
    runName: 'run r1',
    status: 'FAILED',
    startTime: 1000,
    endTime: 1500,
    paramValues: { lr: '0.1', bs: '16' },
    tags: { phase: 'train' },
    artifacts: [
      { path: 'a/x.bin', size: 2 },
      { path: 'b.txt', size: 4 }
    ]
  })
  t.strictSame(r1.metricHistories['loss'], [
    { value: 0.5, timestamp: 1001, step: 1 },
    { value: 0.25, timestamp: 1002, step: 2 }
  ])
  t.ok(Number.isNaN(r1.metricHistories['acc']?.[0]?.value))

  const r2 = right(await LocalStore.loadRun(dir, 'r2')())
  t.equal(r2.journalBytes, Buffer.byteLength(start('r2', expB, 2000, [['mlflow.parentRunId', 'r1']])), 'the torn line is ignored')

  right(await Registry.recordSyncState(dir, 'r1', { target: 'memory', remoteRunId: 'x1', offset: 10 })())
  right(await Registry.recordSyncState(dir, 'r1', { target: 'other', remoteRunId: 'y1', offset: 10 })())
  t.equal(right(await LocalStore.loadRun(dir, 'r1')()).synced, false, 'a partial sync is not synced')
  right(await Registry.recordSyncState(dir, 'r1', { target: 'memory', remoteRunId: 'x1', offset: r1.journalBytes })())
  const synced = right(await LocalStore.loadRun(dir, 'r1')())
  t.equal(synced.synced, true)
  t.strictSame(synced.sync, [
    { target: 'memory', remoteRunId: 'x1', offset: r1.journalBytes },
    { target: 'other', remoteRunId: 'y1', offset: 10 }
  ])

  t.match(left(await LocalStore.loadRun(dir, 'nope')()), { _tag: 'NotFound', what: 'run', id: 'nope' })
  t.match(left(await LocalStore.loadRun(dir, 'r0')()), { _tag: 'NotFound', what: 'run', id: 'r0' })
  t.match(left(await LocalStore.loadRun(dir, '../r1')()), { _tag: 'NotFound', what: 'run', id: '../r1' })
})

t.test('a corrupt sync record is a DecodeError; a torn one is ignored', async (t) => {
  const dir = tempDir(t)
  await storeWith(dir, 'e', 'r1', [])
  appendFileSync(Layout.syncPath(dir, 'r1'), '{"target":"m","remoteRunId":"x","offset":3}\n{"target":"m"')
  t.strictSame(right(await Registry.readSyncStates(dir, 'r1')()), [{ target: 'm', remoteRunId: 'x', offset: 3 }])
  appendFileSync(Layout.syncPath(dir, 'r1'), '}\n')
  t.match(left(await LocalStore.listRuns(dir)()), { _tag: 'DecodeError', source: `${Layout.syncPath(dir, 'r1')}:2`, path: 'remoteRunId' })
})

t.test('experiments are registered once, by name, also when registered many times at once', async (t) => {
  const dir = tempDir(t)
  t.strictSame(right(await LocalStore.listExperiments(dir)()), [], 'a folder without a store has no experiments')
  right(await Registry.ensureStore(dir)())
  const ids = await Promise.all(Array.from({ length: 20 }, () => Registry.registerExperiment(dir, 'mnist')()))
  const id = right(ids[0]!)
  t.ok(ids.every((r) => E.isRight(r) && r.right === id), 'every registration gets the same id')
  t.equal(id, Layout.experimentIdOf('mnist'))
  right(await Registry.registerExperiment(dir, 'cifar')())
  writeFileSync(join(dir, 'experiments', 'notes.txt'), 'not an experiment')
  t.strictSame(right(await LocalStore.listExperiments(dir)()), [
    { experimentId: Layout.experimentIdOf('cifar'), name: 'cifar' },
    { experimentId: id, name: 'mnist' }
  ])
  t.strictSame(
    readdirSync(join(dir, 'experiments')).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file is left behind'
  )
  t.equal(right(await Registry.readExperiment(dir, 'not-an-id')()), undefined)
  t.equal(right(await Registry.readExperiment(dir, Layout.experimentIdOf('unknown'))()), undefined)
})

t.test('an experiment file that names another experiment is refused', async (t) => {
  const dir = tempDir(t)
  right(await Registry.ensureStore(dir)())
  writeFileSync(join(dir, 'experiments', `${Layout.experimentIdOf('a')}.json`), JSON.stringify({ experimentId: 'x', name: 'b' }))
  t.match(left(await Registry.registerExperiment(dir, 'a')()), { _tag: 'DecodeError', path: 'name' })
  writeFileSync(join(dir, 'experiments', `${Layout.experimentIdOf('c')}.json`), '{"name": 3}')
  t.match(left(await LocalStore.listExperiments(dir)()), { _tag: 'DecodeError', source: /\.json:1$/ })
})

t.test('a store of another format or version is refused', async (t) => {
  const dir = tempDir(t)
  right(await Registry.ensureStore(dir)())
  right(await Registry.ensureStore(dir)())
  t.strictSame(JSON.parse(readFileSync(join(dir, 'charmory-store.json'), 'utf8')), {
    format: 'charmory-track-local-store',
    version: 1
  })
  writeFileSync(join(dir, 'charmory-store.json'), '{"format":"charmory-track-local-store","version":2}')
  t.match(left(await Registry.ensureStore(dir)()), { _tag: 'DecodeError', path: 'version' })
})

t.test('file system failures are FileErrors naming the path', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'a-file')
  writeFileSync(file, '')
  t.match(left(await Registry.ensureStore(join(file, 'store'))()), { _tag: 'FileError', path: join(file, 'store') })
  t.match(left(await Files.createExclusive(join(dir, 'missing', 'x'), 'x')()), { _tag: 'FileError' })
  const refusing = () => Promise.reject(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }))
  t.match(left(await Files.createExclusive(join(dir, 'x'), 'x', refusing)()), { _tag: 'FileError', message: 'operation not permitted' })
  t.strictSame(readdirSync(dir), ['a-file'], 'the temporary file is removed')
  t.match(left(await Files.createExclusive(join(dir, 'x'), 'x', () => Promise.reject('no links here'))()), { message: 'no links here' })
  t.equal(right(await Files.createExclusive(join(dir, 'y'), 'y')()), true)
  t.equal(right(await Files.createExclusive(join(dir, 'y'), 'z')()), false)
  t.equal(readFileSync(join(dir, 'y'), 'utf8'), 'y', 'the first writer wins')
  t.match(left(await Files.replaceFile(join(dir, 'missing', 'x'), 'x')()), { _tag: 'FileError' })
  t.match(left(await Registry.recordSyncState(dir, 'missing', { target: 'm', remoteRunId: 'x', offset: 1 })()), { _tag: 'FileError' })
  const store = join(dir, 'store')
  right(await Registry.ensureStore(store)())
  mkdirSync(join(store, 'experiments', `${Layout.experimentIdOf('e')}.json`))
  t.match(left(await Registry.readExperiment(store, Layout.experimentIdOf('e'))()), { _tag: 'FileError' })
  const flat = join(dir, 'flat')
  mkdirSync(flat)
  writeFileSync(join(flat, 'runs'), '')
  t.match(left(await LocalStore.listRuns(flat)()), { _tag: 'FileError', path: join(flat, 'runs') })
})

t.test('readArtifact reads an artifact of a run', async (t) => {
  const dir = tempDir(t)
  await storeWith(dir, 'e', 'r1', [])
  mkdirSync(join(Layout.runDir(dir, 'r1'), 'artifacts', 'plots', 'roc'), { recursive: true })
  writeFileSync(Layout.artifactFile(dir, 'r1', 'plots/a.txt'), 'abc')
  t.strictSame(right(await LocalStore.readArtifact(dir, 'r1', 'plots/./a.txt')()), new Uint8Array([97, 98, 99]))
  t.match(left(await LocalStore.readArtifact(dir, 'r1', 'plots/b.txt')()), { _tag: 'NotFound', what: 'artifact', id: 'r1/plots/b.txt' })
  t.match(left(await LocalStore.readArtifact(dir, 'r1', '../journal.jsonl')()), { _tag: 'InvalidArtifactPath' })
  t.match(left(await LocalStore.readArtifact(dir, '..', 'journal.jsonl')()), { _tag: 'NotFound', what: 'run' })
  t.match(left(await LocalStore.readArtifact(dir, 'r1', 'plots/roc')()), { _tag: 'FileError' })
})
t.test('inputs records decode, a bad one names its field; journals from 0.1 read with no inputs', async (t) => {
  const line = '{"t":"inputs","datasets":[{"name":"d","digest":"abc","sourceType":"local","source":"{}","schema":"s","tags":[["mlflow.data.context","eval"]]}]}'
  t.match(Files.decodeLine(Codecs.JournalRecord, line, 'j', 4), { right: { t: 'inputs', datasets: [{ name: 'd', schema: 's' }] } })
  t.match(left(Files.decodeLine(Codecs.JournalRecord, '{"t":"inputs","datasets":[{"name":"d","digest":1}]}', 'j', 4)), { _tag: 'DecodeError', path: /datasets\.0/ })
  t.equal(Codecs.encodeRecord({ t: 'inputs', datasets: [] }), '{"t":"inputs","datasets":[]}\n')
  const dir = tempDir(t)
  mkdirSync(join(dir, 'runs', 'old'), { recursive: true })
  writeFileSync(
    Layout.journalPath(dir, 'old'),
    '{"t":"start","format":1,"runId":"old","experimentId":"e","runName":"r","startTime":1,"tags":[]}\n{"t":"end","status":"FINISHED","endTime":2}\n'
  )
  t.strictSame(right(await LocalStore.loadRun(dir, 'old')()).inputs, [])
})

t.test('listing keeps a summary per run: read while current, rebuilt when missing, damaged or behind the journal', async (t) => {
  const dir = tempDir(t)
  const runId = 'a'.repeat(32)
  const points = Codecs.encodePoints([Codecs.encodePoint('"loss"', 0.5, 10, 1), Codecs.encodePoint('"loss"', NaN, 11, 2), Codecs.encodePoint('"acc"', 0.9, 12, 0)])
  await storeWith(dir, 'exp', runId, [Codecs.encodeRecord({ t: 'params', params: [['lr', '0.1']] }), points])
  const first = right(await LocalStore.listRuns(dir)())
  t.match(first, [{ runId, runName: `run ${runId}`, status: 'RUNNING', params: 1, metrics: 2 }])
  const file = Layout.summaryPath(dir, runId)
  const summary = right(Codecs.SummaryFile.decode(JSON.parse(readFileSync(file, 'utf8'))) as E.Either<never, Codecs.SummaryFile>)
  t.strictSame(summary.latest, { loss: [NaN, 11, 2], acc: [0.9, 12, 0] }, 'each metric keeps its latest point, NaN included')
  t.equal(summary.journalBytes, readFileSync(Layout.journalPath(dir, runId)).length)

  // a current summary is what is read: the journal is not
  writeFileSync(file, JSON.stringify({ ...Codecs.SummaryFile.encode(summary), start: { ...Codecs.SummaryFile.encode(summary).start, runName: 'from the summary' } }))
  t.equal(right(await LocalStore.listRuns(dir)())[0]?.runName, 'from the summary')

  // a summary written before 0.3.0 has no `unreadable`: none
  const { unreadable: _none, ...older } = Codecs.SummaryFile.encode(summary) as Record<string, unknown>
  writeFileSync(file, JSON.stringify(older))
  t.match(right(await LocalStore.listRuns(dir)()), [{ runId, unreadable: [] }])
  t.match(left(Files.decodeLine(Codecs.SummaryFile, JSON.stringify({ ...older, latest: { loss: [1, 'noon', 2] } }), file, 1)), { path: 'latest.loss.1' })
  t.notOk(Codecs.ownRecord(Codecs.SafeInteger).is([]), 'an own record is a record')
  t.ok(Codecs.ownRecord(Codecs.SafeInteger).is({ ['__proto__']: 1 }) && !Codecs.ownRecord(Codecs.SafeInteger).is({ a: 1.5 }))

  // the journal grew: the summary is behind, and rebuilt
  appendFileSync(Layout.journalPath(dir, runId), Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 2000 }))
  t.match(right(await LocalStore.listRuns(dir)()), [{ runName: `run ${runId}`, status: 'FINISHED', endTime: 2000 }])
  t.equal(JSON.parse(readFileSync(file, 'utf8')).status, 'FINISHED', 'and written back')

  // damaged (a crash while it was written, a format from elsewhere): rebuilt
  for (const damage of ['{"format":', JSON.stringify({ format: 'charmory-track-run-summary', version: 2 })]) {
    writeFileSync(file, damage)
    t.match(right(await LocalStore.listRuns(dir)()), [{ runName: `run ${runId}`, status: 'FINISHED', params: 1, metrics: 2 }])
    t.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1)
  }

  // a store where it cannot be written is read from the journal every time
  rmSync(file)
  mkdirSync(file)
  t.match(right(await LocalStore.listRuns(dir)()), [{ runName: `run ${runId}`, status: 'FINISHED' }])
  t.strictSame(readdirSync(Layout.runDir(dir, runId)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left behind')

  // the local sink's searches read the same summaries
  rmSync(file, { recursive: true })
  const found = right(await openStore(dir).query.searchRuns({ filter: 'metrics.acc > 0.5' })())
  t.match(found.runs, [{ runId, status: 'FINISHED', params: { lr: '0.1' }, metrics: { acc: 0.9 } }])
  t.ok(existsSync(file))
})

t.test('a journal that holds its run several times (replayed into it by a sync) reads back as one copy everywhere', async (t) => {
  const dir = tempDir(t)
  const runId = 'b'.repeat(32)
  const loss = (steps: ReadonlyArray<number>): Codecs.JournalRecord => ({ t: 'metrics', m: steps.map((s) => ['loss', 1 / (s + 1), 1000 + s, s] as const) })
  // `down` is logged against the order of its steps: distinct points, which must all stay
  const down: Codecs.JournalRecord = { t: 'metrics', m: [4, 3, 2, 1, 0].map((s) => ['down', s, 2000, s] as const) }
  const copy = (end: Codecs.JournalRecord): ReadonlyArray<Codecs.JournalRecord> => [
    { t: 'params', params: [['lr', '0.1']] },
    { t: 'tags', tags: [['phase', 'eval']] },
    loss([0, 1, 2, 3, 4]),
    loss([5, 6, 7, 8, 9, 9]),
    down,
    end
  ]
  const failed: Codecs.JournalRecord = { t: 'end', status: 'FAILED', endTime: 1500 }
  await writeOldRun(dir, 'polluted', runId, [
    ...copy(failed),
    ...copy(failed),
    // the same points batched otherwise, one point never logged before, and the last end
    loss([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ...copy({ t: 'end', status: 'FINISHED', endTime: 3000 }),
    loss([10])
  ])
  const lossOnce = Array.from({ length: 11 }, (_, s) => ({ value: 1 / (s + 1), timestamp: 1000 + s, step: s }))
  const downOnce = [4, 3, 2, 1, 0].map((s) => ({ value: s, timestamp: 2000, step: s }))

  const stored = right(await LocalStore.loadRun(dir, runId)())
  t.strictSame(stored.metricHistories, { loss: lossOnce, down: downOnce }, 'loadRun: every point once, in the order first logged')
  t.match(stored, { status: 'FINISHED', endTime: 3000, params: 1, metrics: 2, paramValues: { lr: '0.1' }, tags: { phase: 'eval' } }, 'ended as its last end record says')

  t.match(right(await LocalStore.listRuns(dir)()), [{ runId, status: 'FINISHED', endTime: 3000, params: 1, metrics: 2 }], 'listRuns')
  const summary = right(await Summary.readSummary(dir, runId)())
  t.match(summary, { status: 'FINISHED', endTime: 3000, latest: { loss: [1 / 11, 1010, 10], down: [4, 2000, 4] } }, 'summary.json')

  const query = openStore(dir).query
  const history = right(await query.getMetricHistory(runId, 'loss')())
  t.strictSame(history.metrics.map((m) => [m.step, m.value]), lossOnce.map((p) => [p.step, p.value]), 'getMetricHistory')
  t.equal(right(await query.getMetricHistory(runId, 'down')()).metrics.length, 5)
  t.match(right(await query.searchRuns({ experiments: ['polluted'], filter: 'metrics.loss < 0.1' })()).runs, [{ runId, status: 'FINISHED' }], 'searchRuns')
  t.match(right(await query.getRun(runId)()), { status: 'FINISHED', endTime: 3000, metrics: { loss: 1 / 11, down: 4 } }, 'getRun')

  const target = memorySink()
  let sent = 0
  const count = TE.map((rs: Sink.RunSink): Sink.RunSink => ({ ...rs, logMetrics: (ms) => ((sent += ms.length), rs.logMetrics(ms)) }))
  const counting: Sink.Sink = { ...target, openRun: (request) => count(target.openRun(request)), reopenRun: (id) => count(target.reopenRun(id)) }
  t.match(right(await syncStore(dir, counting, { dryRun: true })()).runs, [{ runId, metrics: 16 }], 'a dry run counts each point once')
  const report = right(await syncStore(dir, counting)())
  t.match(report.runs, [{ runId, metrics: 16, params: 3, error: undefined }])
  t.equal(sent, 16, 'a sync sends each point once')
  t.match(target.snapshot().runs, [{ status: 'FINISHED', endTime: 3000, metrics: { loss: lossOnce, down: downOnce } }])
})

t.test('a store with unreadable lines still lists, loads, searches, syncs and shows its runs, each bad line named', async (t) => {
  const io = testIo(t)
  const dir = join(io.home, '.armory', 'mlruns')
  const [bad, good, headless] = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)]
  const points = (...p: ReadonlyArray<readonly [string, number, number]>) => Codecs.encodePoints(p.map(([k, v, s]) => Codecs.encodePoint(JSON.stringify(k), v, 1000 + s, s)))
  const unreadable: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['garbage\n', '(line)', /^not JSON/],
    ['{"t":"params","params":[["a"]]}\n', 'params.0', /expected/],
    // what logMetric(123, 1) wrote before the key was checked
    ['{"t":"metrics","m":[[123,1,1000,0]]}\n', 'm.0.0', /expected string/],
    ['{"t":"comment","text":"x"}\n', 't', /record tag/],
    [start(bad, 'x', 1), 't', /one "start" record/]
  ]
  await storeWith(dir, 'broken', bad, [
    Codecs.encodeRecord({ t: 'params', params: [['lr', '0.1'], ['__proto__', 'p']] }),
    unreadable[0]![0],
    points(['m', 1, 0], ['toString', NaN, 0]),
    unreadable[1]![0],
    unreadable[2]![0],
    Codecs.encodeRecord({ t: 'tags', tags: [['constructor', 'c']] }),
    unreadable[3]![0],
    points(['m', 2, 1]),
    unreadable[4]![0],
    Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 5000 })
  ])
  await storeWith(dir, 'fine', good, [points(['m', 7, 0]), Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 2000 })])
  mkdirSync(Layout.runDir(dir, headless))
  writeFileSync(Layout.journalPath(dir, headless), 'garbage\n' + Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 1 }))
  const lines = unreadable.map(([, path, message], i) => ({ _tag: 'DecodeError', source: `${Layout.journalPath(dir, bad)}:${[3, 5, 6, 8, 10][i]}`, path, message }))

  for (const pass of ['built from the journals', 'read from the summaries']) {
    const listed = right(await LocalStore.listRuns(dir)())
    t.match(listed, [{ runId: bad, status: 'FINISHED', params: 2, metrics: 2, unreadable: lines }, { runId: good, unreadable: [] }], pass)
    t.equal(listed.length, 2, `${pass}: the run whose first line cannot be read is left out`)
  }
  const loaded = right(await LocalStore.loadRun(dir, bad)())
  t.match(loaded, { status: 'FINISHED', endTime: 5000, unreadable: lines })
  t.strictSame(loaded.paramValues, { lr: '0.1', ['__proto__']: 'p' })
  t.strictSame(loaded.tags['constructor'], 'c')
  t.strictSame(loaded.metricHistories['m']?.map((p) => p.value), [1, 2])
  t.ok(Number.isNaN(loaded.metricHistories['toString']?.[0]?.value))
  t.match(left(await LocalStore.loadRun(dir, headless)()), { _tag: 'DecodeError', source: `${Layout.journalPath(dir, headless)}:1` })

  const q = openStore(dir).query
  const ids = async (request: Parameters<typeof q.searchRuns>[0]): Promise<ReadonlyArray<string>> =>
    right(await q.searchRuns(request)()).runs.map((r) => r.runId).sort()
  t.strictSame(await ids({}), [bad, good], 'every search of the store answers')
  t.strictSame(await ids({ experiments: ['fine'] }), [good], 'other experiments too')
  t.strictSame(await ids({ filter: "params.`__proto__` = 'p' and tags.constructor = 'c'" }), [bad])
  const found = right(await q.getRun(bad)())
  t.strictSame([found.params['__proto__'], found.tags['constructor'], found.metrics['m']], ['p', 'c', 2])
  t.ok(Number.isNaN(found.metrics['toString']), 'a NaN metric named toString comes back from the summary')
  t.strictSame(right(await q.getMetricHistory(bad, 'm')()).metrics.map((m) => m.value), [1, 2])
  t.match(left(await q.getRun(headless)()), { _tag: 'NotFound', id: headless })

  const target = memorySink()
  const report = right(await syncStore(dir, target)())
  t.match(report.runs.find((r) => r.runId === bad), { error: undefined, unreadable: lines, params: 2, metrics: 3 }, 'the rest of the run is sent')
  const pushed = target.snapshot().runs.find((r) => r.runName === `run ${bad}`)
  t.strictSame(pushed?.metrics['m']?.map((p) => p.value), [1, 2])
  t.equal(pushed?.params['__proto__'], 'p')
  t.equal(pushed?.status, 'FINISHED')

  t.equal(await runsCommand([], io), 0)
  t.match(io.out(), new RegExp(`broken +${bad}[^\\n]*\\n[^\\n]*fine +${good}`))
  for (const line of [3, 5, 6, 8, 10]) t.match(io.err(), `${Layout.journalPath(dir, bad)}:${line}`)
})
