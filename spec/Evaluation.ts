// evaluate and reopen beyond what every sink shares (spec/support/behaviour.ts runs that part
// against each sink): spec checks, sinks that fail at each step, resultMetrics.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Results, Errors, Runtime, Sink, evaluate, getParams, memorySink, reopen, run, Track, trackParam, type MemorySink } from 'charmory-track'
import { captureLogger, fixedSource } from './support/behaviour.js'

const T0 = 1_700_000_000_000

const envFor = (sink: Sink.Sink): Runtime.EnvInput & { readonly warnings: Array<string> } => {
  const { logger, warnings } = captureLogger()
  return { sink, logger, warnings, clock: { now: () => T0 }, source: () => fixedSource() }
}

const down = Errors.networkError('connection refused', 'test')

/** A memory sink whose runs fail at the operations named in `failing`. */
const faultyRuns = (memory: MemorySink, failing: Partial<Record<keyof Sink.RunSink, Errors.TrackError>>): Sink.Sink => {
  const wrap = (r: Sink.RunSink): Sink.RunSink => {
    const out: Record<string, unknown> = { ...r }
    for (const [op, error] of Object.entries(failing)) out[op] = () => TE.left(error)
    return out as unknown as Sink.RunSink
  }
  return {
    ...memory,
    openRun: (request) => TE.map(wrap)(memory.openRun(request)),
    reopenRun: (id) => TE.map(wrap)(memory.reopenRun(id))
  }
}

t.test('resultMetrics names nested results with "/" and checks every value', async (t) => {
  t.strictSame(Results.resultMetrics(undefined, T0), E.right([]))
  t.strictSame(Results.resultMetrics(null, T0), E.right([]))
  t.strictSame(Results.resultMetrics({}, T0), E.right([]))
  t.strictSame(
    Results.resultMetrics({ acc: 1, chain: { clean: { acc: 0.5 } }, curve: [0.1, [0.2]] }, T0),
    E.right([
      { key: 'acc', value: 1, step: 0, timestamp: T0 },
      { key: 'chain/clean/acc', value: 0.5, step: 0, timestamp: T0 },
      { key: 'curve/0', value: 0.1, step: 0, timestamp: T0 },
      { key: 'curve/1/0', value: 0.2, step: 0, timestamp: T0 }
    ])
  )
  t.strictSame(
    Results.resultMetrics(0.9, T0),
    E.left({ _tag: 'InvalidValue', key: 'results', reason: 'a task returns a record of metrics (or nothing), not a number' })
  )
  t.strictSame(
    Results.resultMetrics('done', T0),
    E.left({ _tag: 'InvalidValue', key: 'results', reason: 'a task returns a record of metrics (or nothing), not a string' })
  )
  t.strictSame(
    Results.resultMetrics({ a: { b: true } }, T0),
    E.left({ _tag: 'InvalidValue', key: 'a/b', reason: 'a metric must be a number, got boolean' })
  )
  t.match(Results.resultMetrics({ 'bad,key': 1 }, T0), E.left({ _tag: 'InvalidKey', key: 'bad,key' }))
})

t.test('a bad spec is refused before anything reaches the sink', async (t) => {
  const reason = 'an experiment name has 1 to 500 characters'
  for (const experiment of ['', '   ', 'x'.repeat(501)]) {
    const sink = memorySink()
    t.strictSame(
      await run(evaluate({ experiment }, () => undefined), envFor(sink)),
      E.left({ _tag: 'InvalidValue', key: 'experiment', reason })
    )
    t.strictSame(sink.snapshot(), { experiments: [], runs: [] })
  }
  const sink = memorySink()
  t.match(
    await run(evaluate({ experiment: 'e', tags: { ok: 'x', 'not ok,': 'y' } }, () => undefined), envFor(sink)),
    E.left({ _tag: 'InvalidKey', key: 'not ok,' })
  )
  t.strictSame(sink.snapshot(), { experiments: [], runs: [] })
  t.ok(E.isRight(await run(evaluate({ experiment: 'x'.repeat(500) }, () => undefined), envFor(memorySink()))))
})

t.test('a sink that fails to find the experiment or to open the run: the task never runs', async (t) => {
  let ran = 0
  const task = async (): Promise<void> => void ran++
  const memory = memorySink()
  const noExperiment: Sink.Sink = { ...memory, experiment: () => TE.left(down) }
  t.strictSame(await run(evaluate({ experiment: 'e' }, task), envFor(noExperiment)), E.left(down))
  const noRun: Sink.Sink = { ...memory, openRun: () => TE.left(down) }
  t.strictSame(await run(evaluate({ experiment: 'e' }, task), envFor(noRun)), E.left(down))
  t.equal(ran, 0)
})

