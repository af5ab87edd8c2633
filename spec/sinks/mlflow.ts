// Unit behaviour of the MLflow sink that a real server cannot be made to show on demand
// (creation races, a server that does not proxy artifacts, odd configurations), over a
// scripted transport. The sink against a real server: spec/integration/mlflow-*.ts.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, Platform, Runtime, evaluate, Mlflow, mlflowSink, nodePlatform, openSink, run } from 'charmory-track'
import { nodeLocalStore, nodeServices } from '../../lib/runtime/node.js'
import { entryBatches } from '../../lib/mlflow/MlflowSink.js'
import { scriptedTransport } from '../support/scripted-transport.js'
import { built } from '../support/sinks.js'

const quiet: Platform.Logger = { warn: () => undefined, info: () => undefined }
const info = (artifact_uri: string) => ({ run_id: 'r1', experiment_id: '3', status: 'RUNNING', artifact_uri })

t.test('params and tags split by count and by the 1 MB body limit', async (t) => {
  const many = Array.from({ length: 250 }, (_, i) => [`k${i}`, 'v'] as const)
  t.strictSame(entryBatches('params', many).map((b) => b.length), [100, 100, 50])
  const big = Array.from({ length: 3 }, (_, i) => [`k${i}`, '"'.repeat(Mlflow.LIMITS.tagValue * 40)] as const)
  t.strictSame(entryBatches('tags', big).map((b) => b.length), [1, 1, 1], 'escaped quotes count double')
  t.strictSame(entryBatches('tags', []), [])
})

t.test('an unusable address or certificate file: no throw, a ConfigError from run and from openSink', async (t) => {
  for (const uri of ['not a url', 'ftp://x', 'http://', 'sqlite:///mlflow.db']) {
    const sink = mlflowSink(uri)
    const error = { _tag: 'ConfigError', variable: 'the address given to mlflowSink' }
    t.equal(sink.name, 'mlflow:(unusable)', uri)
    t.match(await run(evaluate({ experiment: 'e' }, () => undefined), { sink }), { left: error })
    t.match(await openSink(sink), { left: error })
  }
  const missing = join(tmpdir(), 'charmory-no-such-dir', 'ca.pem')
  for (const [vars, variable] of [
    [{ MLFLOW_TRACKING_SERVER_CERT_PATH: missing }, 'tls.caCertPath (MLFLOW_TRACKING_SERVER_CERT_PATH)'],
    [{ MLFLOW_TRACKING_CLIENT_CERT_PATH: missing }, 'tls.clientCertPath (MLFLOW_TRACKING_CLIENT_CERT_PATH)']
  ] as const) {
    const config = Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'https://mlflow.example:8443', ...vars })
    if (E.isLeft(config)) throw new Error('config')
    const sink = mlflowSink(config.right)
    t.match(await run(evaluate({ experiment: 'e' }, () => undefined), { sink }), {
      left: { _tag: 'ConfigError', variable, message: `the file ${missing} cannot be read (ENOENT)` }
    })
  }
})

