// The sweep of bad inputs from plain JavaScript (issue 18): what a caller without a type checker
// may pass, cast through `unknown`, to every argument of the run handle, of `evaluate`'s spec,
// of `reopen`, of the pipeline steps (tracking, queries, the gate), of the sinks' queries and of
// the wrappers. The sweep is data: one row per call, with the bad argument, the error's tag and
// the field the error must name. `inputSweep` runs every row against one sink and checks that
// each is refused with that typed error (a `Left` from `run`, a `TrackException` from the run
// handle, thrown by a wrapper when it wraps), never a `TypeError` nor a synchronous throw, and
// that what was recorded before is intact.
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { Test } from 'tap'
import { Errors, Sink, evaluate, fork, fromRecorded, Gate, getParams, Query, reopen, run, Track, trackParam, withInitParams, withParams, type RunHandle } from 'charmory-track'
import type { RunView } from './behaviour.js'

// -------------------------------------------------------------------------------------
// the values
// -------------------------------------------------------------------------------------

/** What a value is, to pick the values an argument does not take. */
type Kind = 'string' | 'number' | 'boolean' | 'record' | 'array' | 'function' | 'bytes' | 'null' | 'undefined' | 'other'

interface Value {
  /** How a row shows it. */
  readonly label: string
  readonly value: unknown
  readonly kind: Kind
  /** How an `InvalidKey` names it when it is given as a key. */
  readonly asKey: string
}

const cyclic: Record<string, unknown> = {}
cyclic['self'] = cyclic

/** A record whose field `name` throws when it is read, as a lazy config object may. */
const throwing = (name: string): Record<string, unknown> =>
  Object.defineProperty({}, name, {
    enumerable: true,
    get: () => {
      throw new Error(`reading ${name} failed`)
    }
  })

const VALUES: ReadonlyArray<Value> = [
  { label: 'null', value: null, kind: 'null', asKey: 'null' },
  { label: 'undefined', value: undefined, kind: 'undefined', asKey: 'undefined' },
  { label: '0', value: 0, kind: 'number', asKey: '0' },
  { label: '123', value: 123, kind: 'number', asKey: '123' },
  { label: 'NaN', value: NaN, kind: 'number', asKey: 'NaN' },
  { label: '-Infinity', value: -Infinity, kind: 'number', asKey: '-Infinity' },
  { label: '1.5', value: 1.5, kind: 'number', asKey: '1.5' },
  { label: "''", value: '', kind: 'string', asKey: '' },
  { label: "'false'", value: 'false', kind: 'string', asKey: 'false' },
  { label: 'true', value: true, kind: 'boolean', asKey: 'true' },
  { label: 'false', value: false, kind: 'boolean', asKey: 'false' },
  { label: '{ a: 1 }', value: { a: 1 }, kind: 'record', asKey: 'an object' },
  { label: 'Object.create(null)', value: Object.create(null), kind: 'record', asKey: 'an object' },
  { label: '[1, 2]', value: [1, 2], kind: 'array', asKey: 'an array' },
  { label: '[]', value: [], kind: 'array', asKey: 'an array' },
  { label: '() => 1', value: () => 1, kind: 'function', asKey: 'a function' },
  { label: 'class', value: class Model {}, kind: 'function', asKey: 'a function' },
  { label: "Symbol('s')", value: Symbol('s'), kind: 'other', asKey: 'Symbol(s)' },
  { label: '10n', value: 10n, kind: 'other', asKey: '10' },
  { label: 'new Date(0)', value: new Date(0), kind: 'other', asKey: 'a Date' },
  { label: 'new Map()', value: new Map([['a', 1]]), kind: 'other', asKey: 'a Map' },
  { label: 'new Set()', value: new Set([1]), kind: 'other', asKey: 'a Set' },
  { label: 'Uint8Array', value: new Uint8Array([1]), kind: 'bytes', asKey: 'a Uint8Array' },
  { label: '/re/', value: /re/, kind: 'other', asKey: 'a RegExp' },
  { label: 'new Error()', value: new Error('e'), kind: 'other', asKey: 'an Error' }
]

/** The values that are none of `kinds`. */
const besides = (...kinds: ReadonlyArray<Kind>): ReadonlyArray<Value> => VALUES.filter((v) => !kinds.includes(v.kind))

/** Keys MLflow refuses, as strings. */
const BAD_KEYS: ReadonlyArray<string> = ['', 'a//b', '/lead', 'trail/', 'a/./b', 'a/../b', 'comma,key', 'x'.repeat(251), 'new\nline', 'semi;colon', 'star*', 'quote"']

