import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import {
  configError,
  Context,
  describeSink,
  endOpenRuns,
  evaluate,
  getParams,
  memorySink,
  mlflowSink,
  notFound,
  Params,
  run,
  runIn,
  runPromise,
  nodePlatform,
  Track,
  trackParam,
  TrackingFailure,
  runEnded,
  type MemorySnapshot,
  type RunSink,
  type Sink
} from 'charmory-track'
import { captureLogger } from './support/behaviour.js'

// -------------------------------------------------------------------------------------
// run
// -------------------------------------------------------------------------------------

t.test('run starts from an empty context, or the one given', async (t) => {
  const sink = memorySink()
  t.strictSame(await run(getParams, { sink }), E.right({}))
  const start = Context.fromParams(Params.fromEntries([['seed', '1']]))
  t.strictSame(await run(getParams, { sink }, start), E.right({ seed: '1' }))
})

t.test('run turns a pipeline that throws into TaskFailed', async (t) => {
  const cause = new Error('not a well-behaved pipeline')
  const throwing: Track.Track<number> = () => {
    throw cause
  }
  t.strictSame(await run(throwing, { sink: memorySink() }), E.left({ _tag: 'TaskFailed', message: cause.message, cause }))
})

t.test('runPromise resolves with the value or rejects with a TrackingFailure', async (t) => {
  const sink = memorySink()
  t.strictSame(await runPromise(Track.of(3), { sink }), 3)
  t.strictSame(await runPromise(getParams, { sink }, Context.fromParams(Params.fromEntries([['a', '1']]))), { a: '1' })
  const error = notFound('run', 'x')
  await t.rejects(runPromise(Track.fail(error), { sink }), new TrackingFailure(error))
  try {
    await runPromise(Track.fail(error), { sink })
  } catch (e) {
    t.equal((e as TrackingFailure).error, error)
  }
})

t.test('what run is given replaces the platform\'s; the rest is the platform\'s', async (t) => {
  const clock = { now: () => 5 }
  const seen = await run((context, env) => Promise.resolve({ context, result: E.right(env) }), { sink: memorySink(), clock })
  if (E.isLeft(seen)) return t.fail('run failed')
  t.equal(seen.right.clock, clock)
  t.equal(seen.right.logger, nodePlatform.logger)
  t.equal(seen.right.files, nodePlatform.files)
  t.equal(seen.right.source, nodePlatform.source)
})

t.test('a sink description is built from the platform with what run is given, and closed when the pipeline ends', async (t) => {
  const events: Array<string> = []
  const memory = memorySink()
  const { logger, warnings } = captureLogger()
  const described = describeSink('described', (platform) => {
    platform.logger.warn('building')
    events.push('built')
    return TE.right({ ...memory, close: async () => void events.push('closed') })
  })
  const done = await run(evaluate({ experiment: 'described' }, async () => ({ ok: 1 })), { sink: described, logger })
  t.ok(E.isRight(done))
  t.strictSame(events, ['built', 'closed'])
  t.strictSame(warnings, ['building'], 'the logger given to run is the sink\'s')
  t.equal(memory.snapshot().runs[0]?.status, 'FINISHED')
  events.length = 0
  const failed = await run(Track.fail(notFound('run', 'x')), { sink: described, logger })
  t.ok(E.isLeft(failed))
  t.strictSame(events, ['built', 'closed'], 'also when the pipeline fails')
  events.length = 0
  const threw = await run(() => Promise.reject(new Error('boom')), { sink: described, logger })
  t.match(threw, E.left({ _tag: 'TaskFailed' }))
  t.strictSame(events, ['built', 'closed'], 'also when it throws')
})

t.test('a sink that cannot be built is a Left from run, and nothing runs', async (t) => {
  let ran = false
  const program = Track.fromIO(() => void (ran = true))
  const unbuildable = describeSink('nowhere', () => TE.left(configError('sink', 'cannot be built')))
  t.strictSame(await run(program, { sink: unbuildable }), E.left(configError('sink', 'cannot be built')))
  t.match(await run(program, { sink: mlflowSink('ftp://example.org') }), E.left({ _tag: 'ConfigError' }))
  t.notOk(ran)
})