t.test('the journal: on by default where the platform has a local store, off by option or CHARMORY_TRACK_FALLBACK=off', async (t) => {
  const answers = scriptedTransport(() => ({ status: 200, body: { experiment: { experiment_id: '4', name: 'e' } } }))
  const dir = mkdtempSync(join(tmpdir(), 'charmory-journal-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const journaled = (s: { readonly name: string }): boolean => s.name.includes('journaled in')
  const cases = [
    ['by default', {}, {}, true],
    ['journal: false', { journal: false }, {}, false],
    ['CHARMORY_TRACK_FALLBACK=off', {}, { CHARMORY_TRACK_FALLBACK: ' OFF ' }, false],
    ['journal: { dir } wins over the variable', { journal: { dir } }, { CHARMORY_TRACK_FALLBACK: 'off' }, true]
  ] as const
  for (const [what, options, vars, expected] of cases) {
    const sink = await built(mlflowSink('http://mlflow.test', { fetch: answers.fetch, ...options }), { vars: { ARMORY_HOME: dir, ...vars } }, nodeServices)
    t.equal(journaled(sink), expected, what)
    t.match(await sink.experiment('e')(), { right: '4' })
    await sink.close()
  }
  const noStore = await built(mlflowSink('http://mlflow.test', { fetch: answers.fetch }))
  t.notOk(journaled(noStore), 'no journal on a platform without a local store')
  await noStore.close()
  const blocked = join(dir, 'blocked')
  writeFileSync(blocked, 'a file where the store would go')
  let closed = false
  const unjournaled = await Runtime.runIn(
    { ...nodePlatform, transport: () => TE.right({ fetch: answers.fetch, close: () => void (closed = true) }) },
    { localStore: (p) => ({ ...nodeLocalStore(p.vars, p.home ?? dir, dir), around: () => TE.left(Errors.fileError(blocked, 'not a folder')) }) }
  ).openSink(mlflowSink('http://mlflow.test', { journal: { dir: join(blocked, 'store') } }))
  t.match(unjournaled, { left: { _tag: 'FileError' } }, 'a journal that cannot be opened is the build\'s error')
  t.ok(closed, 'and the connections are released')
})

t.test('credentials in the address are Basic auth and never appear in the sink\'s name', async (t) => {
  const seen: Array<{ url: string; headers: Record<string, string> }> = []
  const answered = scriptedTransport(() => ({ status: 200, body: { experiment: { experiment_id: '4', name: 'e' } } }))
  const fetch: Platform.Fetch = (url, init) => {
    seen.push({ url, headers: init.headers })
    return answered.fetch(url, init)
  }
  const sink = await built(mlflowSink('http://ada:s3cret%21@127.0.0.1:5000', { fetch }))
  t.equal(sink.name, 'mlflow:http://127.0.0.1:5000')
  t.match(await sink.experiment('e')(), { right: '4' })
  t.equal(seen[0]?.headers['authorization'], `Basic ${Buffer.from('ada:s3cret!').toString('base64')}`)
  t.equal(seen[0]?.url, 'http://127.0.0.1:5000/api/2.0/mlflow/experiments/get-by-name?experiment_name=e')
})

t.test('a creation race resolves to the experiment that won; the id is then cached', async (t) => {
  let gets = 0
  const { fetch, calls } = scriptedTransport((method, path) => {
    if (path === 'mlflow/experiments/get-by-name') {
      gets++
      return gets === 1
        ? { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no' } }
        : { status: 200, body: { experiment: { experiment_id: '9', name: 'e' } } }
    }
    if (path === 'mlflow/experiments/create') return { status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'raced' } }
    return undefined
  })
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }), { logger: quiet })
  t.strictSame(await sink.experiment('e')(), E.right('9'))
  t.strictSame(await sink.experiment('e')(), E.right('9'))
  t.strictSame(calls, [
    'GET mlflow/experiments/get-by-name',
    'POST mlflow/experiments/create',
    'GET mlflow/experiments/get-by-name'
  ])
  await sink.close()
})

t.test('other refusals while finding or creating an experiment are passed on', async (t) => {
  const denied = scriptedTransport(() => ({ status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'no' } }))
  t.match(await (await built(mlflowSink('http://mlflow.test', { fetch: denied.fetch }))).experiment('e')(), { left: { errorCode: 'PERMISSION_DENIED' } })
  const createFails = scriptedTransport((_m, path) =>
    path.endsWith('get-by-name')
      ? { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no' } }
      : { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad name' } }
  )
  t.match(await (await built(mlflowSink('http://mlflow.test', { fetch: createFails.fetch }))).experiment('e')(), {
    left: { errorCode: 'INVALID_PARAMETER_VALUE' }
  })
})

t.test('a server that does not proxy artifacts gives a ConfigError saying how to fix it', async (t) => {
  const { fetch } = scriptedTransport((_m, path) =>
    path === 'mlflow/runs/create' ? { status: 200, body: { run: { info: info('/srv/mlruns/3/r1/artifacts') } } } : undefined
  )
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }))
  const run = await sink.openRun({ experimentId: '3', runName: 'r', startTime: 0, tags: [] })()
  t.ok(E.isRight(run))
  if (E.isRight(run)) {
    t.match(await run.right.logArtifact('a.txt', Uint8Array.of(1))(), { left: { _tag: 'ConfigError', message: /--serve-artifacts/ } })
  }
})

t.test('a reopened run knows its params: a changed value is a ParamConflict before any request', async (t) => {
  const { fetch, calls } = scriptedTransport((_m, path) =>
    path === 'mlflow/runs/get'
      ? { status: 200, body: { run: { info: info('mlflow-artifacts:/3/r1/artifacts'), data: { params: [{ key: 'lr', value: '0.1' }] } } } }
      : undefined
  )
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }))
  const run = await sink.reopenRun('r1')()
  if (E.isLeft(run)) return t.fail('reopen failed')
  t.match(await run.right.logParams([['lr', '0.2']])(), { left: { _tag: 'ParamConflict', key: 'lr', recorded: '0.1', attempted: '0.2' } })
  t.strictSame(await run.right.logParams([['lr', '0.1']])(), E.right(undefined), 'the same value again is fine')
  t.strictSame(calls, ['GET mlflow/runs/get'], 'nothing was sent for either')
  // a run that has no data yet reads as having no params
  const bare = scriptedTransport(() => ({ status: 200, body: { run: { info: info('mlflow-artifacts:/3/r1/artifacts'), data: {} } } }))
  t.ok(E.isRight(await (await built(mlflowSink('http://mlflow.test', { fetch: bare.fetch }))).reopenRun('r1')()))
})

