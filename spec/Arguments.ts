import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as t_ from 'io-ts/lib/index.js'
import { LocalStore, Sink, localSink, memorySink, openSink, withLocalFallback, withLocalJournal, type RunRecord } from 'charmory-track'
import * as A from '../lib/Arguments.js'
import { openStore } from './support/local-store.js'
import { handleRows, inputSweep, pipelineRows, queryRows, wrapperRows, type SweptSink } from './support/bad-inputs.js'
import { right, tempDir } from './support/local-store.js'

t.test('decodeArgument names the field at fault (or the argument) and what the function takes', async (t) => {
  const request = A.options('a request', { filter: A.Text, experiments: A.Texts, nested: A.options('nested options', { on: A.Flag }) })
  t.strictSame(A.decodeArgument('searchRuns', 'request', request, { filter: 'x' }), E.right({ filter: 'x' }))
  t.strictSame(A.decodeArgument('searchRuns', 'request', request, null), E.left({ _tag: 'InvalidValue', key: 'request', reason: 'searchRuns takes request as a request, not null' }))
  t.strictSame(A.decodeArgument('searchRuns', 'request', request, { filter: 5 }), E.left({ _tag: 'InvalidValue', key: 'filter', reason: 'searchRuns takes filter as a string, not a number' }))
  t.match(A.decodeArgument('searchRuns', 'request', request, { experiments: ['a', null] }), E.left({ key: 'experiments.1', reason: /as a string, not null$/ }))
  t.match(A.decodeArgument('searchRuns', 'request', request, { nested: { on: 'yes' } }), E.left({ key: 'nested.on', reason: /as a boolean, not a string$/ }))
  t.match(A.decodeArgument('logText', 'text', A.Text, 3, 'notes.txt'), E.left({ key: 'notes.txt', reason: 'logText takes text as a string, not a number' }), 'a value is named by where it goes')
  const both = t_.intersection([t_.type({ a: A.Text }), A.options('more', { b: A.Numeric })])
  t.match(A.decodeArgument('f', 'o', both, { a: 'x', b: 'y' }), E.left({ key: 'b' }), "an intersection's members are not fields")
  t.match(A.decodeArgument('f', 'o', t_.union([A.Text, t_.type({ a: A.Numeric })]), { a: 'x' }), E.left({ key: 'o' }), "nor a union's: its first member's error names the argument")
  const own = new t_.Type<string>('own', (u): u is string => false, (u, c) => t_.failure(u, c, 'the whole reason'), String)
  t.strictSame(A.decodeArgument('f', 'x', own, 1), E.left({ _tag: 'InvalidValue', key: 'x', reason: 'the whole reason' }), "a codec's message is the reason")
  const lazy = Object.defineProperty({}, 'filter', { enumerable: true, get: () => { throw new Error('not today') } })
  t.strictSame(A.decodeArgument('searchRuns', 'request', request, lazy), E.left({ _tag: 'InvalidValue', key: 'request', reason: 'searchRuns could not read request: not today' }))
  const fn = (): number => 1
  t.strictSame(A.decodeArgument('f', 'x', A.Callable, fn), E.right(fn))
  t.match(A.decodeArgument('f', 'x', new t_.Type<string>('thrower', (u): u is string => false, () => { throw 'plain' }, String), 1), E.left({ reason: 'f could not read x: plain' }))
})

t.test('the codecs: what each takes', async (t) => {
  t.ok(A.Text.is('') && !A.Text.is(1))
  t.ok(A.Flag.is(false) && !A.Flag.is('false'))
  t.ok(A.Numeric.is(NaN) && !A.Numeric.is('1'))
  t.ok(A.Fields.is({}) && A.Fields.is(Object.create(null)) && A.Fields.is(new (class Config {})()))
  for (const other of [[], new Map(), new Date(), new Set(), new Uint8Array(1), /re/, new Error('e'), Promise.resolve(1), null, 'x']) t.notOk(A.Fields.is(other), A.kindOf(other))
  const opts = A.options('options', { on: A.Flag })
  t.ok(opts.is({ on: true }) && !opts.is(new Map()) && !opts.is({ on: 1 }))
  t.strictSame(opts.encode({ on: true }), { on: true })
  const req = A.required('a spec', { name: A.Text })
  t.ok(req.is({ name: 'x' }) && !req.is(new Map()) && !req.is({}))
  t.match(A.decodeArgument('f', 'spec', req, new Map()), E.left({ key: 'spec', reason: 'f takes spec as a spec, not a Map' }))
  t.strictSame(req.encode({ name: 'x' }), { name: 'x' })
  t.ok(A.Callable.is(class {}) && !A.Callable.is({}))
  t.ok(A.Bytes.is(new Uint8Array(1)) && !A.Bytes.is([1]))
  t.ok(A.optional(A.Text).is(undefined) && A.optional(A.Text).is('x') && !A.optional(A.Text).is(null))
  t.strictSame(A.optional(A.Text).decode(undefined), E.right(undefined))
  t.strictSame(A.Text.encode('x'), 'x')
  t.strictSame(
    [null, undefined, [], 1, 'a', () => 1, new Map(), new (class Model {})(), new Error('e'), Object.create(null), {}].map(A.kindOf),
    ['null', 'undefined', 'an array', 'a number', 'a string', 'a function', 'a Map', 'a Model', 'an Error', 'an object', 'an object']
  )
})

