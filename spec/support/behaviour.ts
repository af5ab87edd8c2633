/**
 * The tracking core's sink-facing behaviour, written once and run against every sink
 * (memory in spec/conformance.ts, MLflow and local elsewhere), plus small helpers the specs
 * share (a logger that keeps what it was told, a fixed description of the program).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Test } from 'tap'
import { Results, Errors, Platform, Runtime, Sink, evaluate, fork, fromRecorded, getParams, reopen, resetParams, run, Track, trackParam, VERSION, withParams, type RunHandle } from 'charmory-track'
import { queryCases } from './query-behaviour.js'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** A logger that keeps every message, for tests that check warnings. */
export const captureLogger = (): { readonly logger: Platform.Logger; readonly warnings: Array<string>; readonly infos: Array<string> } => {
  const warnings: Array<string> = []
  const infos: Array<string> = []
  return {
    logger: { warn: (m) => void warnings.push(m), info: (m) => void infos.push(m) },
    warnings,
    infos
  }
}

/** What `env.source` says about the program, fixed so that tags can be compared exactly. */
export const fixedSource = (gitCommit: O.Option<string> = O.some('0123456789abcdef0123456789abcdef01234567')): Platform.SourceInfo => ({
  user: 'ada',
  sourceName: '/home/ada/eval/run.ts',
  gitCommit
})

// -------------------------------------------------------------------------------------
// the shared suite
// -------------------------------------------------------------------------------------