/** Bytes that are not the image their path says. */
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])
const NOT_IMAGES: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['x.png', new TextEncoder().encode('<html>not a png</html>')],
  ['x.png', new Uint8Array(0)],
  ['x.jpg', PNG],
  ['x.jpeg', new TextEncoder().encode('JFIF')],
  ['x.gif', PNG],
  ['x.bmp', PNG],
  ['x.webp', new TextEncoder().encode('RIFF....WAVE')],
  ['x.tif', PNG],
  ['x.TIFF', new TextEncoder().encode('II')]
]

// -------------------------------------------------------------------------------------
// the rows
// -------------------------------------------------------------------------------------

/** One bad call: what is called, with which bad argument, and the error it must give. */
export interface Row<S> {
  readonly call: string
  readonly bad: string
  readonly act: (subject: S) => unknown
  readonly tag: Errors.TrackError['_tag']
  /** What the error names: the key, the path, the field (a pattern for a message). */
  readonly field: string | RegExp
}

const js = <A>(u: unknown): A => u as A
const row = <S>(call: string, bad: string, act: (s: S) => unknown, tag: Errors.TrackError['_tag'], field: string | RegExp): Row<S> => ({ call, bad, act, tag, field })

/** Bad calls of the run handle. */
export const handleRows: ReadonlyArray<Row<RunHandle>> = [
  ...besides('string').map((v) => row<RunHandle>('logMetric(key, 1)', v.label, (r) => r.logMetric(js(v.value), 1), 'InvalidKey', v.asKey)),
  ...BAD_KEYS.map((k) => row<RunHandle>('logMetric(key, 1)', JSON.stringify(k), (r) => r.logMetric(k, 1), 'InvalidKey', k)),
  ...besides('number').map((v) => row<RunHandle>("logMetric('loss', value)", v.label, (r) => r.logMetric('loss', js(v.value)), 'InvalidValue', 'loss')),
  ...besides('record', 'undefined').map((v) => row<RunHandle>("logMetric('loss', 1, options)", v.label, (r) => r.logMetric('loss', 1, js(v.value)), 'InvalidValue', 'options')),
  ...[1.5, NaN, Infinity, '1', null, true, [], 2 ** 53].map((step) =>
    row<RunHandle>("logMetric('loss', 1, { step })", String(JSON.stringify(step)), (r) => r.logMetric('loss', 1, js({ step })), 'InvalidValue', 'loss')
  ),
  ...[1.5, 'now', null, -Infinity, new Date(0)].map((timestamp) =>
    row<RunHandle>("logMetric('loss', 1, { timestamp })", String(timestamp), (r) => r.logMetric('loss', 1, js({ timestamp })), 'InvalidValue', 'loss')
  ),
  ...besides('record').map((v) => row<RunHandle>('logMetrics(metrics)', v.label, (r) => r.logMetrics(js(v.value)), 'InvalidValue', 'metrics')),
  row<RunHandle>('logMetrics(metrics)', "{ 'a//b': 1 }", (r) => r.logMetrics({ 'a//b': 1 }), 'InvalidKey', 'a//b'),
  row<RunHandle>('logMetrics(metrics)', "{ a: 'x' }", (r) => r.logMetrics(js({ a: 'x' })), 'InvalidValue', 'a'),
  row<RunHandle>('logMetrics(metrics)', '{ a: null }', (r) => r.logMetrics(js({ a: null })), 'InvalidValue', 'a'),
  row<RunHandle>('logMetrics(metrics, options)', "'step 1'", (r) => r.logMetrics({ a: 1 }, js('step 1')), 'InvalidValue', 'options'),
  row<RunHandle>('logMetrics(metrics)', 'a throwing getter', (r) => r.logMetrics(js(throwing('a'))), 'TaskFailed', /reading a failed/),
  ...besides('string').map((v) => row<RunHandle>("setTag(key, 'x')", v.label, (r) => r.setTag(js(v.value), 'x'), 'InvalidKey', v.asKey)),
  ...BAD_KEYS.slice(0, 4).map((k) => row<RunHandle>("setTag(key, 'x')", JSON.stringify(k), (r) => r.setTag(k, 'x'), 'InvalidKey', k)),
  ...besides('string', 'number', 'boolean').map((v) => row<RunHandle>("setTag('stage', value)", v.label, (r) => r.setTag('stage', js(v.value)), 'InvalidValue', 'stage')),
  ...besides('string').map((v) => row<RunHandle>('logParam(key, 1)', v.label, (r) => r.logParam(js(v.value), 1), 'InvalidKey', v.asKey)),
  ...BAD_KEYS.slice(0, 4).map((k) => row<RunHandle>('logParam(key, 1)', JSON.stringify(k), (r) => r.logParam(k, 1), 'InvalidKey', k)),
  row<RunHandle>("logParam('p', value)", 'undefined', (r) => r.logParam('p', undefined), 'InvalidValue', 'p'),
  row<RunHandle>("logParam('p', value)", "Symbol('s')", (r) => r.logParam('p', Symbol('s')), 'InvalidValue', 'p'),
  row<RunHandle>("logParam('p', value)", 'a cycle', (r) => r.logParam('p', cyclic), 'InvalidValue', 'p.self'),
  row<RunHandle>("logParam('p', value)", 'new Date(NaN)', (r) => r.logParam('p', new Date(NaN)), 'InvalidValue', 'p'),
  row<RunHandle>("logParam('p', value)", "{ 'x,': 1 }", (r) => r.logParam('p', { 'x,': 1 }), 'InvalidKey', 'p.x,'),
  row<RunHandle>("logParam('p', value)", 'a throwing getter', (r) => r.logParam('p', throwing('lazy')), 'InvalidValue', 'p'),
  ...besides('record').map((v) => row<RunHandle>('logParams(params)', v.label, (r) => r.logParams(js(v.value)), 'InvalidValue', 'params')),
  row<RunHandle>('logParams(params)', '{ seed: undefined }', (r) => r.logParams({ seed: undefined }), 'InvalidValue', 'seed'),
  ...besides('string', 'record').map((v) => row<RunHandle>('logArtifact(source)', v.label, (r) => r.logArtifact(js(v.value)), 'InvalidValue', 'source')),
  ...besides('string').map((v) => row<RunHandle>("logArtifact({ path, text: 't' })", v.label, (r) => r.logArtifact(js({ path: v.value, text: 't' })), 'InvalidValue', 'path')),
  ...besides('bytes').map((v) => row<RunHandle>("logArtifact({ path: 'a.bin', bytes })", v.label, (r) => r.logArtifact(js({ path: 'a.bin', bytes: v.value })), 'InvalidValue', 'bytes')),
  ...besides('string', 'undefined').map((v) => row<RunHandle>("logArtifact({ path: 'a.txt', text })", v.label, (r) => r.logArtifact(js({ path: 'a.txt', text: v.value })), 'InvalidValue', 'text')),
  ...besides('string', 'undefined').map((v) =>
    row<RunHandle>("logArtifact({ path: 'a.txt', text: 't' }, artifactDir)", v.label, (r) => r.logArtifact({ path: 'a.txt', text: 't' }, js(v.value)), 'InvalidValue', 'artifactDir')
  ),
  ...['../up.txt', '/abs.txt', '%2e%2e/x.txt', 'a#b.txt', 'x?', ''].map((path) =>
    row<RunHandle>("logArtifact({ path, text: 't' })", JSON.stringify(path), (r) => r.logArtifact({ path, text: 't' }), 'InvalidArtifactPath', path)
  ),
  row<RunHandle>('logArtifact(source)', 'a throwing getter', (r) => r.logArtifact(js(throwing('path'))), 'InvalidValue', 'source'),
  ...besides('string').map((v) => row<RunHandle>('logArtifacts(dir)', v.label, (r) => r.logArtifacts(js(v.value)), 'InvalidValue', 'dir')),
  ...besides('string', 'undefined').map((v) => row<RunHandle>("logArtifacts('.', artifactDir)", v.label, (r) => r.logArtifacts('.', js(v.value)), 'InvalidValue', 'artifactDir')),
  ...besides('string').map((v) => row<RunHandle>('logDict(path, {})', v.label, (r) => r.logDict(js(v.value), {}), 'InvalidValue', 'path')),
  row<RunHandle>("logDict('a.json', value)", '() => 1', (r) => r.logDict('a.json', () => 1), 'InvalidValue', 'a.json'),
  row<RunHandle>("logDict('a.json', value)", '{ cb: () => 1 }', (r) => r.logDict('a.json', { n: 1, cb: () => 1 }), 'InvalidValue', 'a.json'),
  row<RunHandle>("logDict('a.yaml', value)", '{ s: Symbol() }', (r) => r.logDict('a.yaml', { s: Symbol('s') }), 'InvalidValue', 'a.yaml'),
  row<RunHandle>("logDict('a.json', value)", 'a cycle', (r) => r.logDict('a.json', cyclic), 'InvalidValue', 'a.json'),
  row<RunHandle>("logDict('a.json', value)", 'undefined', (r) => r.logDict('a.json', undefined), 'InvalidValue', 'a.json'),
  row<RunHandle>('logDict(path, {})', "'../a.json'", (r) => r.logDict('../a.json', {}), 'InvalidArtifactPath', '../a.json'),
  ...besides('string').map((v) => row<RunHandle>("logText(path, 't')", v.label, (r) => r.logText(js(v.value), 't'), 'InvalidValue', 'path')),
  ...besides('string').map((v) => row<RunHandle>("logText('a.txt', text)", v.label, (r) => r.logText('a.txt', js(v.value)), 'InvalidValue', 'a.txt')),
  ...besides('string').map((v) => row<RunHandle>('logTable(path, [])', v.label, (r) => r.logTable(js(v.value), []), 'InvalidValue', 'path')),
  ...besides('record', 'array').map((v) => row<RunHandle>("logTable('t.json', table)", v.label, (r) => r.logTable('t.json', js(v.value)), 'InvalidValue', 't.json')),
  row<RunHandle>("logTable('t.json', table)", '[1]', (r) => r.logTable('t.json', js([1])), 'InvalidValue', 'rows/0'),
  row<RunHandle>("logTable('t.json', table)", '[{ a: 1 }, null]', (r) => r.logTable('t.json', js([{ a: 1 }, null])), 'InvalidValue', 'rows/1'),
  row<RunHandle>("logTable('t.json', table)", '{ a: [1], b: [] }', (r) => r.logTable('t.json', { a: [1], b: [] }), 'InvalidValue', 'columns'),
  row<RunHandle>("logTable('t.json', table)", "{ a: 'x' }", (r) => r.logTable('t.json', js({ a: 'x' })), 'InvalidValue', 'columns'),
  row<RunHandle>("logTable('t.json', table)", '[{ f: () => 1 }]', (r) => r.logTable('t.json', [{ f: () => 1 }]), 'InvalidValue', 'table'),
  row<RunHandle>('logTable(path, [])', "'t.csv'", (r) => r.logTable('t.csv', []), 'InvalidValue', 't.csv'),
  ...besides('string').map((v) => row<RunHandle>('logImage(path, png)', v.label, (r) => r.logImage(js(v.value), PNG), 'InvalidValue', 'path')),
  ...besides('bytes').map((v) => row<RunHandle>("logImage('x.png', bytes)", v.label, (r) => r.logImage('x.png', js(v.value)), 'InvalidValue', 'x.png')),
  ...NOT_IMAGES.map(([path, bytes]) => row<RunHandle>('logImage(path, bytes)', `${path} of other bytes`, (r) => r.logImage(path, bytes), 'InvalidValue', path)),
  row<RunHandle>('logImage(path, png)', "'x.txt'", (r) => r.logImage('x.txt', PNG), 'InvalidValue', 'x.txt'),
  ...besides('record').map((v) => row<RunHandle>('logInput(dataset)', v.label, (r) => r.logInput(js(v.value)), 'InvalidValue', /^dataset/)),
  ...(
    [
      [{}, 'dataset.name'],
      [{ name: 5, digest: 'd', sourceType: 'local', source: '/d' }, 'dataset.name'],
      [{ name: 'd', digest: '', sourceType: 'local', source: '/d' }, 'dataset.digest'],
      [{ name: 'd', digest: 'd', sourceType: 'local' }, 'dataset.source'],
      [{ name: 'd', digest: 'd', sourceType: 'local', source: 5 }, 'dataset.source'],
      [{ name: 'd', digest: 'd', sourceType: 'local', source: '/d', tags: 'team' }, 'dataset.tags'],
      [{ name: 'd', digest: 'd', sourceType: 'local', source: '/d', context: 5 }, 'dataset.tags.mlflow.data.context']
    ] as const
  ).map(([dataset, field]) => row<RunHandle>('logInput(dataset)', JSON.stringify(dataset), (r) => r.logInput(js(dataset)), 'InvalidValue', field))
]