t.test('a sink given built is shared: run neither builds nor closes it', async (t) => {
  let closed = 0
  const shared: Sink = { ...memorySink(), close: async () => void closed++ }
  for (let i = 0; i < 2; i++) t.ok(E.isRight(await run(evaluate({ experiment: 'shared' }, async () => ({ i })), { sink: shared })))
  t.equal(closed, 0)
  const { openSink } = runIn(nodePlatform)
  const built = await openSink(describeSink('once', () => TE.right({ ...memorySink(), close: async () => void closed++ })))
  if (E.isLeft(built)) return t.fail('openSink could not build the sink')
  t.ok(E.isRight(await run(evaluate({ experiment: 'opened' }, async () => ({ i: 2 })), { sink: built.right })))
  t.equal(closed, 0, "openSink's sink stays open while runs use it")
  await built.right.close()
  t.equal(closed, 1, 'and closing it closes what its description built')
})

t.test('the environment given to run reaches the pipeline', async (t) => {
  const { logger, warnings } = captureLogger()
  const program = Track.flatMap(() => trackParam('a', 2))(trackParam('a', 1))
  await run(program, { sink: memorySink(), logger })
  t.strictSame(warnings, ['param "a" overwritten: "1" -> "2"'])
})

// -------------------------------------------------------------------------------------
// signals
// -------------------------------------------------------------------------------------

const listening = (): number => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')

/** Stubs process.exit: the codes it was called with, and a promise of the first. */
const stubExit = (t: Test) => {
  let first: (code: number) => void = () => undefined
  const exited = new Promise<number>((ok) => (first = ok))
  const codes: Array<number> = []
  t.capture(process, 'exit', ((code: number) => {
    codes.push(code)
    first(code)
  }) as never)
  return { exited, codes: () => [...codes] }
}

/** A promise and the function that resolves it. */
const gate = () => {
  let open: () => void = () => undefined
  const opened = new Promise<void>((ok) => (open = ok))
  return { opened, open }
}

t.test('signal handlers are installed while run runs, and only then; { signals: false } installs none', async (t) => {
  const before = listening()
  let during = -1
  const probe: Track.Track<void> = async (context) => {
    during = listening()
    return { context, result: E.right(undefined) }
  }
  await run(probe, { sink: memorySink() })
  t.equal(during, before + 2, 'SIGINT and SIGTERM while it runs')
  t.equal(listening(), before, 'removed afterwards')
  await run(probe, { sink: memorySink(), signals: false })
  t.equal(during, before)
  const inner: Track.Track<void> = async (context, env) => {
    await run(probe, { sink: env.sink })
    return { context, result: E.right(undefined) }
  }
  await run(inner, { sink: memorySink() })
  t.equal(during, before + 2, 'once, however many runs are in progress')
  t.equal(listening(), before)
})

const signalled = async (t: Test, signal: 'SIGINT' | 'SIGTERM', code: number): Promise<void> => {
  const exit = stubExit(t)
  const memory = memorySink()
  const { logger, warnings } = captureLogger()
  const stop = gate()
  let atExit: MemorySnapshot | undefined
  void exit.exited.then(() => (atExit = memory.snapshot()))
  const result = run(
    evaluate({ experiment: 'interrupted' }, async (r) => {
      for (let step = 0; step < 5; step++) await r.logMetric('loss', step, { step, timestamp: 10 + step })
      process.emit(signal, signal)
      await stop.opened
      throw new Error('interrupted')
    }),
    { sink: memory, logger, clock: { now: () => 99 } }
  )
  t.equal(await exit.exited, code)
  t.match(atExit?.runs, [{ status: 'KILLED', endTime: 99 }], 'the run ended KILLED with its end time')
  t.equal(atExit?.runs[0]?.metrics['loss']?.length, 5, 'with every point logged before the signal')
  t.strictSame(warnings, [`${signal}: ending the open runs KILLED (1); ${signal} again exits at once`])
  stop.open()
  await result
  t.strictSame(exit.codes(), [code])
}

t.test('SIGINT ends the open run KILLED and exits 130', (t) => signalled(t, 'SIGINT', 130))
t.test('SIGTERM ends the open run KILLED and exits 143', (t) => signalled(t, 'SIGTERM', 143))

t.test('a signal with no run open exits at once', async (t) => {
  const before = listening()
  const exit = stubExit(t)
  const { logger, warnings } = captureLogger()
  const waiting: Track.Track<void> = async (context) => {
    process.emit('SIGINT', 'SIGINT')
    await exit.exited
    return { context, result: E.right(undefined) }
  }
  await run(waiting, { sink: memorySink(), logger })
  t.strictSame(exit.codes(), [130])
  t.strictSame(warnings, [])
  t.equal(listening(), before)
})