/** One point of a metric's history. */
export interface PointView {
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/**
 * A run as read back from a sink's storage, independently of the code under test. Metric
 * histories are sorted by step, then timestamp.
 */
export interface RunView {
  readonly status: string
  readonly startTime: number
  readonly endTime: number | undefined
  readonly params: Record<string, string>
  readonly metrics: Record<string, Array<PointView>>
  readonly tags: Record<string, string>
  readonly artifacts: Record<string, Uint8Array>
}

/** A sink under test, with a way to read its runs back and to release it. */
export interface SinkUnderTest {
  readonly sink: Sink.Sink
  readonly readRun: (runId: string) => Promise<RunView>
  readonly close: () => Promise<void>
}

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

/** A clock that stands still until a test moves it, so that every time is known exactly. */
const manualClock = (): Platform.Clock & { set: (t: number) => void } => {
  let now = T0
  return { now: () => now, set: (t) => void (now = t) }
}

const expectRight = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

/** The error a run-handle promise rejected with, or undefined when it resolved. */
const rejection = async (p: Promise<unknown>): Promise<Errors.TrackError | string | undefined> => {
  try {
    await p
    return undefined
  } catch (e) {
    return e instanceof Errors.TrackException ? e.error : `not a TrackException: ${String(e)}`
  }
}

/**
 * Two or more pipelines taking turns at fixed points, so that their awaits interleave in a
 * known order (no timers): `wait(n)` resolves once `next` was called `n` times.
 */
const turnstile = () => {
  let count = 0
  const waiting = new Map<number, () => void>()
  const wait = (n: number): Promise<void> =>
    count >= n ? Promise.resolve() : new Promise<void>((go) => void waiting.set(n, go))
  const next = (): void => {
    count++
    waiting.get(count)?.()
  }
  /** `body` runs at turn `n` and hands the turn on when it is done. */
  const at = <A>(n: number, body: Track.Track<A>): Track.Track<A> =>
    pipe(
      Track.fromPromise(() => wait(n)),
      Track.flatMap(() => body),
      Track.tap(() => Track.fromPromise(async () => next()))
    )
  return { wait, next, at }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/**
 * Every behaviour of the tracking core that reaches a sink, as subtests of `t` named after
 * `name`. `makeSink` is called once per subtest (share anything expensive, such as a server,
 * outside it) and its `close` is called when the subtest ends.
 */
export const behaviourSuite = (
  t: Test,
  name: string,
  makeSink: () => Promise<SinkUnderTest>
): Promise<unknown> =>
  t.test(`${name}: tracking core behaviour`, async (t) => {
    const uniq = randomUUID().slice(0, 8)
    const experimentName = (label: string): string => `${label} ${uniq}`
    const version = { 'charmory-track.version': VERSION }

    /** A sink, a clock, a logger and the program facts for one subtest. */
    const setup = async (t: Test) => {
      const under = await makeSink()
      t.teardown(() => under.close())
      const clock = manualClock()
      const { logger, warnings } = captureLogger()
      const env: Runtime.EnvInput & { readonly sink: Sink.Sink } = { sink: under.sink, clock, logger, source: () => fixedSource() }
      return { ...under, env, clock, warnings }
    }

    /** Checks the tags this library set, exactly; a sink may add `mlflow.*` tags of its own. */
    const tagsMatch = (t: Test, tags: Record<string, string>, expected: Record<string, string>): void => {
      t.strictSame(
        Object.fromEntries(Object.keys(expected).map((k) => [k, tags[k]])),
        expected,
        'tags set by the library'
      )
      const unexpected = Object.keys(tags).filter((k) => !(k in expected) && !k.startsWith('mlflow.'))
      t.strictSame(unexpected, [], 'no other tags outside mlflow.*')
    }

    /** Evaluates with no task output in the current context, for the run's params. */
    const paramsRun = (label: string): Track.Track<string> =>
      pipe(
        evaluate({ experiment: experimentName('params'), runName: label }, async () => undefined),
        Track.map((e) => e.runId)
      )

    t.test('evaluate records params, tags, streamed and result metrics, and ends FINISHED', async (t) => {
      const { env, clock, readRun } = await setup(t)
      const loadModel = (o: { name: string; optimizer: { lr: number } }): string => `model ${o.name}`
      const program = pipe(
        trackParam('batch_size', 16),
        Track.flatMap(() => fromRecorded(withParams(loadModel)({ name: 'resnet', optimizer: { lr: 0.001 } }))),
        Track.flatMap(() =>
          evaluate(
            { experiment: experimentName('evaluate'), runName: 'first', description: 'a run to read back', tags: { team: 'vision' } },
            async (r) => {
              clock.set(T0 + 1000)
              await r.logMetric('loss', 0.5, { step: 1 })
              await r.logMetric('loss', 0.25, { step: 2, timestamp: T0 + 1500 })
              await r.logMetrics({ 'eval/a': 1, 'eval/b': -2.5 }, { step: 3 })
              await r.setTag('phase', 'done')
              await r.setTag('epochs', 3)
              clock.set(T0 + 2000)
              return { accuracy: 0.9, chain: { clean: { acc: 0.75 } }, per_class: [0.125, 0.5] }
            }
          )
        )
      )
      const evaluation = expectRight(await run(program, env))
      t.strictSame(evaluation.results, { accuracy: 0.9, chain: { clean: { acc: 0.75 } }, per_class: [0.125, 0.5] })
      t.type(evaluation.runId, 'string')
      t.type(evaluation.experimentId, 'string')
      const view = await readRun(evaluation.runId)
      t.equal(view.status, 'FINISHED')
      t.equal(view.startTime, T0)
      t.equal(view.endTime, T0 + 2000)
      t.strictSame(view.params, {
        batch_size: '16',
        'loadModel.name': 'resnet',
        'loadModel.optimizer.lr': '0.001',
        ...version
      })
      t.strictSame(view.metrics, {
        loss: [
          { value: 0.5, step: 1, timestamp: T0 + 1000 },
          { value: 0.25, step: 2, timestamp: T0 + 1500 }
        ],
        'eval/a': [{ value: 1, step: 3, timestamp: T0 + 1000 }],
        'eval/b': [{ value: -2.5, step: 3, timestamp: T0 + 1000 }],
        accuracy: [{ value: 0.9, step: 0, timestamp: T0 + 2000 }],
        'chain/clean/acc': [{ value: 0.75, step: 0, timestamp: T0 + 2000 }],
        'per_class/0': [{ value: 0.125, step: 0, timestamp: T0 + 2000 }],
        'per_class/1': [{ value: 0.5, step: 0, timestamp: T0 + 2000 }]
      })
      tagsMatch(t, view.tags, {
        'mlflow.runName': 'first',
        'mlflow.user': 'ada',
        'mlflow.source.name': '/home/ada/eval/run.ts',
        'mlflow.source.type': 'LOCAL',
        'mlflow.source.git.commit': '0123456789abcdef0123456789abcdef01234567',
        'mlflow.note.content': 'a run to read back',
        team: 'vision',
        phase: 'done',
        epochs: '3'
      })
      t.strictSame(view.artifacts, {
        'results.json': utf8(JSON.stringify({ accuracy: 0.9, chain: { clean: { acc: 0.75 } }, per_class: [0.125, 0.5] }, null, 2))
      })
    })

    t.test('a run gets a default name; no git commit tag outside a checkout', async (t) => {
      const { env, readRun } = await setup(t)
      const experiment = experimentName('defaults')
      const noGit: Runtime.EnvInput = { ...env, source: () => fixedSource(O.none) }
      const { runId } = expectRight(await run(evaluate({ experiment }, () => undefined), noGit))
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.strictSame(view.params, version)
      t.match(view.tags['mlflow.runName'], new RegExp(`^${experiment}-20240501T120000-[0-9a-f]{6}$`))
      tagsMatch(t, view.tags, {
        'mlflow.runName': view.tags['mlflow.runName']!,
        'mlflow.user': 'ada',
        'mlflow.source.name': '/home/ada/eval/run.ts',
        'mlflow.source.type': 'LOCAL'
      })
      t.notOk('mlflow.source.git.commit' in view.tags)
      t.notOk('mlflow.note.content' in view.tags)
      t.strictSame(view.metrics, {})
    })

    t.test('the experiment is got by name, or created when missing', async (t) => {
      const { env } = await setup(t)
      const first = expectRight(await run(evaluate({ experiment: experimentName('same') }, () => undefined), env))
      const second = expectRight(await run(evaluate({ experiment: experimentName('same') }, () => undefined), env))
      const other = expectRight(await run(evaluate({ experiment: experimentName('other') }, () => undefined), env))
      t.equal(second.experimentId, first.experimentId)
      t.not(other.experimentId, first.experimentId)
      t.not(second.runId, first.runId)
    })

    t.test('the task may be a pipeline, which sees the params of the context', async (t) => {
      const { env, readRun } = await setup(t)
      const program = pipe(
        trackParam('seed', 7),
        Track.flatMap(() =>
          evaluate({ experiment: experimentName('pipeline task') }, (r) =>
            pipe(
              Track.fromPromise(() => r.logMetric('started', 1)),
              Track.flatMap(() => getParams),
              Track.map((p) => ({ params_seen: Object.keys(p).length }))
            )
          )
        )
      )
      const { runId, results } = expectRight(await run(program, env))
      t.strictSame(results, { params_seen: 1 })
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.strictSame(view.params, { seed: '7', ...version })
      t.strictSame(view.metrics, {
        started: [{ value: 1, step: 0, timestamp: T0 }],
        params_seen: [{ value: 1, step: 0, timestamp: T0 }]
      })
    })

    t.test('a task that throws ends the run FAILED with the error; what it logged stays', async (t) => {
      const { env, clock, readRun } = await setup(t)
      let runId = ''
      const program = pipe(
        trackParam('lr', 0.1),
        Track.flatMap(() =>
          evaluate({ experiment: experimentName('failing') }, async (r) => {
            runId = r.runId
            await r.logMetric('loss', 3, { step: 1 })
            clock.set(T0 + 60_000)
            throw new Error('loss diverged')
          })
        )
      )
      const result = await run(program, env)
      t.match(result, E.left({ _tag: 'TaskFailed', message: 'loss diverged' }))
      const view = await readRun(runId)
      t.equal(view.status, 'FAILED')
      t.equal(view.endTime, T0 + 60_000)
      t.strictSame(view.params, { lr: '0.1', ...version })
      t.strictSame(view.metrics, { loss: [{ value: 3, step: 1, timestamp: T0 }] })
      t.equal(view.tags['charmory.error'], 'task failed: loss diverged')
      t.equal(view.tags['charmory.error.type'], 'TaskFailed')
    })

    t.test('a pipeline task that fails ends the run FAILED too', async (t) => {
      const { env, readRun } = await setup(t)
      let runId = ''
      const failure = Errors.invalidKey('x//y', 'contains "//"')
      const program = evaluate({ experiment: experimentName('failing pipeline') }, (r) => {
        runId = r.runId
        return Track.fail(failure)
      })
      t.strictSame(await run(program, env), E.left(failure))
      const view = await readRun(runId)
      t.equal(view.status, 'FAILED')
      t.equal(view.tags['charmory.error'], Errors.describeError(failure))
      t.equal(view.tags['charmory.error.type'], 'InvalidKey')
    })

    t.test('a result that is not a number is a typed error, and the run ends FAILED', async (t) => {
      const { env, readRun } = await setup(t)
      let runId = ''
      const program = evaluate({ experiment: experimentName('bad results') }, async (r) => {
        runId = r.runId
        return { scores: { clean: 0.5, label: 'high' } } as unknown as Results.Results
      })
      const result = await run(program, env)
      t.strictSame(
        result,
        E.left({ _tag: 'InvalidValue', key: 'scores/label', reason: 'a metric must be a number, got string' })
      )
      const view = await readRun(runId)
      t.equal(view.status, 'FAILED')
      t.equal(view.tags['charmory.error.type'], 'InvalidValue')
      t.equal(view.tags['charmory.error'], 'invalid value for "scores/label": a metric must be a number, got string')
    })

    t.test('two runs started in one second (a parent and its child) get different default names', async (t) => {
      const { env, readRun } = await setup(t)
      const experiment = experimentName('same second')
      let childId = ''
      const program = evaluate({ experiment }, () =>
        pipe(
          evaluate({ experiment }, () => undefined),
          Track.map((child) => void (childId = child.runId))
        )
      )
      const parent = expectRight(await run(program, env))
      const names = [(await readRun(parent.runId)).tags['mlflow.runName'], (await readRun(childId)).tags['mlflow.runName']]
      for (const name of names) t.match(name, new RegExp(`^${experiment}-20240501T120000-[0-9a-f]{6}$`))
      t.not(names[0], names[1])
    })

    t.test('a result that is a Date, a Map or a class instance names its key, and the run ends FAILED', async (t) => {
      const { env, readRun } = await setup(t)
      const cases: ReadonlyArray<readonly [unknown, string, string]> = [
        [{ acc: 0.5, when: new Date(T0) }, 'when', 'a Date'],
        [{ per_class: new Map([['cat', 0.5]]) }, 'per_class', 'a Map'],
        [[0.5, new Set([1])], '1', 'a Set'],
        [new Map([['acc', 0.5]]), 'results', 'a Map']
      ]
      for (const [results, key, kind] of cases) {
        let runId = ''
        const result = await run(
          evaluate({ experiment: experimentName('odd results') }, async (r) => {
            runId = r.runId
            return results as Results.Results
          }),
          env
        )
        t.match(result, E.left({ _tag: 'InvalidValue', key, reason: new RegExp(`not ${kind}$`) }), `${kind} at ${key}`)
        const view = await readRun(runId)
        t.equal(view.status, 'FAILED')
        t.equal(view.tags['charmory.error.type'], 'InvalidValue')
        t.strictSame(view.metrics, {}, 'no metric is logged from results that are refused')
      }
    })

    t.test('a tag value that is not a string, number or boolean is refused, naming the tag', async (t) => {
      const { env, readRun } = await setup(t)
      const refusals: Array<Errors.TrackError | string | undefined> = []
      const { runId } = expectRight(
        await run(
          evaluate({ experiment: experimentName('tag values') }, async (r) => {
            await r.setTag('kept', 'yes')
            for (const bad of [{ a: 1 }, [1, 2], undefined, null, Symbol('s')]) {
              refusals.push(await rejection(r.setTag('bad', bad as unknown as string)))
            }
          }),
          env
        )
      )
      t.match(refusals, [
        { _tag: 'InvalidValue', key: 'bad', reason: /not an object$/ },
        { _tag: 'InvalidValue', key: 'bad', reason: /not an array$/ },
        { _tag: 'InvalidValue', key: 'bad', reason: /not undefined$/ },
        { _tag: 'InvalidValue', key: 'bad', reason: /not null$/ },
        { _tag: 'InvalidValue', key: 'bad', reason: /not a symbol$/ }
      ])
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.equal(view.tags['kept'], 'yes')
      t.notOk('bad' in view.tags, 'nothing is stored for a refused tag')
    })

    t.test('a spec that is not what it says (from untyped input) is an InvalidValue naming the field', async (t) => {
      const { env } = await setup(t)
      const experiment = experimentName('spec fields')
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ experiment: undefined }, 'experiment'],
        [{ experiment: 42 }, 'experiment'],
        [{ experiment, runName: 7 }, 'runName'],
        [{ experiment, description: { text: 'x' } }, 'description'],
        [{ experiment, tags: 'team=vision' }, 'tags'],
        [{ experiment, tags: ['vision'] }, 'tags'],
        [{ experiment, tags: { team: { name: 'vision' } } }, 'team'],
        [{ experiment, tags: { team: undefined } }, 'team'],
        [undefined, 'spec']
      ]
      for (const [spec, key] of cases) {
        let ran = false
        const result = await run(
          evaluate(spec as { experiment: string }, () => void (ran = true)),
          env
        )
        t.match(result, E.left({ _tag: 'InvalidValue', key }), `${String(JSON.stringify(spec))} names ${key}`)
        t.notOk(ran, 'the task does not run')
      }
    })