/** What the pipeline rows run against: the sink, and a run of it that holds `before` records. */
export interface Recorded {
  readonly runId: string
}

const task = async (): Promise<void> => undefined

/** Bad pipelines: `evaluate`'s spec and task, `reopen`, tracking steps, queries and the gate as steps. */
export const pipelineRows: ReadonlyArray<Row<Recorded>> = [
  ...besides('record').map((v) => row<Recorded>('evaluate(spec, task)', v.label, () => evaluate(js(v.value), task), 'InvalidValue', 'spec')),
  ...besides('string').map((v) => row<Recorded>('evaluate({ experiment }, task)', v.label, () => evaluate(js({ experiment: v.value }), task), 'InvalidValue', 'experiment')),
  ...['', '   ', 'x'.repeat(501)].map((experiment) =>
    row<Recorded>('evaluate({ experiment }, task)', `${experiment.length} characters`, () => evaluate({ experiment }, task), 'InvalidValue', 'experiment')
  ),
  ...besides('string', 'undefined').map((v) => row<Recorded>("evaluate({ experiment, runName }, task)", v.label, () => evaluate(js({ experiment: 'e', runName: v.value }), task), 'InvalidValue', 'runName')),
  ...besides('string', 'undefined').map((v) =>
    row<Recorded>('evaluate({ experiment, description }, task)', v.label, () => evaluate(js({ experiment: 'e', description: v.value }), task), 'InvalidValue', 'description')
  ),
  ...besides('record', 'undefined').map((v) => row<Recorded>('evaluate({ experiment, tags }, task)', v.label, () => evaluate(js({ experiment: 'e', tags: v.value }), task), 'InvalidValue', 'tags')),
  ...besides('string', 'number', 'boolean').map((v) =>
    row<Recorded>('evaluate({ experiment, tags: { team } }, task)', v.label, () => evaluate(js({ experiment: 'e', tags: { team: v.value } }), task), 'InvalidValue', 'team')
  ),
  row<Recorded>('evaluate({ experiment, tags }, task)', "{ 'a//b': 'x' }", () => evaluate({ experiment: 'e', tags: { 'a//b': 'x' } }, task), 'InvalidKey', 'a//b'),
  ...besides('boolean', 'undefined').map((v) =>
    row<Recorded>('evaluate({ experiment, systemMetrics }, task)', v.label, () => evaluate(js({ experiment: 'e', systemMetrics: v.value }), task), 'InvalidValue', 'systemMetrics')
  ),
  ...besides('boolean', 'undefined').map((v) =>
    row<Recorded>('evaluate({ experiment, resultsArtifact }, task)', v.label, () => evaluate(js({ experiment: 'e', resultsArtifact: v.value }), task), 'InvalidValue', 'resultsArtifact')
  ),
  ...besides('function').map((v) => row<Recorded>("evaluate({ experiment: 'e' }, task)", v.label, () => evaluate({ experiment: 'e' }, js<() => void>(v.value)), 'InvalidValue', 'task')),
  ...besides('string').map((v) => row<Recorded>('reopen(runId, task)', v.label, () => reopen(js(v.value), task), 'InvalidValue', 'runId')),
  ...besides('function').map((v) => row<Recorded>('reopen(runId, task)', v.label, ({ runId }) => reopen(runId, js<() => void>(v.value)), 'InvalidValue', 'task')),
  ...besides('string').map((v) => row<Recorded>('trackParam(key, 1)', v.label, () => trackParam(js(v.value), 1), 'InvalidKey', v.asKey)),
  row<Recorded>("trackParam('seed', value)", 'undefined', () => trackParam('seed', undefined), 'InvalidValue', 'seed'),
  ...besides('function').map((v) => row<Recorded>('fork(pipeline)', v.label, () => fork(js<Track.Track<unknown>>(v.value)), 'InvalidValue', 'pipeline')),
  row<Recorded>('fork(pipeline)', '() => 1', () => fork(js<Track.Track<unknown>>(() => 1)), 'InvalidValue', 'pipeline'),
  ...besides('boolean', 'undefined').map((v) => row<Recorded>('fork(getParams, { nested })', v.label, () => fork(getParams, js({ nested: v.value })), 'InvalidValue', 'nested')),
  ...besides('record').map((v) => row<Recorded>('fromRecorded(recorded)', v.label, () => fromRecorded(js<Parameters<typeof fromRecorded>[0]>(v.value)), 'InvalidValue', 'recorded')),
  ...besides('record', 'undefined').map((v) => row<Recorded>('Query.searchRuns(request)', v.label, () => Query.searchRuns(js(v.value)), 'InvalidValue', 'request')),
  ...besides('string').map((v) => row<Recorded>('Query.getRun(runId)', v.label, () => Query.getRun(js(v.value)), 'InvalidValue', 'runId')),
  ...besides('string').map((v) => row<Recorded>("Query.getMetricHistory(runId, key)", v.label, ({ runId }) => Query.getMetricHistory(runId, js(v.value)), 'InvalidValue', 'key')),
  ...besides('record', 'undefined').map((v) => row<Recorded>('Query.searchExperiments(request)', v.label, () => Query.searchExperiments(js(v.value)), 'InvalidValue', 'request')),
  ...besides('record').map((v) => row<Recorded>('Query.bestRun(options)', v.label, () => Query.bestRun(js(v.value)), 'InvalidValue', 'options')),
  ...besides('string').map((v) => row<Recorded>('Query.bestRun({ experiment, metric })', v.label, () => Query.bestRun(js({ experiment: 'e', metric: v.value })), 'InvalidValue', 'metric')),
  ...besides('boolean', 'undefined').map((v) =>
    row<Recorded>('Query.bestRun({ ..., lowestIsBest })', v.label, () => Query.bestRun(js({ experiment: 'e', metric: 'm', lowestIsBest: v.value })), 'InvalidValue', 'lowestIsBest')
  ),
  ...besides('record').map((v) => row<Recorded>('Gate.gateStep(options)', v.label, () => Gate.gateStep(js(v.value)), 'InvalidValue', 'options')),
  ...besides('string').map((v) => row<Recorded>('Gate.gateStep({ metric })', v.label, () => Gate.gateStep(js({ metric: v.value })), 'InvalidValue', 'metric')),
  ...besides('number', 'undefined').map((v) =>
    row<Recorded>('Gate.gateStep({ metric, tolerance })', v.label, () => Gate.gateStep(js({ metric: 'm', experiment: 'e', tolerance: v.value })), 'InvalidValue', 'tolerance')
  ),
  ...['up', 'constructor', 'HIGHER'].map((direction) =>
    row<Recorded>('Gate.gateStep({ metric, direction })', direction, () => Gate.gateStep(js({ metric: 'm', experiment: 'e', direction })), 'InvalidValue', 'direction')
  )
]

