import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  describe,
  evaluate,
  listRuns,
  run,
  sinkFromEnv,
  sinkFromEnvEither,
  trackingTargetFromEnv,
  type FallbackMode,
  type Fetch,
  type Sink
} from 'charmory-track'
import { captureLogger } from '../support/behaviour.js'
import { left, right, tempDir, withVars } from '../support/local-store.js'

/** A transport that records every request and answers with `status` (or fails to connect). */
const recording = (status: number | 'refused') => {
  const requests: Array<{ url: string; headers: Record<string, string> }> = []
  const fetch: Fetch = async (url, init) => {
    requests.push({ url, headers: init.headers })
    if (status === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
    return {
      status,
      headers: { get: () => null },
      text: async () => JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'down for maintenance' }),
      arrayBuffer: async () => new ArrayBuffer(0)
    }
  }
  return { fetch, requests }
}

const noRetries = { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }

t.test('without MLFLOW_TRACKING_URI, runs go to the local store in $ARMORY_HOME/mlruns', async (t) => {
  const home = tempDir(t)
  const sink = sinkFromEnv({ env: {}, home })
  t.equal(sink.name, `local:${join(home, '.armory', 'mlruns')}`)
  const done = right(await run(evaluate({ experiment: 'e' }, () => ({ a: 1 })), { sink }))
  t.strictSame(
    right(await listRuns(join(home, '.armory', 'mlruns'))()).map((r) => r.runId),
    [done.runId]
  )
  t.equal(sinkFromEnv({ env: { MLFLOW_TRACKING_URI: '  ' }, home }).name, `local:${join(home, '.armory', 'mlruns')}`)
  t.equal(sinkFromEnv({ env: { ARMORY_HOME: join(home, 'a') }, home }).name, `local:${join(home, 'a', 'mlruns')}`)
})

t.test('a file: URI or a plain path is the local store in that folder', async (t) => {
  const cwd = '/work/somewhere'
  const dirOf = (uri: string) => {
    const target = right(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: uri }, home: '/home/ada', cwd }))
    return target._tag === 'Local' ? target.dir : 'not local'
  }
  t.equal(dirOf('file:///data/runs'), '/data/runs')
  t.equal(dirOf('file:///data/my%20runs'), '/data/my runs')
  t.equal(dirOf('file:runs'), '/work/somewhere/runs')
  t.equal(dirOf('file:./my%20runs'), '/work/somewhere/my runs')
  t.equal(dirOf('/data/runs'), '/data/runs')
  t.equal(dirOf('mlruns'), '/work/somewhere/mlruns')
  t.equal(dirOf('./a:b'), '/work/somewhere/a:b')
  for (const bad of ['file://otherhost/data', 'file:%E0%A4%A']) {
    t.match(left(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: bad }, cwd })), {
      _tag: 'ConfigError',
      variable: 'MLFLOW_TRACKING_URI',
      message: /file:\/\/\/absolute\/path/
    })
  }
})

t.test('an http(s) URI is the MLflow server, configured from the environment', async (t) => {
  const home = tempDir(t)
  const { fetch, requests } = recording(503)
  const sink = sinkFromEnv({
    env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999/', MLFLOW_TRACKING_TOKEN: 'tok-123', ...noRetries },
    home,
    fetch
  })
  t.equal(sink.name, 'mlflow:http://127.0.0.1:5999')
  const result = await run(evaluate({ experiment: 'e' }, () => undefined), { sink })
  t.match(left(result), { _tag: 'HttpError', status: 503 }, 'no retry: the retry policy comes from the environment')
  t.equal(requests.length, 1)
  t.match(requests[0], { url: /^http:\/\/127\.0\.0\.1:5999\/api\/2\.0\/mlflow\/experiments\/get-by-name/, headers: { authorization: 'Bearer tok-123' } })

  mkdirSync(join(home, '.mlflow'))
  writeFileSync(join(home, '.mlflow', 'credentials'), '[mlflow]\nmlflow_tracking_username = ada\nmlflow_tracking_password = s3cret-pass\n')
  const basic = recording(503)
  const withFile = sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'https://mlflow.example:8443', ...noRetries }, home, fetch: basic.fetch })
  t.equal(withFile.name, 'mlflow:https://mlflow.example:8443')
  await run(evaluate({ experiment: 'e' }, () => undefined), { sink: withFile })
  t.equal(basic.requests[0]?.headers['authorization'], `Basic ${Buffer.from('ada:s3cret-pass').toString('base64')}`, 'the credentials file is read from home')
  t.match(right(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://u:p@host' } })), {
    config: { trackingUri: 'http://host', auth: { _tag: 'Basic', username: 'u', password: 'p' } }
  }, 'credentials in the URI are Basic auth')
})