    t.test('a run handle used after its run ended is refused with RunEnded; nothing is stored', async (t) => {
      const { env, readRun } = await setup(t)
      let handle: RunHandle | undefined
      const { runId } = expectRight(
        await run(
          evaluate({ experiment: experimentName('ended') }, async (r) => {
            handle = r
            await r.logMetric('loss', 1)
          }),
          env
        )
      )
      const h = handle!
      const refusals = [
        await rejection(h.logMetric('loss', 2, { step: 1 })),
        await rejection(h.logMetrics({ late: 1 })),
        await rejection(h.setTag('late', 'x')),
        await rejection(h.logArtifact({ path: 'late.txt', text: 'x' })),
        await rejection(h.logArtifacts('/nowhere'))
      ]
      t.strictSame(refusals, Array(5).fill({ _tag: 'RunEnded', runId }))
      t.match(Errors.describeError(refusals[0] as Errors.TrackError), `reopen("${runId}", task)`)
      // reopen's handle is the way in, and it too ends with its reopen
      let reopened: RunHandle | undefined
      expectRight(
        await run(
          reopen(runId, async (r) => {
            reopened = r
            await r.logMetric('loss', 3, { step: 2 })
          }),
          env
        )
      )
      t.strictSame(await rejection(reopened!.logMetric('loss', 4, { step: 3 })), { _tag: 'RunEnded', runId })
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.strictSame(view.metrics, {
        loss: [
          { value: 1, step: 0, timestamp: T0 },
          { value: 3, step: 2, timestamp: T0 }
        ]
      })
      t.notOk('late' in view.tags)
      t.strictSame(view.artifacts, {})
    })