/** Bad calls of a sink's queries, outside a pipeline. */
export const queryRows: ReadonlyArray<Row<{ readonly query: Query.RunQuery; readonly runId: string }>> = [
  ...besides('string', 'undefined').map((v) => row<{ query: Query.RunQuery; runId: string }>('searchRuns({ filter })', v.label, ({ query }) => query.searchRuns(js({ filter: v.value }))(), 'InvalidValue', 'filter')),
  ...besides('array', 'undefined').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>('searchRuns({ experiments })', v.label, ({ query }) => query.searchRuns(js({ experiments: v.value }))(), 'InvalidValue', 'experiments')
  ),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns({ experiments })', "'sweep'", ({ query }) => query.searchRuns(js({ experiments: 'sweep' }))(), 'InvalidValue', 'experiments'),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns({ experiments })', '[1]', ({ query }) => query.searchRuns(js({ experiments: [1] }))(), 'InvalidValue', 'experiments.0'),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns({ experimentIds })', "'1'", ({ query }) => query.searchRuns(js({ experimentIds: '1' }))(), 'InvalidValue', 'experimentIds'),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns({ orderBy })', "'metrics.a'", ({ query }) => query.searchRuns(js({ orderBy: 'metrics.a' }))(), 'InvalidValue', 'orderBy'),
  ...besides('number', 'undefined').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>('searchRuns({ maxResults })', v.label, ({ query }) => query.searchRuns(js({ maxResults: v.value }))(), 'InvalidValue', 'maxResults')
  ),
  ...[0, -1, 1.5, 50_001, NaN].map((maxResults) =>
    row<{ query: Query.RunQuery; runId: string }>('searchRuns({ maxResults })', String(maxResults), ({ query }) => query.searchRuns({ maxResults })(), 'InvalidValue', 'maxResults')
  ),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns({ pageToken })', '5', ({ query }) => query.searchRuns(js({ pageToken: 5 }))(), 'InvalidValue', 'pageToken'),
  ...["metrics.a >", 'params.p = 1', "tags.t LIKE 5", 'a OR b', "metrics.`a > 1"].map((filter) =>
    row<{ query: Query.RunQuery; runId: string }>('searchRuns({ filter })', JSON.stringify(filter), ({ query }) => query.searchRuns({ filter })(), 'InvalidQuery', filter)
  ),
  row<{ query: Query.RunQuery; runId: string }>('searchRuns(request)', 'a throwing getter', ({ query }) => query.searchRuns(js(throwing('filter')))(), 'InvalidValue', 'request'),
  ...besides('string').map((v) => row<{ query: Query.RunQuery; runId: string }>('getRun(runId)', v.label, ({ query }) => query.getRun(js(v.value))(), 'InvalidValue', 'runId')),
  ...besides('string').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>("getMetricHistory(runId, 'm')", v.label, ({ query }) => query.getMetricHistory(js(v.value), 'm')(), 'InvalidValue', 'runId')
  ),
  ...besides('record', 'undefined').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>("getMetricHistory(runId, 'm', page)", v.label, ({ query, runId }) => query.getMetricHistory(runId, 'm', js(v.value))(), 'InvalidValue', 'page')
  ),
  row<{ query: Query.RunQuery; runId: string }>("getMetricHistory(runId, 'm', { maxResults })", "'10'", ({ query, runId }) => query.getMetricHistory(runId, 'm', js({ maxResults: '10' }))(), 'InvalidValue', 'maxResults'),
  ...besides('record', 'undefined').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>('searchExperiments(request)', v.label, ({ query }) => query.searchExperiments(js(v.value))(), 'InvalidValue', 'request')
  ),
  ...besides('string', 'undefined').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>('searchExperiments({ filter })', v.label, ({ query }) => query.searchExperiments(js({ filter: v.value }))(), 'InvalidValue', 'filter')
  ),
  ...besides('record').map((v) =>
    row<{ query: Query.RunQuery; runId: string }>('Gate.gate(query, options)', v.label, ({ query }) => Gate.gate(query, js(v.value))(), 'InvalidValue', 'options')
  )
]