t.test('params that cannot be logged: the task does not run and the run ends FAILED', async (t) => {
  let ran = 0
  const memory = memorySink()
  const sink = faultyRuns(memory, { logParams: down })
  const result = await run(
    pipe(
      trackParam('lr', 0.1),
      Track.flatMap(() => evaluate({ experiment: 'e' }, async () => void ran++))
    ),
    envFor(sink)
  )
  t.strictSame(result, E.left(down))
  t.equal(ran, 0)
  t.match(memory.snapshot().runs, [
    { status: 'FAILED', endTime: T0, tags: { 'charmory.error': 'test: connection refused', 'charmory.error.type': 'NetworkError' } }
  ])
})

t.test('results that cannot be logged end the run FAILED', async (t) => {
  const memory = memorySink()
  const result = await run(evaluate({ experiment: 'e' }, async () => ({ acc: 1 })), envFor(faultyRuns(memory, { logMetrics: down })))
  t.strictSame(result, E.left(down))
  t.match(memory.snapshot().runs, [{ status: 'FAILED', tags: { 'charmory.error.type': 'NetworkError' } }])
})

t.test('no results, no metrics call', async (t) => {
  const memory = memorySink()
  const result = await run(evaluate({ experiment: 'e' }, async () => ({})), envFor(faultyRuns(memory, { logMetrics: down })))
  t.match(result, E.right({ results: {} }))
  t.match(memory.snapshot().runs, [{ status: 'FINISHED' }])
})

t.test('a run that cannot be ended FINISHED is tried FAILED, and the evaluation fails', async (t) => {
  const memory = memorySink()
  let ends = 0
  const sink: Sink.Sink = {
    ...memory,
    openRun: (request) =>
      TE.map(
        (r: Sink.RunSink): Sink.RunSink => ({
          ...r,
          end: (status, endTime) => (ends++ === 0 ? TE.left(down) : r.end(status, endTime))
        })
      )(memory.openRun(request))
  }
  const result = await run(evaluate({ experiment: 'e' }, async () => ({ acc: 1 })), envFor(sink))
  t.strictSame(result, E.left(down))
  t.match(memory.snapshot().runs, [{ status: 'FAILED', tags: { 'charmory.error.type': 'NetworkError' }, metrics: { acc: [{ value: 1 }] } }])
})

t.test('a run that cannot even be ended FAILED: the task error is kept and a warning says so', async (t) => {
  const memory = memorySink()
  const env = envFor(faultyRuns(memory, { end: down, setTags: down }))
  const boom = new Error('task broke')
  let runId = ''
  const result = await run(
    evaluate({ experiment: 'e' }, async (r) => {
      runId = r.runId
      throw boom
    }),
    env
  )
  t.strictSame(result, E.left({ _tag: 'TaskFailed', message: 'task broke', cause: boom }))
  t.strictSame(env.warnings, [`run ${runId} could not be ended FAILED: test: connection refused`])
})

t.test('the run handle passes sink failures on as TrackException', async (t) => {
  const memory = memorySink()
  const seen: Array<unknown> = []
  const catching = async (p: Promise<void>): Promise<void> => {
    try {
      await p
    } catch (e) {
      seen.push(e instanceof Errors.TrackException ? e.error : e)
    }
  }
  const sink = faultyRuns(memory, { logMetrics: down, setTags: down, logArtifact: down })
  await run(
    evaluate({ experiment: 'e' }, async (r) => {
      await catching(r.logMetric('m', 1))
      await catching(r.logMetrics({ m: 1 }))
      await catching(r.setTag('t', 'v'))
      await catching(r.logArtifact({ path: 'a.txt', text: 'x' }))
    }),
    envFor(sink)
  )
  t.strictSame(seen, [down, down, down, down])
})

t.test('logParam passes a sink failure other than a conflict on, once', async (t) => {
  const memory = memorySink()
  const first = await run(evaluate({ experiment: 'e' }, async () => undefined), envFor(memory))
  if (E.isLeft(first)) throw new Error('expected a run')
  const seen: Array<unknown> = []
  await run(
    reopen(first.right.runId, async (r) => {
      try {
        await r.logParams({ a: 1, b: 2 })
      } catch (e) {
        seen.push(e instanceof Errors.TrackException ? e.error : e)
      }
    }),
    envFor(faultyRuns(memory, { logParams: down }))
  )
  t.strictSame(seen, [down])
})