    t.test('logParam(s) from the run handle: converted, checked, new keys kept beside a conflict', async (t) => {
      const { env, readRun } = await setup(t)
      const refusals: Array<Errors.TrackError | string | undefined> = []
      let handle: RunHandle | undefined
      const program = pipe(
        trackParam('seed', 1),
        Track.flatMap(() =>
          evaluate({ experiment: experimentName('log-param') }, async (r) => {
            handle = r
            await r.logParam('threshold', 0.5)
            await r.logParam('seed', 1) // the value it holds: nothing to do
            await r.logParams({ dataset: { name: 'mnist', version: 3 }, api_token: 'hunter2', tried: [1, 2] })
            refusals.push(await rejection(r.logParam('seed', 2)))
            refusals.push(await rejection(r.logParams({ fresh: 'a', threshold: 0.7, other: true, seed: 3 })))
            refusals.push(await rejection(r.logParam('bad//key', 1)))
            refusals.push(await rejection(r.logParam('unset', undefined)))
            refusals.push(await rejection(r.logParams({ fine: 1, nested: { 'x,': 1 } })))
            refusals.push(await rejection(r.logParams(null as unknown as Record<string, unknown>)))
          })
        ),
        Track.flatMap(({ runId }) =>
          reopen(runId, async (r) => {
            await r.logParam('resolved_later', 'v2')
            refusals.push(await rejection(r.logParams({ threshold: 0.9 })))
            return runId
          })
        )
      )
      const runId = expectRight(await run(program, env))
      refusals.push(await rejection(handle!.logParam('late', 1)))
      t.match(refusals, [
        { _tag: 'ParamConflict', runId, key: 'seed', recorded: '1', attempted: '2' },
        { _tag: 'ParamConflict', runId, key: 'threshold', recorded: '0.5', attempted: '0.7' },
        { _tag: 'InvalidKey', key: 'bad//key' },
        { _tag: 'InvalidValue', key: 'unset' },
        { _tag: 'InvalidKey', key: 'nested.x,' },
        { _tag: 'InvalidValue', key: 'params', reason: 'logParams takes params as a record, not null' },
        { _tag: 'ParamConflict', runId, key: 'threshold', recorded: '0.5', attempted: '0.9' },
        { _tag: 'RunEnded', runId }
      ])
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.strictSame(view.params, {
        ...version,
        seed: '1',
        threshold: '0.5',
        'dataset.name': 'mnist',
        'dataset.version': '3',
        api_token: '***',
        tried: '[1,2]',
        fresh: 'a',
        other: 'true',
        resolved_later: 'v2'
      })
    })