/** Wrappers refuse what they cannot wrap when they wrap it: a thrown `TrackException` (the rule `MissingName` follows). */
export const wrapperRows: ReadonlyArray<Row<void>> = [
  ...besides('function').map((v) => row<void>('withParams(f)', v.label, () => withParams(js<(o: { a: number }) => number>(v.value)), 'InvalidValue', 'f')),
  ...besides('function').map((v) => row<void>('withInitParams(C)', v.label, () => withInitParams(js<new (o: { a: number }) => object>(v.value)), 'InvalidValue', 'C')),
  ...besides('record', 'undefined').map((v) => row<void>('withParams(f, options)', v.label, () => withParams((o: { a: number }) => o.a, js(v.value)), 'InvalidValue', 'options')),
  ...besides('string', 'undefined').map((v) => row<void>('withParams(f, { prefix })', v.label, () => withParams((o: { a: number }) => o.a, js({ prefix: v.value })), 'InvalidValue', 'prefix')),
  ...besides('array', 'undefined').map((v) => row<void>('withInitParams(C, { ignore })', v.label, () => withInitParams(class C {}, js({ ignore: v.value })), 'InvalidValue', 'ignore')),
  row<void>('withParams(f, { names })', '[1]', () => withParams((a: number) => a, js({ names: [1] })), 'InvalidValue', 'names.0')
]