t.test('any other store is a ConfigError that says to run a server on it, without echoing it', async (t) => {
  for (const uri of ['sqlite:///mlflow.db', 'postgresql://ada:hunter2@db/mlflow', 'mysql+pymysql://x', 'databricks', 'databricks://profile', 'databricks-uc', 'DataBricks']) {
    const e = left(sinkFromEnvEither({ env: { MLFLOW_TRACKING_URI: uri } }))
    t.match(e, { _tag: 'ConfigError', variable: 'MLFLOW_TRACKING_URI', message: /mlflow server --backend-store-uri/ }, uri)
    t.notOk(describe(e).includes('hunter2'), 'no password in the message')
  }
  t.match(left(sinkFromEnvEither({ env: { MLFLOW_TRACKING_URI: 'sqlite:///x.db' } })), { message: /a "sqlite:" store/ })
  t.match(left(sinkFromEnvEither({ env: { MLFLOW_TRACKING_URI: 'databricks' } })), { message: /a Databricks store/ })
})

t.test('sinkFromEnv does not throw: its sink fails every operation with the configuration error', async (t) => {
  const sink = sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' } })
  t.equal(sink.name, 'unusable (ConfigError)')
  t.match(left(await run(evaluate({ experiment: 'e' }, () => undefined), { sink })), { _tag: 'ConfigError' })
  t.match(left(await sink.openRun({ experimentId: '1', runName: 'r', startTime: 1, tags: [] })()), { _tag: 'ConfigError' })
  t.match(left(await sink.reopenRun('r')()), { _tag: 'ConfigError' })
})

t.test('CHARMORY_TRACK_FALLBACK=local falls back to the local store when the server cannot be reached', async (t) => {
  const home = tempDir(t)
  const { fetch } = recording('refused')
  const { logger, warnings } = captureLogger()
  const env = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999', CHARMORY_TRACK_FALLBACK: 'local', ...noRetries }
  const sink = sinkFromEnv({ env, home, fetch, logger })
  const store = join(home, '.armory', 'mlruns')
  t.equal(sink.name, `mlflow:http://127.0.0.1:5999 (falling back to local:${store})`)
  const done = right(await run(evaluate({ experiment: 'e' }, () => ({ a: 1 })), { sink }))
  t.equal(warnings.length, 1)
  t.strictSame(right(await listRuns(store)()).map((r) => [r.runId, r.status, r.synced]), [[done.runId, 'FINISHED', false]])

  const target = (extra: Record<string, string>, fallback?: boolean) =>
    right(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://h:1', ...extra }, home, fallback }))
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'LOCAL ' }), { _tag: 'Mlflow', fallback: true, localDir: store })
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'off' }), { fallback: false })
  t.match(target({ CHARMORY_TRACK_FALLBACK: '' }), { fallback: false })
  t.match(target({}), { fallback: false })
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'off' }, true), { fallback: true }, 'the option wins')
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'local' }, false), { fallback: false })
  t.match(left(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://h:1', CHARMORY_TRACK_FALLBACK: 'yes' } })), {
    _tag: 'ConfigError',
    variable: 'CHARMORY_TRACK_FALLBACK',
    message: /journal .*, local .* or off/
  })
})

t.test('a server sink journals its runs in the local store unless CHARMORY_TRACK_FALLBACK=off', async (t) => {
  const home = tempDir(t)
  const store = join(home, '.armory', 'mlruns')
  const target = (extra: Record<string, string>, fallback?: boolean | FallbackMode) =>
    right(trackingTargetFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://h:1', ...extra }, home, fallback }))
  t.match(target({}), { fallback: false, journal: true, localDir: store }, 'the default')
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'Journal' }), { fallback: false, journal: true })
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'local' }), { fallback: true, journal: true })
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'off' }), { fallback: false, journal: false })
  t.match(target({}, 'off'), { fallback: false, journal: false }, 'the option wins')
  t.match(target({ CHARMORY_TRACK_FALLBACK: 'off' }, 'journal'), { fallback: false, journal: true })
  t.match(target({}, 'local'), { fallback: true, journal: true })
  t.match(target({}, false), { journal: false })

  const sinkFor = (vars: Record<string, string>): Sink & { journal?: unknown } =>
    sinkFromEnv({ env: { MLFLOW_TRACKING_URI: 'http://h:1', ...vars }, home })
  t.strictSame(sinkFor({}).journal, { dir: store }, 'run journals it in the store of the environment')
  t.equal(sinkFor({ CHARMORY_TRACK_FALLBACK: 'off' }).journal, false)
  t.notOk('journal' in sinkFor({ CHARMORY_TRACK_FALLBACK: 'local' }), 'the fallback journals by itself')
})

t.test('by default the process environment, home and working directory are read', async (t) => {
  withVars(t, { MLFLOW_TRACKING_URI: 'file:some-runs' })
  t.strictSame(trackingTargetFromEnv(), E.right({ _tag: 'Local', dir: resolve('some-runs') }))
  t.equal(sinkFromEnv().name, `local:${resolve('some-runs')}`)
  delete process.env['MLFLOW_TRACKING_URI']
  const home = process.env['ARMORY_HOME'] === undefined ? join(homedir(), '.armory') : resolve(process.env['ARMORY_HOME'])
  t.strictSame(trackingTargetFromEnv(), E.right({ _tag: 'Local', dir: join(home, 'mlruns') }))
})