t.test('artifacts are read through env.files, once the path is known to be good', async (t) => {
  const memory = memorySink()
  const reads: Array<string> = []
  const files: Runtime.EnvInput['files'] = {
    readFile: (path) => async () => {
      reads.push(path)
      return path.endsWith('missing') ? E.left(Errors.fileError(path, 'no such file')) : E.right(new TextEncoder().encode(`bytes of ${path}`))
    },
    listFiles: (dir) => (dir === 'gone' ? TE.left(Errors.fileError(dir, 'no such folder')) : TE.right(['a.txt', 'sub/b.txt']))
  }
  const refusals: Array<unknown> = []
  const refused = async (p: Promise<void>): Promise<void> => {
    try {
      await p
    } catch (e) {
      refusals.push((e as Errors.TrackException).error)
    }
  }
  const result = await run(
    evaluate({ experiment: 'e' }, async (r) => {
      await r.logArtifact('C:\\models\\net.bin')
      await r.logArtifact('/data/run/config.json', 'inputs')
      await r.logArtifacts('out', 'results')
      await refused(r.logArtifact('/'))
      await refused(r.logArtifact('/data/missing'))
      await refused(r.logArtifacts('gone'))
    }),
    { ...envFor(memory), files }
  )
  t.ok(E.isRight(result))
  t.strictSame(reads, ['C:\\models\\net.bin', '/data/run/config.json', 'out/a.txt', 'out/sub/b.txt', '/data/missing'])
  t.strictSame(Object.keys(memory.snapshot().runs[0]?.artifacts ?? {}), ['net.bin', 'inputs/config.json', 'results/a.txt', 'results/sub/b.txt'])
  t.match(refusals, [
    { _tag: 'InvalidArtifactPath', path: '/' },
    { _tag: 'FileError', path: '/data/missing' },
    { _tag: 'FileError', path: 'gone' }
  ])
})

t.test('reopen: an unknown run, a failing task, a failing flush', async (t) => {
  const memory = memorySink()
  const env = envFor(memory)
  t.strictSame(await run(reopen('nope', () => 1), env), E.left({ _tag: 'NotFound', what: 'run', id: 'nope' }))
  const done = await run(evaluate({ experiment: 'e' }, () => undefined), env)
  if (E.isLeft(done)) throw new Error('evaluate failed')
  const { runId } = done.right
  const boom = new Error('late failure')
  t.strictSame(
    await run(
      reopen(runId, () => {
        throw boom
      }),
      env
    ),
    E.left({ _tag: 'TaskFailed', message: 'late failure', cause: boom })
  )
  t.strictSame(await run(reopen(runId, () => 'plain value'), env), E.right('plain value'))
  const noFlush = faultyRuns(memory, { flush: down })
  t.strictSame(await run(reopen(runId, async () => 'x'), envFor(noFlush)), E.left(down))
  t.match(memory.snapshot().runs, [{ status: 'FINISHED' }], 'reopening never changes the status')
})

t.test('evaluate yields the context it started from, whatever the task did', async (t) => {
  const program = pipe(
    trackParam('outer', 1),
    Track.flatMap(() => evaluate({ experiment: 'e' }, () => trackParam('inside', 2))),
    Track.flatMap(() => getParams)
  )
  t.strictSame(await run(program, envFor(memorySink())), E.right({ outer: '1' }))
})

t.test('a task that returns a function gets it as its result: only a pipeline runs', async (t) => {
  const someFunction = (): never => {
    throw new Error('must not be called')
  }
  const memory = memorySink()
  const opened = await run(evaluate({ experiment: 'e' }, () => ({})), envFor(memory))
  if (E.isLeft(opened)) return t.fail('evaluate failed')
  t.strictSame(await run(reopen(opened.right.runId, () => someFunction), envFor(memory)), E.right(someFunction))
  const raw: Track.Track<string> = async (context) => ({ context, result: E.right('ran') })
  t.strictSame(await run(reopen(opened.right.runId, () => raw), envFor(memory)), E.right(raw), 'an untagged step is a plain function')
  t.strictSame(await run(reopen(opened.right.runId, () => Track.primitive(raw)), envFor(memory)), E.right('ran'))
})

t.test('a tag named like a secret keeps its name and stores ***', async (t) => {
  const sink = memorySink()
  const r = await run(
    evaluate({ experiment: 'secrets', tags: { db_password: 'hunter2', team: 'red' } }, async (h) => {
      await h.setTag('hf_token', 'hf_abc')
      await h.setTag('max_tokens', 512)
    }),
    envFor(sink)
  )
  t.ok(E.isRight(r))
  t.match(sink.snapshot().runs[0]?.tags, { db_password: '***', team: 'red', hf_token: '***', max_tokens: '512' })
  t.notMatch(JSON.stringify(sink.snapshot()), /hunter2|hf_abc/)
})