t.test(`the sweep has ${handleRows.length + pipelineRows.length + queryRows.length + wrapperRows.length} bad inputs, every category`, async (t) => {
  t.ok(handleRows.length + pipelineRows.length + queryRows.length + wrapperRows.length >= 200)
  const calls = new Set([...handleRows, ...pipelineRows, ...queryRows, ...wrapperRows].map((r) => r.call.replace(/\(.*$/, '')))
  for (const name of ['logMetric', 'logMetrics', 'setTag', 'logParam', 'logParams', 'logArtifact', 'logArtifacts', 'logDict', 'logText', 'logTable', 'logImage', 'logInput', 'evaluate', 'reopen', 'trackParam', 'fork', 'fromRecorded', 'Query.searchRuns', 'Query.getRun', 'Query.getMetricHistory', 'Query.searchExperiments', 'Query.bestRun', 'Gate.gateStep', 'searchRuns', 'getRun', 'getMetricHistory', 'searchExperiments', 'Gate.gate', 'withParams', 'withInitParams']) {
    t.ok(calls.has(name), name)
  }
})

/** A memory sink, read back from its snapshot. */
const memory = (sink = memorySink()): SweptSink => {
  const view = (r: RunRecord) => ({ status: r.status, params: { ...r.params }, metrics: { ...r.metrics } as Record<string, Array<{ value: number; step: number; timestamp: number }>>, artifacts: { ...r.artifacts } })
  return {
    sink,
    query: sink.query,
    readRun: async (runId) => view(sink.snapshot().runs.find((r) => r.runId === runId)!),
    close: async () => undefined
  }
}

/** A local store, read back with `loadRun`. */
const local = (dir: string, sink: Sink.Sink = openStore(dir)): SweptSink => ({
  sink,
  query: sink.query,
  readRun: async (runId) => {
    const r = right(await LocalStore.loadRun(dir, runId)())
    return { status: r.status, params: { ...r.paramValues }, metrics: { ...r.metricHistories } as Record<string, Array<{ value: number; step: number; timestamp: number }>>, artifacts: Object.fromEntries(r.artifacts.map((a) => [a.path, new Uint8Array(a.size)])) }
  },
  close: async () => undefined
})

const opened = async (description: Sink.SinkDescription): Promise<Sink.Sink & { close: () => Promise<void> }> => right(await openSink(description))

t.test('bad inputs on the memory sink', async (t) => void (await inputSweep(t, 'memory', memory(), 'sweep memory')))

t.test('bad inputs on the local sink', async (t) => void (await inputSweep(t, 'local', local(tempDir(t)), 'sweep local')))

t.test('bad inputs on the local sink as run builds it', async (t) => {
  const dir = tempDir(t)
  const sink = await opened(localSink({ dir }))
  await inputSweep(t, 'localSink', { ...local(dir, sink), close: sink.close }, 'sweep built')
})

t.test('bad inputs through the journal and fallback combinators', async (t) => {
  for (const [name, combine] of [['journal', withLocalJournal], ['fallback', withLocalFallback]] as const) {
    const remote = memorySink()
    const dir = tempDir(t)
    const sink = await opened(combine(remote, localSink({ dir })))
    // both keep the run: the remote (read through its snapshot) and the local store
    await inputSweep(t, `${name} over memory`, { ...memory(remote), sink, query: undefined, close: sink.close }, `sweep ${name}`)
    const [kept] = right(await openStore(dir).query.searchRuns({ experiments: [`sweep ${name}`] })()).runs
    t.strictSame(kept?.metrics, { before: 1 }, `${name}: the local copy holds the metric logged before, nothing else`)
  }
})