    t.test('a value longer than MLflow keeps is kept alike by every sink: cut, a long param whole as params/<key>.txt, warned', async (t) => {
      const { env, readRun, warnings } = await setup(t)
      // 6001 characters, the last two outside the BMP: cut by code points, as the server counts
      const param = 'p'.repeat(5999) + '\u{1F600}\u{1F601}'
      const tag = 't'.repeat(8001)
      const { runId } = expectRight(
        await run(
          pipe(
            trackParam('prompt', param),
            Track.flatMap(() =>
              evaluate({ experiment: experimentName('limits'), description: tag, tags: { spec_tag: tag } }, async (r) => {
                await r.logParam('found', `${param}!`)
                await r.setTag('long', tag)
                await r.setTag('short', 'kept')
              })
            )
          ),
          env
        )
      )
      const cut = [...param].slice(0, 6000).join('')
      const view = await readRun(runId)
      t.equal(view.params['prompt'], cut)
      t.equal(view.params['found'], cut)
      t.equal(new TextDecoder().decode(view.artifacts['params/prompt.txt']), param, 'the whole value beside it')
      t.equal(new TextDecoder().decode(view.artifacts['params/found.txt']), `${param}!`)
      for (const key of ['long', 'spec_tag', 'mlflow.note.content']) t.equal(view.tags[key], tag.slice(0, 8000), key)
      t.equal(view.tags['short'], 'kept')
      t.match(warnings.filter((w) => /characters/.test(w)).sort(), [
        /param "found" has 6002 characters; MLflow keeps 6000: the whole value is the artifact params\/found.txt/,
        /param "prompt" has 6001 characters; MLflow keeps 6000: the whole value is the artifact params\/prompt.txt/,
        /tag "long" is longer than MLflow's 8000 characters and was cut/,
        /tag "mlflow.note.content" is longer than MLflow's 8000 characters and was cut/,
        /tag "spec_tag" is longer than MLflow's 8000 characters and was cut/
      ])
    })

    t.test('keys named after Object.prototype are keys like any other: stored, read back, searched', async (t) => {
      const { env, readRun } = await setup(t)
      const experiment = experimentName('prototype keys')
      const { runId } = expectRight(
        await run(
          evaluate({ experiment, tags: { constructor: 'c' } }, async (r) => {
            await r.logParams({ ['__proto__']: 'p', constructor: 'c', toString: 't' })
            await r.logMetric('__proto__', 1, { step: 0 })
            await r.logMetric('__proto__', 2, { step: 1 })
            await r.logMetric('hasOwnProperty', NaN)
            await r.setTag('toString', 'tag')
          }),
          env
        )
      )
      const view = await readRun(runId)
      t.strictSame([view.params['__proto__'], view.params['constructor'], view.params['toString']], ['p', 'c', 't'])
      t.ok(Object.hasOwn(view.metrics, '__proto__') && Object.hasOwn(view.metrics, 'hasOwnProperty'))
      t.strictSame([view.tags['constructor'], view.tags['toString']], ['c', 'tag'])
      const query = env.sink.query
      if (query === undefined) return
      const found = expectRight(await query.getRun(runId)())
      t.ok(Object.hasOwn(found.params, '__proto__') && Object.hasOwn(found.metrics, '__proto__'), 'getRun keeps them')
      t.equal(found.metrics['__proto__'], 2)
      t.strictSame(expectRight(await query.getMetricHistory(runId, '__proto__')()).metrics.map((m) => m.value), [1, 2])
      for (const missing of ['constructor', 'valueOf']) {
        t.strictSame(expectRight(await query.getMetricHistory(runId, missing)()).metrics, [], `no ${missing} history`)
      }
      const hits = async (filter: string): Promise<number> => expectRight(await query.searchRuns({ experiments: [experiment], filter })()).runs.length
      t.equal(await hits("params.`__proto__` = 'p' and params.toString = 't' and tags.constructor = 'c'"), 1)
      t.equal(await hits('metrics.`__proto__` = 2'), 1)
      t.equal(await hits("params.valueOf = 'x'"), 0, 'a key the run does not have matches nothing')
    })

    t.test('an evaluate inside a task opens a child run tagged with its parent', async (t) => {
      const { env, clock, readRun } = await setup(t)
      const experiment = experimentName('nested')
      let childRunId = ''
      let failedChildId = ''
      const program = pipe(
        trackParam('model', 'resnet'),
        Track.flatMap(() =>
          evaluate({ experiment, runName: 'parent' }, (parent) =>
            pipe(
              Track.fromPromise(() => parent.logMetric('parent_metric', 1)),
              Track.flatMap(() => trackParam('chain', 'clean')),
              Track.flatMap(() =>
                evaluate({ experiment, runName: 'chain-clean' }, async (child) => {
                  childRunId = child.runId
                  clock.set(T0 + 10)
                  return { acc: 0.5 }
                })
              ),
              Track.flatMap(() =>
                evaluate({ experiment, runName: 'chain-attack' }, async (child) => {
                  failedChildId = child.runId
                  throw new Error('attack crashed')
                })
              ),
              Track.either,
              Track.map((attack) => ({ chains: 2, attack_failed: E.isLeft(attack) ? 1 : 0 }))
            )
          )
        )
      )
      const parent = expectRight(await run(program, env))
      const [p, child, failed] = await Promise.all([readRun(parent.runId), readRun(childRunId), readRun(failedChildId)])
      t.equal(p.status, 'FINISHED', 'a child that failed and was recovered from leaves the parent FINISHED')
      t.notOk('mlflow.parentRunId' in p.tags)
      t.strictSame(p.params, { model: 'resnet', ...version })
      t.strictSame(p.metrics, {
        parent_metric: [{ value: 1, step: 0, timestamp: T0 }],
        chains: [{ value: 2, step: 0, timestamp: T0 + 10 }],
        attack_failed: [{ value: 1, step: 0, timestamp: T0 + 10 }]
      })
      t.equal(child.status, 'FINISHED')
      t.equal(child.tags['mlflow.parentRunId'], parent.runId)
      t.equal(child.tags['mlflow.runName'], 'chain-clean')
      t.strictSame(child.params, { model: 'resnet', chain: 'clean', ...version })
      t.strictSame(child.metrics, { acc: [{ value: 0.5, step: 0, timestamp: T0 + 10 }] })
      t.equal(failed.status, 'FAILED')
      t.equal(failed.tags['mlflow.parentRunId'], parent.runId)
      t.equal(failed.tags['charmory.error'], 'task failed: attack crashed')
    })