t.test('reopening a run the server does not know is a NotFound; other refusals are passed on', async (t) => {
  const { fetch } = scriptedTransport((_m, path, _b, query) =>
    path !== 'mlflow/runs/get'
      ? undefined
      : query.get('run_id') === 'gone'
        ? { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Run with id=gone not found" } }
        : { status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'not yours' } }
  )
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }), { logger: quiet })
  t.strictSame(await sink.reopenRun('gone')(), E.left(Errors.notFound('run', 'gone')))
  t.match(await sink.reopenRun('theirs')(), E.left({ _tag: 'HttpError', status: 403, errorCode: 'PERMISSION_DENIED' }))
  await sink.close()
})

t.test('an over-long value is compared as MLflow stores it (truncated)', async (t) => {
  const long = 'y'.repeat(Mlflow.LIMITS.paramValue + 10)
  const logged: Array<unknown> = []
  const { fetch } = scriptedTransport((_m, path, body) => {
    if (path === 'mlflow/runs/create') return { status: 200, body: { run: { info: info('mlflow-artifacts:/3/r1/artifacts') } } }
    if (path === 'mlflow/runs/log-batch') logged.push(body)
    return undefined
  })
  const warnings: Array<string> = []
  const sink = await built(mlflowSink('http://mlflow.test', { fetch }), { logger: { warn: (m) => void warnings.push(m), info: () => undefined } })
  const run = await sink.openRun({ experimentId: '3', runName: 'r', startTime: 0, tags: [['big', 'z'.repeat(Mlflow.LIMITS.tagValue + 1)]] })()
  if (E.isLeft(run)) return t.fail('open failed')
  t.strictSame(await run.right.logParams([['p', long]])(), E.right(undefined))
  t.strictSame(await run.right.logParams([['p', long]])(), E.right(undefined), 'logging it again is not a conflict')
  t.equal(logged.length, 1, 'and sends nothing the second time')
  t.strictSame(warnings, [], 'cut as the server cuts them, silently (evaluate and reopen warn, and keep a long param whole as an artifact)')
})

t.test('loadMlflowConfig reads ~/.mlflow/credentials under the platform\'s home', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'charmory-home-'))
  mkdirSync(join(home, '.mlflow'))
  writeFileSync(join(home, '.mlflow', 'credentials'), '[mlflow]\nmlflow_tracking_username = u\nmlflow_tracking_password = p\n')
  const load = (vars: Record<string, string>, at: string | undefined) => Mlflow.loadMlflowConfig({ ...nodePlatform, vars, home: at })()
  t.match(await load({ MLFLOW_TRACKING_URI: 'http://h' }, home), { right: { auth: { _tag: 'Basic', username: 'u' } } })
  t.match(await load({ MLFLOW_TRACKING_URI: 'http://h' }, tmpdir() + '/charmory-no-such-home'), { right: { auth: { _tag: 'None' } } })
  t.match(await load({ MLFLOW_TRACKING_URI: 'http://h' }, undefined), { right: { auth: { _tag: 'None' } } }, 'no home, no file')
  const broken = mkdtempSync(join(tmpdir(), 'charmory-home-'))
  mkdirSync(join(broken, '.mlflow', 'credentials'), { recursive: true })
  t.match(await load({ MLFLOW_TRACKING_URI: 'http://h' }, broken + '/'), {
    left: { _tag: 'ConfigError', variable: join(broken, '.mlflow', 'credentials'), message: /cannot be read: EISDIR/ }
  })
  const odd = await Mlflow.loadMlflowConfig({ vars: { MLFLOW_TRACKING_URI: 'http://h' }, home, files: { ...nodePlatform.files, readFile: () => TE.left(Errors.configError('x', 'y')) } })()
  t.match(odd, { left: { _tag: 'ConfigError', message: 'cannot be read: ConfigError' } })
  t.match(await Mlflow.loadMlflowConfig({ ...nodePlatform, vars: { MLFLOW_TRACKING_URI: 'ftp://h' } }, { uriSource: '--to' })(), { left: { variable: '--to' } })
})
