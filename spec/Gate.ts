import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, Sink, Gate, memorySink, run } from 'charmory-track'
import { right } from './support/local-store.js'

/** Runs of `experiment` in start order, each with the metrics given (a status other than FINISHED when asked). */
let clock = 1000

const fill = async (sink: Sink.Sink, experiment: string, runs: ReadonlyArray<Readonly<Record<string, number>> & { status?: never }>, statuses: ReadonlyArray<Sink.RunStatus> = []) => {
  const experimentId = right(await sink.experiment(experiment)())
  const ids: Array<string> = []
  for (const [i, metrics] of runs.entries()) {
    const now = clock++
    const r = right(await sink.openRun({ experimentId, runName: `run-${i}`, startTime: now, tags: [] })())
    right(await r.logMetrics(Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: now })))())
    const status = statuses[i] ?? 'FINISHED'
    if (status !== 'RUNNING') right(await r.end(status, now)())
    ids.push(r.runId)
  }
  return ids
}

const leftOf = <A>(r: E.Either<Errors.TrackError, A>): Errors.TrackError => {
  if (E.isRight(r)) throw new Error('expected a failure')
  return r.left
}

t.test('lowerIsBetter reads the metric name; better compares either way', async (t) => {
  for (const m of ['loss', 'val_loss', 'eval/loss', 'error_rate', 'mse', 'rmse', 'wer', 'perplexity', 'latency_ms', 'train_time', 'Loss']) {
    t.ok(Gate.lowerIsBetter(m), m)
  }
  for (const m of ['accuracy', 'f1', 'auc', 'eval/acc', 'robust_accuracy', 'recall']) t.notOk(Gate.lowerIsBetter(m), m)
  t.ok(Gate.better('higher', 2, 1))
  t.ok(Gate.better('lower', 1, 2))
  t.notOk(Gate.better('higher', NaN, 1))
})

t.test('the newest finished run against the best other one: ok, within tolerance, or a regression', async (t) => {
  const sink = memorySink()
  const q = sink.query
  const [a, b] = await fill(sink, 'nightly', [{ accuracy: 0.9 }, { accuracy: 0.95 }])
  const ok = right(await Gate.gate(q, { experiment: 'nightly', metric: 'accuracy' })())
  t.match(ok, { ok: true, direction: 'higher', tolerance: 0, candidate: { runId: b, value: 0.95 }, baseline: { runId: a, value: 0.9 } })
  t.equal(ok.reason, `ok: accuracy 0.95 (run ${b}) against the baseline 0.9 (run ${a}), tolerance 0 (higher is better)`)

  const [c] = await fill(sink, 'nightly', [{ accuracy: 0.945 }])
  const within = right(await Gate.gate(q, { experiment: 'nightly', metric: 'accuracy', tolerance: 0.01 })())
  t.match(within, { candidate: { runId: c }, baseline: { runId: b } })
  const worse = leftOf(await Gate.gate(q, { experiment: 'nightly', metric: 'accuracy', tolerance: 0.001 })())
  t.strictSame(worse, {
    _tag: 'Regression',
    metric: 'accuracy',
    runId: c,
    value: 0.945,
    baselineRunId: b,
    baselineValue: 0.95,
    reason: `accuracy 0.945 (run ${c}) is worse than the baseline 0.95 (run ${b}) by 0.005, beyond the tolerance 0.001 (higher is better)`
  })
  t.match(Errors.describeError(worse), /^regression: accuracy 0.945/)
  // a baseline by id, and a candidate by id
  t.match(right(await Gate.gate(q, { metric: 'accuracy', baseline: a! })()), { candidate: { runId: c }, baseline: { runId: a } })
  t.match(right(await Gate.gate(q, { metric: 'accuracy', candidate: b! })()), { candidate: { runId: b }, baseline: { runId: c } })
})

t.test('lower is better for a loss, or when told; a first run passes with no baseline', async (t) => {
  const sink = memorySink()
  const [a, b] = await fill(sink, 'losses', [{ val_loss: 0.5 }, { val_loss: 0.6 }])
  t.match(leftOf(await Gate.gate(sink.query, { experiment: 'losses', metric: 'val_loss', tolerance: 0.05 })()), {
    _tag: 'Regression',
    reason: `val_loss 0.6 (run ${b}) is worse than the baseline 0.5 (run ${a}) by 0.1, beyond the tolerance 0.05 (lower is better)`
  })
  t.match(right(await Gate.gate(sink.query, { experiment: 'losses', metric: 'val_loss', direction: 'higher' })()), { baseline: { runId: a } })
  const first = memorySink()
  const [only] = await fill(first, 'new', [{ accuracy: 0.5 }])
  const verdict = right(await Gate.gate(first.query, { experiment: 'new', metric: 'accuracy' })())
  t.equal(verdict.baseline, undefined)
  t.equal(verdict.reason, `ok: accuracy 0.5 (run ${only}), no baseline run has accuracy yet`)
})