// -------------------------------------------------------------------------------------
// the runner
// -------------------------------------------------------------------------------------

/** What an error names: its key, path, field or id. */
const named = (e: Errors.TrackError): string => {
  switch (e._tag) {
    case 'InvalidKey':
    case 'InvalidValue':
      return e.key
    case 'InvalidArtifactPath':
      return e.path
    case 'InvalidQuery':
      return e.query
    case 'TaskFailed':
      return e.message
    default:
      return Errors.describeError(e)
  }
}

/** The outcome of one row, as a test compares it. */
type Outcome = { readonly tag: string; readonly field: string } | { readonly wrong: string }

/**
 * A call made as a JavaScript caller makes it, and what came of it: for `rejects` a promise that
 * rejects with a `TrackException`, for `left` a promise of a `Left` (a task never rejects), for
 * `throws` a thrown `TrackException`; anything else (a synchronous throw, a `TypeError`, a
 * `Right`) is wrong.
 */
const outcomeOf = async (act: () => unknown, how: 'rejects' | 'throws' | 'left'): Promise<Outcome> => {
  let value: unknown
  try {
    value = act()
  } catch (e) {
    if (how === 'throws' && e instanceof Errors.TrackException) return { tag: e.error._tag, field: named(e.error) }
    return { wrong: `threw synchronously: ${String(e)}` }
  }
  if (how === 'throws') return { wrong: 'did not throw' }
  if (!(value instanceof Promise)) return { wrong: 'not a promise' }
  let settled: unknown
  try {
    settled = await value
  } catch (e) {
    if (how === 'rejects' && e instanceof Errors.TrackException) return { tag: e.error._tag, field: named(e.error) }
    return { wrong: `rejected with ${String(e)}` }
  }
  if (how === 'rejects') return { wrong: 'resolved' }
  const r = settled as E.Either<Errors.TrackError, unknown>
  return E.isLeft(r) ? { tag: r.left._tag, field: named(r.left) } : { wrong: 'a Right' }
}

