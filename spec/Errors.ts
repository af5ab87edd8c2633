import t from 'tap'
import { Errors } from 'charmory-track'

t.test('describeError names what is at fault in one sentence', async (t) => {
  const cases: ReadonlyArray<readonly [Errors.TrackError, string]> = [
    [Errors.invalidKey('a//b', 'contains "//"'), 'invalid key "a//b": contains "//"'],
    [Errors.invalidValue('f.when', 'the Date is invalid'), 'invalid value for "f.when": the Date is invalid'],
    [Errors.missingName('function'), 'cannot name the params of an anonymous function: give the option `prefix`'],
    [Errors.missingName('class'), 'cannot name the params of an anonymous class: give the option `prefix`'],
    [
      Errors.paramConflict('r1', 'lr', '0.1', '0.2'),
      'param "lr" of run r1 is already "0.1" and cannot become "0.2" (MLflow params are immutable)'
    ],
    [Errors.taskFailed(new Error('out of memory')), 'task failed: out of memory'],
    [Errors.notFound('run', 'abc'), 'run "abc" not found'],
    [Errors.runEnded('abc'), 'run abc has ended and its handle stores nothing more: use reopen("abc", task) to log into it'],
    [Errors.invalidArtifactPath('../x', 'leaves the run'), 'invalid artifact path "../x": leaves the run'],
    [
      Errors.httpError(400, 'INVALID_PARAMETER_VALUE', 'bad key', 'runs/log-batch'),
      'runs/log-batch answered 400 INVALID_PARAMETER_VALUE: bad key'
    ],
    [Errors.networkError('connection refused', 'runs/create'), 'runs/create: connection refused'],
    [Errors.decodeError('runs/get', 'run.info.status', 'expected a string'), 'unexpected data from runs/get at run.info.status: expected a string'],
    [Errors.configError('MLFLOW_HTTP_REQUEST_TIMEOUT', 'expected a number'), 'MLFLOW_HTTP_REQUEST_TIMEOUT: expected a number'],
    [Errors.fileError('/tmp/missing.txt', 'no such file'), '/tmp/missing.txt: no such file'],
    [Errors.invalidQuery('metrics.a > x', 13, 'expected a number'), 'invalid query "metrics.a > x" at column 13: expected a number'],
    [Errors.regression('accuracy', { runId: 'r2', value: 0.9 }, { runId: 'r1', value: 0.95 }, 'accuracy 0.9 is worse than 0.95'), 'regression: accuracy 0.9 is worse than 0.95'],
    [Errors.notFound('metric', 'r1/accuracy'), 'metric "r1/accuracy" not found']
  ]
  for (const [error, sentence] of cases) t.equal(Errors.describeError(error), sentence, error._tag)
})

t.test('Unsynced says where the run is kept and the command that completes it', async (t) => {
  t.equal(
    Errors.describeError(Errors.unsynced('r1', '/home/u/.armory/mlruns', 'http://127.0.0.1:5000', 'npx charmory-track sync --to http://127.0.0.1:5000', Errors.networkError('connection refused', 'runs/log-batch'))),
    'runs/log-batch: connection refused; run r1 is kept in the local store /home/u/.armory/mlruns, everything logged to it included: ' +
      'once http://127.0.0.1:5000 is back, complete it there with `npx charmory-track sync --to http://127.0.0.1:5000`'
  )
})

t.test('taskFailed wraps what a user function threw', async (t) => {
  const cause = new RangeError('index 7 out of range')
  t.strictSame(Errors.taskFailed(cause), { _tag: 'TaskFailed', message: 'index 7 out of range', cause })
  t.strictSame(Errors.taskFailed('plain string'), { _tag: 'TaskFailed', message: 'plain string', cause: 'plain string' })
  t.strictSame(Errors.taskFailed(undefined), { _tag: 'TaskFailed', message: 'undefined', cause: undefined })
})

t.test('taskFailed keeps the typed error of a TrackException instead of wrapping it twice', async (t) => {
  const error = Errors.invalidKey('bad//key', 'contains "//"')
  t.equal(Errors.taskFailed(new Errors.TrackException(error)), error)
})

t.test('TrackException is an Error carrying the typed error, named after its tag', async (t) => {
  const error = Errors.notFound('experiment', '42')
  const failure = new Errors.TrackException(error)
  t.ok(failure instanceof Error)
  t.equal(failure.error, error)
  t.equal(failure.message, 'experiment "42" not found')
  t.equal(failure.name, 'TrackException(NotFound)')
})

t.test('RunEnded is one of the library\'s errors', async (t) => {
  t.ok(Errors.isTrackError(Errors.runEnded('abc')))
})