t.test('runs without the metric, NaN, and unfinished runs are no baseline', async (t) => {
  const sink = memorySink()
  const [best] = await fill(sink, 'many', [{ accuracy: 0.7 }, { other: 1 }, { accuracy: NaN }, { accuracy: 0.99 }, { accuracy: 0.8 }], [
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FAILED'
  ])
  const verdict = right(await Gate.gate(sink.query, { experiment: 'many', metric: 'accuracy' })())
  t.match(verdict, { candidate: { value: 0.8 }, baseline: { runId: best, value: 0.7 } })
})

t.test('what the gate cannot judge is a typed error naming it', async (t) => {
  const sink = memorySink()
  const [a, b] = await fill(sink, 'gaps', [{ accuracy: 0.9 }, { loss: 1 }])
  t.strictSame(leftOf(await Gate.gate(sink.query, { experiment: 'gaps', metric: 'accuracy' })()), { _tag: 'NotFound', what: 'metric', id: `${b}/accuracy` })
  t.strictSame(leftOf(await Gate.gate(sink.query, { experiment: 'gaps', metric: 'accuracy', candidate: a!, baseline: b! })()), {
    _tag: 'NotFound',
    what: 'metric',
    id: `${b}/accuracy`
  })
  t.strictSame(leftOf(await Gate.gate(sink.query, { experiment: 'none', metric: 'accuracy' })()), {
    _tag: 'NotFound',
    what: 'run',
    id: 'finished, of experiment "none"'
  })
  t.match(leftOf(await Gate.gate(sink.query, { metric: 'accuracy' })()), { _tag: 'InvalidValue', key: 'experiment' })
  t.match(leftOf(await Gate.gate(sink.query, { metric: 'accuracy', baseline: 'best' })()), { _tag: 'InvalidValue', key: 'experiment' })
  for (const tolerance of [-1, NaN, Infinity]) {
    t.match(leftOf(await Gate.gate(sink.query, { experiment: 'gaps', metric: 'accuracy', tolerance })()), { _tag: 'InvalidValue', key: 'tolerance' })
  }
  t.match(leftOf(await Gate.gate(sink.query, { metric: 'accuracy', baseline: 'nope' })()), { _tag: 'NotFound', what: 'run' })
  const running = memorySink()
  const [r] = await fill(running, 'running', [{ accuracy: 1 }], ['RUNNING'])
  t.strictSame(leftOf(await Gate.gate(running.query, { metric: 'accuracy', baseline: r! })()), {
    _tag: 'NotFound',
    what: 'run',
    id: `finished, of experiment id ${r === undefined ? '' : right(await running.query.getRun(r)()).experimentId}`
  })
})

t.test('gateStep runs over the environment\'s sink; a regression fails the pipeline', async (t) => {
  const sink = memorySink()
  await fill(sink, 'step', [{ accuracy: 0.9 }, { accuracy: 0.8 }])
  t.match(await run(Gate.gateStep({ experiment: 'step', metric: 'accuracy' }), { sink }), E.left({ _tag: 'Regression' }))
  t.match(await run(Gate.gateStep({ experiment: 'step', metric: 'accuracy', tolerance: 0.2 }), { sink }), E.right({ ok: true }))
  const blind: Sink.Sink = { name: 'blind', experiment: sink.experiment, openRun: sink.openRun, reopenRun: sink.reopenRun }
  t.match(await run(Gate.gateStep({ experiment: 'step', metric: 'accuracy' }), { sink: blind }), E.left({ _tag: 'ConfigError' }))
})

t.test('the gate decodes its options: each bad one is an InvalidValue naming it', async (t) => {
  const sink = memorySink()
  await fill(sink, 'options', [{ accuracy: 0.9 }])
  const js = (u: unknown): Gate.GateOptions => u as Gate.GateOptions
  const cases: ReadonlyArray<readonly [unknown, string, RegExp]> = [
    [null, 'options', /^gate takes options as options such as \{ metric \}, not null$/],
    [{ experiment: 'options' }, 'metric', /^gate takes metric as a string, not undefined$/],
    [{ metric: 5 }, 'metric', /not a number$/],
    [{ metric: 'accuracy', experiment: ['options'] }, 'experiment', /as a string, not an array$/],
    [{ metric: 'accuracy', experiment: 'options', tolerance: '0.1' }, 'tolerance', /as a number, not a string$/],
    [{ metric: 'accuracy', experiment: 'options', direction: 'up' }, 'direction', /as 'higher' or 'lower', not a string$/],
    [{ metric: 'accuracy', experiment: 'options', direction: 'constructor' }, 'direction', /'higher' or 'lower'/],
    [{ metric: 'accuracy', baseline: 7 }, 'baseline', /as a string/],
    [{ metric: 'accuracy', candidate: {} }, 'candidate', /as a string, not an object$/]
  ]
  for (const [options, key, reason] of cases) {
    t.match(leftOf(await Gate.gate(sink.query, js(options))()), { _tag: 'InvalidValue', key, reason }, JSON.stringify(options))
  }
  t.match(await run(Gate.gateStep(js({ metric: 1 })), { sink }), E.left({ _tag: 'InvalidValue', key: 'metric' }))
})