    t.test('reopen adds metrics and artifacts after the run ended, leaving status and end time', async (t) => {
      const { env, clock, readRun } = await setup(t)
      const program = pipe(
        evaluate({ experiment: experimentName('reopen') }, async () => {
          clock.set(T0 + 100)
          return { accuracy: 0.5 }
        }),
        Track.tap(() => Track.fromPromise(async () => clock.set(T0 + 5000))),
        Track.flatMap(({ runId }) =>
          reopen(runId, async (r) => {
            t.equal(r.runId, runId)
            await r.logMetric('custom_metric', 42)
            await r.logMetric('accuracy', 0.75, { step: 1 })
            await r.logArtifact({ path: 'notes/summary.txt', text: 'reopened later' })
            return runId
          })
        ),
        Track.flatMap((runId) =>
          reopen(runId, (r) =>
            pipe(
              Track.fromPromise(() => r.setTag('reviewed', true)),
              Track.as(runId)
            )
          )
        )
      )
      const runId = expectRight(await run(program, env))
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.equal(view.endTime, T0 + 100)
      t.strictSame(view.metrics, {
        accuracy: [
          { value: 0.5, step: 0, timestamp: T0 + 100 },
          { value: 0.75, step: 1, timestamp: T0 + 5000 }
        ],
        custom_metric: [{ value: 42, step: 0, timestamp: T0 + 5000 }]
      })
      t.strictSame(view.artifacts, {
        'notes/summary.txt': utf8('reopened later'),
        'results.json': utf8(JSON.stringify({ accuracy: 0.5 }, null, 2))
      })
      t.equal(view.tags['reviewed'], 'true')
    })

    t.test('reopening a run that does not exist is a NotFound naming it, and the task never runs', async (t) => {
      const { env } = await setup(t)
      const missing = '0123456789abcdef0123456789abcdef'
      let ran = false
      const result = await run(
        reopen(missing, async () => {
          ran = true
        }),
        env
      )
      t.match(result, E.left({ _tag: 'NotFound', what: 'run', id: missing }))
      t.notOk(ran)
    })

    t.test('the run handle rejects bad input at once, naming it; nothing logged before is lost', async (t) => {
      const { env, readRun } = await setup(t)
      const refusals: Array<Errors.TrackError | string | undefined> = []
      const program = evaluate({ experiment: experimentName('handle') }, async (r) => {
        await r.logMetric('kept', 1, { step: 0 })
        refusals.push(await rejection(r.logMetric('bad//key', 1)))
        refusals.push(await rejection(r.logMetric('loss', 'low' as unknown as number)))
        refusals.push(await rejection(r.logMetric('loss', 1, { step: 1.5 })))
        refusals.push(await rejection(r.logMetric('loss', 1, { timestamp: 1.5 })))
        refusals.push(await rejection(r.logMetrics({ fine: 1, 'not fine,': 2 })))
        refusals.push(await rejection(r.setTag('/tag', 'x')))
        refusals.push(await rejection(r.logArtifact({ path: '../outside.txt', text: 'x' })))
        refusals.push(await rejection(r.logArtifact({ path: '/etc/passwd', text: 'x' })))
        refusals.push(await rejection(r.logArtifact({ path: 'x.txt', text: 'x' }, '../up')))
        await r.logMetric('kept', 2, { step: 1 })
        return { after: 1 }
      })
      const { runId } = expectRight(await run(program, env))
      t.match(refusals, [
        { _tag: 'InvalidKey', key: 'bad//key' },
        { _tag: 'InvalidValue', key: 'loss', reason: 'a metric must be a number, got string' },
        { _tag: 'InvalidValue', key: 'loss', reason: 'the step must be an integer, got 1.5' },
        { _tag: 'InvalidValue', key: 'loss', reason: 'the timestamp must be integer milliseconds, got 1.5' },
        { _tag: 'InvalidKey', key: 'not fine,' },
        { _tag: 'InvalidKey', key: '/tag' },
        { _tag: 'InvalidArtifactPath', path: '../outside.txt' },
        { _tag: 'InvalidArtifactPath', path: '/etc/passwd' },
        { _tag: 'InvalidArtifactPath', path: '../up/x.txt' }
      ])
      const view = await readRun(runId)
      t.equal(view.status, 'FINISHED')
      t.strictSame(view.metrics, {
        kept: [
          { value: 1, step: 0, timestamp: T0 },
          { value: 2, step: 1, timestamp: T0 }
        ],
        after: [{ value: 1, step: 0, timestamp: T0 }]
      })
      t.notOk('/tag' in view.tags)
      t.strictSame(view.artifacts, { 'results.json': utf8(JSON.stringify({ after: 1 }, null, 2)) })
    })