const check = <S>(t: Test, rows: ReadonlyArray<Row<S>>, outcomes: ReadonlyArray<Outcome>): void => {
  rows.forEach((r, i) => {
    const outcome = outcomes[i]!
    t.match(outcome, { tag: r.tag, field: r.field }, `${r.call} with ${r.bad}: ${r.tag} naming ${String(r.field)}`)
  })
}

/** A sink under the sweep, a way to read its runs back independently, and its release. */
export interface SweptSink {
  readonly sink: Sink.Sink
  readonly readRun: (runId: string) => Promise<Pick<RunView, 'params' | 'metrics' | 'artifacts' | 'status'>>
  /** The sink's queries, when it has some. */
  readonly query: Query.RunQuery | undefined
  readonly close: () => Promise<void>
}

/**
 * Every row against one sink: the run handle's rows in one run that logged a metric and a param
 * first, then the pipeline, query and wrapper rows; after them, the run holds what it held.
 * Yields how many rows ran.
 */
export const inputSweep = async (t: Test, name: string, swept: SweptSink, experiment: string): Promise<number> => {
  t.teardown(() => swept.close())
  const env = { sink: swept.sink, logger: { warn: () => undefined, info: () => undefined } }
  const handled: Array<Outcome> = []
  const first = await run(
    evaluate({ experiment, runName: 'swept', resultsArtifact: false }, async (r) => {
      await r.logMetric('before', 1)
      await r.logParam('before', 'kept')
      for (const row of handleRows) handled.push(await outcomeOf(() => row.act(r), 'rejects'))
    }),
    env
  )
  if (E.isLeft(first)) throw new Error(`${name}: the swept run failed: ${Errors.describeError(first.left)}`)
  const { runId } = first.right
  await t.test(`${name}: the run handle refuses ${handleRows.length} bad calls, each naming the culprit`, async (t) => check(t, handleRows, handled))

  const results: Array<Outcome> = []
  for (const row of pipelineRows) {
    const program = pipe(
      trackParam('context', 1),
      Track.flatMap(() => row.act({ runId }) as Track.Track<unknown>)
    )
    results.push(await outcomeOf(() => run(program, env), 'left'))
  }
  await t.test(`${name}: ${pipelineRows.length} bad pipelines are a Left from run, each naming the culprit`, async (t) => check(t, pipelineRows, results))

  let queried = 0
  if (swept.query !== undefined) {
    const query = swept.query
    const answers: Array<Outcome> = []
    for (const row of queryRows) answers.push(await outcomeOf(() => row.act({ query, runId }), 'left'))
    await t.test(`${name}: the sink's queries answer ${queryRows.length} bad requests with a Left, each naming the field`, async (t) => check(t, queryRows, answers))
    queried = queryRows.length
  }

  const wrapped = await Promise.all(wrapperRows.map((row) => outcomeOf(() => row.act(), 'throws')))
  await t.test(`${name}: the wrappers refuse ${wrapperRows.length} bad arguments when they wrap`, async (t) => check(t, wrapperRows, wrapped))

  await t.test(`${name}: what was recorded before the bad calls is intact, and nothing of them was stored`, async (t) => {
    const view = await swept.readRun(runId)
    t.equal(view.status, 'FINISHED')
    t.strictSame(Object.keys(view.metrics), ['before'])
    t.strictSame(view.metrics['before']?.map((p) => p.value), [1])
    t.strictSame(Object.keys(view.params).sort(), ['before', 'charmory-track.version'])
    t.equal(view.params['before'], 'kept')
    t.strictSame(Object.keys(view.artifacts), [])
  })
  return handleRows.length + pipelineRows.length + queried + wrapperRows.length
}