/** A sink whose runs end only when `release` is called. */
const slowSink = () => {
  const memory = memorySink()
  const held = gate()
  const sink: Sink = {
    ...memory,
    openRun: (request) =>
      TE.map((r: RunSink): RunSink => ({ ...r, end: (status, endTime) => async () => (await held.opened, r.end(status, endTime)()) }))(
        memory.openRun(request)
      )
  }
  return { memory, sink, release: held.open }
}

/** A pipeline that opens a run and leaves it open. */
const leaveOpen = (signal: 'SIGINT' | 'SIGTERM'): Track.Track<void> => async (context, env) => {
  const experimentId = await env.sink.experiment('left open')()
  if (E.isLeft(experimentId)) return { context, result: experimentId }
  const opened = await env.sink.openRun({ experimentId: experimentId.right, runName: 'open', startTime: 1, tags: [] })()
  process.emit(signal, signal)
  return { context, result: E.map(() => undefined)(opened) }
}

t.test('a second signal exits at once, while the runs are still being ended', async (t) => {
  const before = listening()
  const exit = stubExit(t)
  const { sink, memory, release } = slowSink()
  const { logger } = captureLogger()
  let returned = false
  const done = run(leaveOpen('SIGTERM'), { sink, logger, graceMs: 600_000 }).then(() => (returned = true))
  while (memory.snapshot().runs.length === 0) await new Promise((ok) => setImmediate(ok))
  await new Promise((ok) => setTimeout(ok, 10))
  t.equal(listening(), before + 2, 'the handlers stay while the runs are being ended')
  t.strictSame(exit.codes(), [])
  t.notOk(returned, 'run does not return to the program while the process is on its way out')
  process.emit('SIGINT', 'SIGINT')
  t.strictSame(exit.codes(), [130])
  await done
  t.equal(listening(), before, 'and go once the process exits')
  release()
  await new Promise((ok) => setTimeout(ok, 10))
  t.strictSame(exit.codes(), [130], 'the end of the first shutdown does not exit again')
  t.equal(memory.snapshot().runs[0]?.status, 'KILLED')
})

t.test('runs that cannot be ended within graceMs: the process exits anyway, saying so', async (t) => {
  const exit = stubExit(t)
  const { sink, release } = slowSink()
  const { logger, warnings } = captureLogger()
  await run(leaveOpen('SIGINT'), { sink, logger, graceMs: 20 })
  t.equal(await exit.exited, 130)
  t.match(warnings, ['SIGINT: ending the open runs KILLED (1); SIGINT again exits at once', 'the open runs were not ended within 20 ms; exiting'])
  release()
})

t.test('endOpenRuns ends the open runs for a program that handles signals itself', async (t) => {
  const memory = memorySink()
  const { logger, warnings } = captureLogger()
  let afterwards: MemorySnapshot | undefined
  const result = await run(
    evaluate({ experiment: 'own handler' }, async (r) => {
      await r.logMetric('loss', 1)
      await endOpenRuns()
      afterwards = memory.snapshot()
      await t.rejects(r.logMetric('loss', 2), new TrackingFailure(runEnded(r.runId)), 'the ended run takes nothing more')
    }),
    { sink: memory, logger, clock: { now: () => 42 }, signals: false }
  )
  t.ok(E.isRight(result), 'the evaluation ends as the run was ended')
  t.match(memory.snapshot().runs, [{ status: 'KILLED', endTime: 42 }])
  t.match(afterwards?.runs, [{ status: 'KILLED', endTime: 42, metrics: { loss: [{ value: 1 }] } }])
  t.strictSame(warnings, [])

  const failing: Sink = {
    ...memory,
    openRun: (request) => TE.map((r: RunSink): RunSink => ({ ...r, end: () => TE.left(notFound('run', r.runId)) }))(memory.openRun(request))
  }
  await run(
    evaluate({ experiment: 'own handler' }, async () => {
      await endOpenRuns('FAILED')
    }),
    { sink: failing, logger, signals: false }
  )
  t.match(warnings, [/^run \w+ could not be ended: run "\w+" not found$/])
})