    t.test('artifacts: a file, bytes, text, and a folder keeping its relative paths', async (t) => {
      const { env, readRun } = await setup(t)
      const weights = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256)
      const dir = t.testdir({
        'model.bin': Buffer.from(weights),
        sub: { 'a.txt': 'first', deeper: { 'b.json': '{"k":1}' } }
      })
      let missing: Errors.TrackError | string | undefined
      const program = evaluate({ experiment: experimentName('artifacts') }, async (r) => {
        await r.logArtifact(join(dir, 'model.bin'))
        await r.logArtifact(join(dir, 'model.bin'), 'weights')
        await r.logArtifact({ path: 'raw/bytes.bin', bytes: Uint8Array.of(0, 255, 10, 13) })
        await r.logArtifact({ path: 'notes.txt', text: 'héllo ✓' }, 'docs')
        await r.logArtifacts(join(dir, 'sub'))
        await r.logArtifacts(dir, 'all')
        missing = await rejection(r.logArtifact(join(dir, 'absent.bin')))
      })
      const { runId } = expectRight(await run(program, env))
      t.match(missing, { _tag: 'FileError', path: join(dir, 'absent.bin') })
      const view = await readRun(runId)
      t.strictSame(view.artifacts, {
        'model.bin': weights,
        'weights/model.bin': weights,
        'raw/bytes.bin': Uint8Array.of(0, 255, 10, 13),
        'docs/notes.txt': utf8('héllo ✓'),
        'a.txt': utf8('first'),
        'deeper/b.json': utf8('{"k":1}'),
        'all/model.bin': weights,
        'all/sub/a.txt': utf8('first'),
        'all/sub/deeper/b.json': utf8('{"k":1}')
      })
    })

    // ---------------------------------------------------------------------------------
    // the conformance cases of the original (reference/armory-semantics.md), each also
    // visible in the params of a run evaluated where it matters
    // ---------------------------------------------------------------------------------

    const f = (o: Record<string, unknown>): number => Object.keys(o).length

    /** Runs `program`, which yields run ids by label, and checks each run's params. */
    const conformance = async (
      t: Test,
      program: Track.Track<Record<string, string>>,
      expected: Record<string, Record<string, string>>
    ): Promise<void> => {
      const { env, readRun } = await setup(t)
      const runs = expectRight(await run(program, env))
      for (const [label, params] of Object.entries(expected)) {
        const runId = runs[label]
        if (runId === undefined) throw new Error(`no run labelled ${label}`)
        t.strictSame((await readRun(runId)).params, { ...params, ...version }, label)
      }
    }

    /** The current params must be `expected` here. */
    const expectParams = (t: Test, expected: Record<string, string>, label: string): Track.Track<void> =>
      pipe(
        getParams,
        Track.map((p) => void t.strictSame(p, expected, label))
      )

    t.test('case 1: a second call replaces every param of the first', async (t) => {
      const program = pipe(
        fromRecorded(withParams(f)({ name: 'a', extra: true })),
        Track.flatMap(() => fromRecorded(withParams(f)({ name: 'b' }))),
        Track.flatMap(() => expectParams(t, { 'f.name': 'b' }, 'f.extra removed')),
        Track.flatMap(() => paramsRun('case 1')),
        Track.map((id) => ({ run: id }))
      )
      await conformance(t, program, { run: { 'f.name': 'b' } })
    })

    t.test('case 2: a wrapped call removes a manual param under its prefix', async (t) => {
      const program = pipe(
        trackParam('f.x', 1),
        Track.flatMap(() => fromRecorded(withParams(f)({ name: 'c' }))),
        Track.flatMap(() => expectParams(t, { 'f.name': 'c' }, 'f.x removed')),
        Track.flatMap(() => paramsRun('case 2')),
        Track.map((id) => ({ run: id }))
      )
      await conformance(t, program, { run: { 'f.name': 'c' } })
    })

    t.test('case 3: prefix "a.b" then "a" keeps both; a second "a" removes every a.* key', async (t) => {
      const program = pipe(
        fromRecorded(withParams(f, { prefix: 'a.b' })({ x: 1 })),
        Track.flatMap(() => fromRecorded(withParams(f, { prefix: 'a' })({ y: 2 }))),
        Track.flatMap(() => expectParams(t, { 'a.b.x': '1', 'a.y': '2' }, 'both kept')),
        Track.bind('both', () => paramsRun('case 3 both')),
        Track.tap(() => fromRecorded(withParams(f, { prefix: 'a' })({ z: 3 }))),
        Track.tap(() => expectParams(t, { 'a.z': '3' }, 'a.b.x and a.y removed')),
        Track.bind('after', () => paramsRun('case 3 after'))
      )
      await conformance(t, program, { both: { 'a.b.x': '1', 'a.y': '2' }, after: { 'a.z': '3' } })
    })

    t.test('case 4: ignore skips exact names only', async (t) => {
      const program = pipe(
        fromRecorded(withParams(f, { ignore: ['c'] })({ b: 7, c: 'x', cc: 'y' })),
        Track.flatMap(() => expectParams(t, { 'f.b': '7', 'f.cc': 'y' }, 'only c skipped')),
        Track.flatMap(() => paramsRun('case 4')),
        Track.map((id) => ({ run: id }))
      )
      await conformance(t, program, { run: { 'f.b': '7', 'f.cc': 'y' } })
    })

    t.test('case 5: a fresh child starts empty; the parent keeps its value', async (t) => {
      const program = pipe(
        trackParam('key', 'global'),
        Track.flatMap(() => Track.Do),
        Track.bind('child', () =>
          fork(
            pipe(
              expectParams(t, {}, 'the fresh child starts empty'),
              Track.flatMap(() => trackParam('key', 'child')),
              Track.flatMap(() => expectParams(t, { key: 'child' }, 'inside')),
              Track.flatMap(() => paramsRun('case 5 child'))
            )
          )
        ),
        Track.tap(() => expectParams(t, { key: 'global' }, 'after')),
        Track.bind('parent', () => paramsRun('case 5 parent'))
      )
      await conformance(t, program, { child: { key: 'child' }, parent: { key: 'global' } })
    })

    t.test('case 6: a nested child starts from the parent; what it adds stays inside', async (t) => {
      const program = pipe(
        trackParam('key1', 'global'),
        Track.flatMap(() => Track.Do),
        Track.bind('child', () =>
          fork(
            pipe(
              trackParam('key2', 'child'),
              Track.flatMap(() => expectParams(t, { key1: 'global', key2: 'child' }, 'inside')),
              Track.flatMap(() => paramsRun('case 6 child'))
            ),
            { nested: true }
          )
        ),
        Track.tap(() => expectParams(t, { key1: 'global' }, 'after')),
        Track.bind('parent', () => paramsRun('case 6 parent'))
      )
      await conformance(t, program, { child: { key1: 'global', key2: 'child' }, parent: { key1: 'global' } })
    })

    t.test('case 7: a failure inside a child leaves the parent exactly as it was', async (t) => {
      let childRun = ''
      const program = pipe(
        trackParam('key', 'global'),
        Track.flatMap(() => trackParam('other', 1)),
        Track.flatMap(() =>
          fork(
            pipe(
              trackParam('key', 'child'),
              Track.flatMap(() => resetParams),
              Track.flatMap(() => trackParam('only', 'child')),
              Track.flatMap(() =>
                evaluate({ experiment: experimentName('params'), runName: 'case 7 child' }, async (r) => {
                  childRun = r.runId
                  throw new Error('child failed')
                })
              )
            ),
            { nested: true }
          )
        ),
        Track.either,
        Track.tap((outcome) => Track.fromPromise(async () => t.match(outcome, E.left({ _tag: 'TaskFailed', message: 'child failed' })))),
        Track.tap(() => expectParams(t, { key: 'global', other: '1' }, 'after the failure')),
        Track.flatMap(() => paramsRun('case 7 parent')),
        Track.map((parent) => ({ parent, child: childRun }))
      )
      await conformance(t, program, { child: { only: 'child' }, parent: { key: 'global', other: '1' } })
    })

    t.test('case 8: resetParams inside a child leaves the parent intact', async (t) => {
      const program = pipe(
        trackParam('key', 'global'),
        Track.flatMap(() => Track.Do),
        Track.bind('child', () =>
          fork(
            pipe(
              resetParams,
              Track.flatMap(() => expectParams(t, {}, 'reset inside')),
              Track.flatMap(() => trackParam('after_reset', 1)),
              Track.flatMap(() => paramsRun('case 8 child'))
            ),
            { nested: true }
          )
        ),
        Track.tap(() => expectParams(t, { key: 'global' }, 'parent intact')),
        Track.bind('parent', () => paramsRun('case 8 parent'))
      )
      await conformance(t, program, { child: { after_reset: '1' }, parent: { key: 'global' } })
    })

    t.test('case 9: mutating an argument after it was recorded changes nothing recorded', async (t) => {
      const options = { layers: [64, 64], optimizer: { lr: 0.1 } }
      const config = { seed: 1 }
      const program = pipe(
        fromRecorded(withParams(f, { prefix: 'build' })(options)),
        Track.flatMap(() => trackParam('config', config)),
        Track.flatMap(() =>
          Track.fromPromise(async () => {
            options.layers.push(10)
            options.optimizer.lr = 0.5
            config.seed = 2
          })
        ),
        Track.flatMap(() => paramsRun('case 9')),
        Track.map((id) => ({ run: id }))
      )
      await conformance(t, program, {
        run: { 'build.layers': '[64,64]', 'build.optimizer.lr': '0.1', 'config.seed': '1' }
      })
    })

    t.test('two pipelines run concurrently, interleaving awaits, never see each other\'s params', async (t) => {
      const { env, readRun } = await setup(t)
      const { wait, next, at } = turnstile()
      const experiment = experimentName('concurrent')
      // turns: A0 B1 A2 B3, A's evaluation starts at 4 and waits inside its task while B
      // records more and starts its own (5, 6), then each logs and ends (7, 8)
      const pipelineA = pipe(
        at(0, trackParam('who', 'A')),
        Track.flatMap(() => at(2, trackParam('A.only', 1))),
        Track.flatMap(() => Track.fromPromise(() => wait(4))),
        Track.flatMap(() =>
          evaluate({ experiment, runName: 'A' }, async (r) => {
            next() // 5: B goes on while this run is open
            await wait(6)
            await r.logMetric('progress', 1)
            next() // 7
            return { score: 1 }
          })
        ),
        Track.flatMap((e) => pipe(getParams, Track.map((p) => ({ runId: e.runId, p }))))
      )
      const pipelineB = pipe(
        at(1, trackParam('who', 'B')),
        Track.flatMap(() => at(3, trackParam('B.only', 2))),
        Track.flatMap(() => Track.fromPromise(() => wait(4))),
        Track.flatMap(() => at(4, Track.of(undefined))),
        Track.flatMap(() => Track.fromPromise(() => wait(5))),
        Track.flatMap(() => trackParam('late', 'B')),
        Track.flatMap(() =>
          evaluate({ experiment, runName: 'B' }, async (r) => {
            next() // 6: A logs inside its open run
            await wait(7)
            await r.logMetric('progress', 2)
            return { score: 2 }
          })
        ),
        Track.flatMap((e) => pipe(getParams, Track.map((p) => ({ runId: e.runId, p }))))
      )
      const [a, b] = await Promise.all([run(pipelineA, env), run(pipelineB, env)])
      const ra = expectRight(a)
      const rb = expectRight(b)
      t.strictSame(ra.p, { who: 'A', 'A.only': '1' })
      t.strictSame(rb.p, { who: 'B', 'B.only': '2', late: 'B' })
      const [va, vb] = await Promise.all([readRun(ra.runId), readRun(rb.runId)])
      t.strictSame(va.params, { who: 'A', 'A.only': '1', ...version })
      t.strictSame(vb.params, { who: 'B', 'B.only': '2', late: 'B', ...version })
      t.strictSame(va.metrics['progress'], [{ value: 1, step: 0, timestamp: T0 }])
      t.strictSame(vb.metrics['progress'], [{ value: 2, step: 0, timestamp: T0 }])
      t.equal(va.status, 'FINISHED')
      t.equal(vb.status, 'FINISHED')
    })

    queryCases(t, experimentName, setup)
  })
